// Issue #10: the kinds behind corpus6's misses and false alarms, as table-driven synthetic runs (the
// recorded example, other members of the kind at other scales and logging habits, and healthy
// near-misses), each with the exact code it must or must not raise.
import { describe, expect, test } from "vitest";
import { activationOf } from "../../../lib/diagnostics/context";
import { resolveKeys, seriesReader } from "../../../lib/diagnostics/keys";
import type { SeriesPoints } from "../../../lib/diagnostics/types";
import { gauss, makeRun, series, type RunSpec } from "./synth";
import { type Case, check } from "./kind-case";

/** A minibatch loss over n steps following level(progress), relative noise `noise`. */
function lossCurve(level: (p: number) => number, n: number, noise = 0.05, seed = 3, every = 1): SeriesPoints {
  const g = gauss(seed);
  return series(n, (_, p) => Math.max(1e-4, level(p) * (1 + noise * g())), every, 0);
}

// ---- underfitting: judged on where the run heads, with the precision of what it is read from ----

interface Fit {
  C: number;
  /** evaluations logged so far, one every `every` steps */
  evals: number;
  every: number;
  /** accuracy at progress p (0..1 of the evaluations logged) */
  acc: (p: number) => number;
  valOffset?: number;
  /** training loss level at progress p */
  loss: (p: number) => number;
  lossNoise?: number;
  sizes?: { train_size: number; val_size: number } | null;
  finished: boolean;
  keys?: { loss: string; acc: string; valAcc: string; valLoss: string };
}

function fitRun(f: Fit): RunSpec {
  const k = f.keys ?? { loss: "train/loss", acc: "train/acc", valAcc: "val/acc", valLoss: "val/loss" };
  const g = gauss(11);
  const steps = f.evals * f.every;
  const at = (i: number) => (i + 1) / f.evals;
  return {
    config: { num_classes: f.C, batch_size: 32, ...(f.sizes === null ? {} : (f.sizes ?? { train_size: 2400, val_size: 600 })) },
    series: {
      [k.loss]: lossCurve((p) => f.loss(p * (steps / (f.evals * f.every))), steps, f.lossNoise ?? 0.05),
      [k.acc]: series(f.evals, (i) => Math.min(0.999, f.acc(at(i)) + 0.004 * g()), f.every, f.every),
      [k.valAcc]: series(f.evals, (i) => Math.min(0.999, f.acc(at(i)) + (f.valOffset ?? 0) + 0.004 * g()), f.every, f.every),
      [k.valLoss]: series(f.evals, (i) => f.loss(at(i)) * (1 + 0.01 * g()), f.every, f.every),
    },
    finished: f.finished,
  };
}

/** accuracy approaching `to` from chance, time constant tau (share of the evaluations) */
const approach = (C: number, to: number, tau: number) => (p: number) => to - (to - 1 / C) * Math.exp(-p / tau);

describe("underfitting: a healthy run is not judged on a step of its accuracy or at its data's noise floor", () => {
  // C6-H-TOKENS-BIGRU 40% into its run: accuracy 0.29, 0.34, 0.55, 0.78, 0.64, 0.74, 0.72, 0.60, 0.64, while the
  // loss falls 1.35 -> 0.86 over the latest evaluations (it ends at 0.97 accuracy)
  const stairs = [0.29, 0.34, 0.55, 0.78, 0.64, 0.74, 0.72, 0.6, 0.64];
  const stairAcc = (p: number) => stairs[Math.min(stairs.length - 1, Math.round(p * stairs.length) - 1)];
  test.each<Case>([
    {
      name: "bidirectional GRU, 4 classes, eval twice an epoch: accuracy in steps while the loss falls fast (live)",
      spec: fitRun({
        C: 4,
        evals: 9,
        every: 21,
        acc: stairAcc,
        valOffset: -0.03,
        loss: (p) => (p < 0.5 ? 1.38 - 0.06 * p : 1.35 - 0.9 * (p - 0.5)),
        finished: false,
      }),
      raised: false,
    },
    {
      name: "a Transformer on 10 classes, Keras keys: accuracy flat at 0.55 for four evaluations while the loss keeps falling (live)",
      spec: fitRun({
        C: 10,
        evals: 12,
        every: 50,
        acc: (p) => (p < 0.4 ? 0.1 + 1.1 * p : 0.55),
        valOffset: -0.01,
        loss: (p) => 2.3 * Math.exp(-1.6 * p),
        finished: false,
        keys: { loss: "loss", acc: "accuracy", valAcc: "val_accuracy", valLoss: "val_loss" },
      }),
      raised: false,
    },
    {
      // C6-H-SHAPES-DWSEP seed 1: noisy 12x12 shapes, 4 classes, train 0.886 / val 0.895 heading for 0.90-0.92
      name: "depthwise-separable CNN on noisy shapes (4 classes): heading for an error at the data's floor within its noise, at the finish",
      spec: fitRun({
        C: 4,
        evals: 10,
        every: 60,
        acc: approach(4, 0.9, 0.25),
        valOffset: 0.01,
        loss: (p) => 0.32 + 1.06 * Math.exp(-p / 0.3),
        finished: true,
      }),
      raised: false,
    },
    {
      name: "a noisy 6-class tabular task at 0.88 / 0.885, 300 validation rows, at the finish",
      spec: fitRun({
        C: 6,
        evals: 15,
        every: 40,
        acc: approach(6, 0.885, 0.3),
        valOffset: 0.004,
        loss: (p) => 0.38 + 1.4 * Math.exp(-p / 0.3),
        sizes: { train_size: 1200, val_size: 300 },
        finished: true,
      }),
      raised: false,
    },
    {
      // C6-UF-TINY-DWSEP: the same task two channels wide ends at 0.69 / 0.68
      name: "the same CNN two channels wide: heading for 0.69 / 0.68, at the finish",
      spec: fitRun({
        C: 4,
        evals: 12,
        every: 60,
        acc: approach(4, 0.7, 0.35),
        valOffset: -0.012,
        loss: (p) => 0.8 + 0.58 * Math.exp(-p / 0.35),
        finished: true,
      }),
      raised: true,
    },
    {
      name: "a GRU too narrow for 8 classes, live: accuracy creeping towards 0.55 while the loss has stopped falling",
      spec: fitRun({
        C: 8,
        evals: 15,
        every: 40,
        acc: approach(8, 0.56, 0.25),
        valOffset: -0.01,
        loss: (p) => 1.25 + 0.83 * Math.exp(-p / 0.12),
        lossNoise: 0.08,
        finished: false,
      }),
      raised: true,
    },
  ])("$name -> raised: $raised", (c) => {
    check("underfitting", c);
  });
});

// ---- dead_relu: only activations that have a dead state ----

describe("activationOf: a name counts where no letter comes right before it", () => {
  test.each<[Record<string, unknown>, string | null]>([
    [{ activation: "relu" }, "relu"],
    [{ model: "CNN conv16-GN-ReLU-conv32-ReLU-fc64, biases -3" }, "relu"],
    [{ model: "MLP 16-64x8-6 SiLU, init N(0, 0.6)" }, "silu"],
    [{ model: "MLP 4-64-64-3 Mish" }, "mish"],
    [{ hyperparams: { activation: "GELU" } }, "gelu"],
    [{ activation: "LeakyReLU(0.1)" }, "leakyrelu"],
    [{ activation: "nn.ELU" }, "elu"],
    [{ activation: "PReLU" }, "prelu"],
    [{ activation: "Hardswish" }, "hardswish"],
    [{ model: "MLP 13-64-64-3" }, null],
  ])("%j -> %s", (config, want) => {
    expect(activationOf(config)).toBe(want);
  });
});

/** A net whose layers report the given per-batch "dead" shares (units <= 0 on the whole batch). */
function deadShares(activation: Record<string, unknown>, shares: Record<string, number>): RunSpec {
  const g = gauss(5);
  const out: Record<string, SeriesPoints> = {
    "train/loss": lossCurve(() => Math.log(6), 400, 0.02),
    "train/acc": series(10, () => 1 / 6 + 0.01 * g(), 40, 40),
    "val/acc": series(10, () => 1 / 6 + 0.01 * g(), 40, 40),
  };
  for (const [layer, share] of Object.entries(shares))
    out[`act/${layer}/dead_frac`] = series(40, () => Math.min(1, Math.max(0, share + 0.005 * g())), 10, 0);
  return { config: { num_classes: 6, batch_size: 32, ...activation }, series: out };
}

describe("dead_relu: a unit <= 0 on a batch is dead only under an activation with a dead state", () => {
  test.each<Case>([
    {
      name: "ReLU MLP, hidden biases at -4: 97% of a layer's units silent (raised)",
      spec: deadShares({ activation: "relu" }, { fc1: 0.97, fc2: 0.95 }),
      raised: true,
    },
    {
      name: "config says nothing of the activation: read as ReLU (raised)",
      spec: deadShares({}, { fc1: 0.97 }),
      raised: true,
    },
    {
      // C6-EXP-DEEP-SILU seed 1: activations grow ~x3 a layer, the last layer's inputs all far below 0
      name: "9 SiLU layers whose activations explode: the last reads 100% <= 0",
      spec: deadShares({ model: "MLP 16-64x8-6 SiLU, init N(0, 0.6)" }, { "12": 0.68, "14": 1 }),
      raised: false,
    },
    {
      name: "a GELU Transformer's feed-forward layer: 95% <= 0 on a batch",
      spec: deadShares({ activation: "gelu" }, { "ff.0": 0.95 }),
      raised: false,
    },
    { name: "LeakyReLU: 96% of units <= 0", spec: deadShares({ activation: "LeakyReLU(0.01)" }, { fc1: 0.96 }), raised: false },
    { name: "ELU in hyperparams: 93% of units <= 0", spec: deadShares({ hyperparams: { activation: "elu" } }, { fc1: 0.93 }), raised: false },
  ])("$name -> raised: $raised", (c) => {
    check("dead_relu", c);
  });
});

/** A ReLU net whose layer of `units` units has `dead` of them silent on each batch (flicker of one unit). */
function unitShares(opts: { units: number; dead: number; points: number; acc: number | null; C?: number; steps?: number }): RunSpec {
  const { units, dead, points, acc, C = 6, steps = 400 } = opts;
  const g = gauss(9);
  const out: Record<string, SeriesPoints> = {
    ...(steps > 0 ? { "train/loss": lossCurve((p) => 1.2 + 0.6 * Math.exp(-p / 0.3), steps, 0.03) } : {}),
    "act/fc1/dead_frac": series(points, (i) => (dead - (i % 5 === 0 ? 1 : 0)) / units, 10, 0),
  };
  if (acc !== null) {
    out["train/acc"] = series(10, () => acc + 0.005 * g(), 40, 40);
    out["val/acc"] = series(10, () => acc - 0.01 + 0.005 * g(), 40, 40);
  }
  return { config: { num_classes: C, batch_size: 32, activation: "relu" }, series: out };
}

describe("dead_relu: a per-unit share moves in whole units, and a fresh layer is not yet a level", () => {
  test.each<Case>([
    // C6-OR-L1 seed 1: 20 of 64 units at the lowest batches, 0.3125 against a limit of 0.305
    {
      name: "20 of 64 units silent while the model falls short (0.63): one unit from the limit",
      spec: unitShares({ units: 64, dead: 20, points: 40, acc: 0.63 }),
      raised: false,
    },
    {
      name: "1 of a 2-unit layer silent on most batches, none on others (50% at most)",
      spec: unitShares({ units: 2, dead: 1, points: 40, acc: 0.5 }),
      raised: false,
    },
    {
      name: "an L1 penalty in the config (l1 = 5e-3): 26 of 64 units silent are its sparsity",
      spec: {
        ...unitShares({ units: 64, dead: 26, points: 40, acc: 0.6 }),
        config: { num_classes: 6, batch_size: 32, activation: "relu", l1: 0.005 },
      },
      raised: false,
    },
    {
      name: "30 of 64 units silent while the model falls short: a whole 9 units past the limit",
      spec: unitShares({ units: 64, dead: 30, points: 40, acc: 0.63 }),
      raised: true,
    },
    {
      name: "12 of 16 units silent (75%) while the model falls short",
      spec: unitShares({ units: 16, dead: 12, points: 40, acc: 0.55 }),
      raised: true,
    },
    // C3-H-GRU at 5% of its run: 0.59, 0.56, 0.53 on the first batches, 0.13 once it learned
    {
      name: "19 of 32 units silent on the first 4 batches, no evaluation yet",
      spec: unitShares({ units: 32, dead: 19, points: 4, acc: null, steps: 0 }),
      raised: false,
    },
    {
      name: "19 of 32 units silent for 12 batches, no evaluation yet",
      spec: unitShares({ units: 32, dead: 19, points: 12, acc: null, steps: 0 }),
      raised: true,
    },
  ])("$name -> raised: $raised", (c) => {
    check("dead_relu", c);
  });
});

// ---- lr_too_high: the share of each update ratio that weight decay takes is not the gradient's step ----

function ratios(config: Record<string, unknown>, ratio: number): RunSpec {
  const g = gauss(13);
  const out: Record<string, SeriesPoints> = {
    // held at chance: the loss stays near ln 4 from its start
    "train/loss": lossCurve(() => Math.log(4), 300, 0.01),
  };
  for (const layer of ["fc1", "fc2", "out"]) {
    out[`update_ratio/${layer}`] = series(60, () => ratio * (1 + 0.05 * g()), 5, 0);
    out[`weight/${layer}/std`] = series(60, (_, p) => 0.1 * (1 - 0.2 * p), 5, 0);
  }
  return { config: { num_classes: 4, batch_size: 64, ...config }, series: out };
}

describe("lr_too_high: update ratios read net of what weight decay takes a step", () => {
  test.each<Case>([
    // C3-OR-NESTEROV-COV: SGD Nesterov lr 0.02, wd 0.1, momentum 0.9: decay alone is 0.02 a step
    {
      name: "SGD Nesterov lr 0.02, weight decay 0.1, momentum 0.9: ratios 0.05 less the decay (0.02 a step) are 0.03",
      spec: ratios({ optimizer: "SGD(nesterov)", lr: 0.02, weight_decay: 0.1, momentum: 0.9 }, 0.05),
      raised: false,
    },
    {
      name: "AdamW lr 0.01, weight_decay 2: ratios 0.025 against a decay of 0.02 a step",
      spec: ratios({ optimizer: "AdamW", lr: 0.01, weight_decay: 2 }, 0.025),
      raised: false,
    },
    {
      name: "the same SGD without weight decay: ratios 0.05 are the steps'",
      spec: ratios({ optimizer: "SGD(nesterov)", lr: 0.02, momentum: 0.9 }, 0.05),
      raised: true,
    },
    {
      name: "SGD lr 0.5, wd 1e-4, momentum 0.9 (decay 5e-4 a step): ratios 0.05 far past it",
      spec: ratios({ optimizer: "SGD", lr: 0.5, weight_decay: 1e-4, momentum: 0.9 }, 0.05),
      raised: true,
    },
  ])("$name -> raised: $raised", (c) => {
    check("lr_too_high", c);
  });
});

// ---- bad_initial_loss: an L1 penalty the script adds to the loss is in its first value ----

function penalisedStart(config: Record<string, unknown>): RunSpec {
  // ln 6 = 1.79 plus an L1 term of 2: the first logged loss is 3.8, then the penalty shrinks
  return {
    config: { num_classes: 6, batch_size: 32, ...config },
    series: { "train/loss": lossCurve((p) => 1.0 + 2.8 * Math.exp(-p / 0.1), 400, 0.03) },
  };
}

describe("bad_initial_loss: not when the config names a penalty added to the loss (L1 as well as L2)", () => {
  test.each<Case>([
    { name: "C6-OR-L1: config l1 = 5e-3, first loss 3.8 against ln 6", spec: penalisedStart({ l1: 0.005 }), raised: false },
    { name: "l1_lambda in hyperparams", spec: penalisedStart({ hyperparams: { l1_lambda: 1e-4 } }), raised: false },
    { name: "lambda_l1 at the top", spec: penalisedStart({ lambda_l1: 0.01 }), raised: false },
    { name: "no penalty named: a start 2x ln C is the init's", spec: penalisedStart({}), raised: true },
  ])("$name -> raised: $raised", (c) => {
    check("bad_initial_loss", c);
  });
});

// ---- keys: an accuracy logged with its unit in the name ----

describe("resolveKeys: an accuracy named with a percent unit is that accuracy", () => {
  test.each<[string, "train_acc" | "val_acc"]>([
    ["train/acc_pct", "train_acc"],
    ["val/acc_pct", "val_acc"],
    ["val_accuracy_percent", "val_acc"],
    ["valid/acc (%)", "val_acc"],
    ["test_acc%", "val_acc"],
  ])("%s -> %s", (key, role) => {
    const run = makeRun({ series: { [key]: series(5, () => 86.7) } });
    expect(resolveKeys(run).scalars[role]?.key).toBe(key);
  });
  test("a name that only ends like a unit is not an accuracy (val/loss_pct stays unread as accuracy)", () => {
    const run = makeRun({ series: { "val/loss_pct": series(5, () => 12) } });
    expect(resolveKeys(run).scalars.val_acc).toBeUndefined();
  });
  test("the server holds such a series for the rules (seriesReader), and not a loss with the suffix", () => {
    const reads = seriesReader({});
    expect(reads("val/acc_pct")).toBe(true);
    expect(reads("train_accuracy_percent")).toBe(true);
    expect(reads("val/loss_pct")).toBe(false);
  });
  test("an exact alias wins over a unit-suffixed one", () => {
    const run = makeRun({ series: { "val/acc_pct": series(5, () => 80), "val/acc": series(5, () => 0.8) } });
    expect(resolveKeys(run).scalars.val_acc?.key).toBe("val/acc");
  });
});

describe("majority_class: read from an accuracy in percent named acc_pct (C6-MC-WEAK-F1)", () => {
  // 86% of the data in one of 4 classes: accuracy pinned at the majority share from the second epoch,
  // the validation loss sliding from ln 4 towards the priors' entropy
  const g = gauss(21);
  const spec: RunSpec = {
    config: { num_classes: 4, batch_size: 64, train_size: 1200, val_size: 400 },
    series: {
      "train/loss": lossCurve((p) => 0.5 + 0.9 * Math.exp(-p / 0.25), 285, 0.1),
      "val/loss": series(15, (_, p) => 0.5 + 0.85 * Math.exp(-p / 0.22), 19, 18),
      "train/acc_pct": series(15, (i) => (i === 0 ? 37 : i === 1 ? 75.9 : 86.7 + 0.05 * g()), 19, 18),
      "val/acc_pct": series(15, (i) => (i === 0 ? 33 : i === 1 ? 75.7 : 85.5 + 0.05 * g()), 19, 18),
    },
    finished: true,
  };
  test("raised", () => {
    check("majority_class", { name: "acc_pct", spec, raised: true });
  });
});
