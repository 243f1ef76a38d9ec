// Issue #10: the kinds behind corpus5's misses, as table-driven synthetic runs (the recorded example,
// other members of the kind at other scales and logging habits, and healthy near-misses), each with
// the exact code it must or must not raise.
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import type { HistogramRecord, SeriesPoints } from "../../../lib/diagnostics/types";
import { gauss, hist, makeRun, series, type RunSpec } from "./synth";
import { type Case, check } from "./kind-case";

/** A minibatch loss over n steps following level(progress), relative noise `noise`. */
function lossCurve(level: (p: number) => number, n = 400, noise = 0.05, seed = 3, every = 1): SeriesPoints {
  const g = gauss(seed);
  return series(n, (_, p) => Math.max(1e-4, level(p) * (1 + noise * g())), every, 0);
}

/** A per-layer series logged every 5 steps over 400 steps. */
const perLayer = (f: (p: number) => number, seed = 11, noise = 0.05) => {
  const g = gauss(seed);
  return series(80, (_, p) => f(p) * (1 + noise * g()), 5, 0);
};

// ---- saturated_activations: what the SDK logged beats the name's guess ----------------------------

/** ReLU activations: many exact zeros, a long right tail up to `hi`. */
const reluHist = (step: number, hi: number): HistogramRecord => hist(step, 0, hi, (x) => (x < hi / 30 ? 30 : Math.exp(-x / (hi / 4))));
/** Sigmoid activations piled at 0 and 1. */
const sigmoidSatHist = (step: number): HistogramRecord => hist(step, 0.001, 0.999, (x) => (x < 0.05 || x > 0.95 ? 20 : 0.5));

function reluLayers(names: string[], std: (p: number) => number, opts: { deadFrac?: boolean } = {}): Record<string, SeriesPoints> {
  const out: Record<string, SeriesPoints> = {};
  names.forEach((n, i) => {
    out[`act/${n}/mean`] = perLayer((p) => 0.6 * std(p), 20 + i);
    out[`act/${n}/std`] = perLayer(std, 30 + i);
    if (opts.deadFrac !== false) out[`act/${n}/dead_frac`] = perLayer(() => 0.05, 40 + i, 0.3);
  });
  return out;
}

const learning = (start: number, floor: number) => lossCurve((p) => floor + (start - floor) * Math.exp(-p / 0.25));

describe("saturated_activations: the logged layers decide, not the run's name", () => {
  const multilabelName = { model: "MLP 20-64-64-6, sigmoid outputs in the loss", loss: "BCEWithLogitsLoss", optimizer: "Adam", lr: 1e-3 };
  test.each<Case>([
    {
      // C5-H-MULTILABEL: ReLU hidden layers (dead_frac logged), std up to 0.7, first histograms in [0, 0.92]
      name: "multi-label ReLU MLP whose name says sigmoid: std 0.7, early histograms inside [0, 1]",
      spec: {
        config: multilabelName,
        series: { "train/loss": learning(0.7, 0.35), ...reluLayers(["fc1", "fc2"], (p) => 0.35 + 0.35 * p) },
        histograms: { "act/fc1": [reluHist(0, 0.92)], "act/fc2": [reluHist(0, 0.9)] },
      },
      raised: false,
    },
    {
      name: "config says activation sigmoid, but the layers log dead_frac (ReLU family), histograms in [0, 1]",
      spec: {
        config: { activation: "sigmoid", model: "MLP" },
        series: { "train/loss": learning(2.3, 0.2), ...reluLayers(["h1", "h2", "h3"], () => 0.6) },
        histograms: { "act/h1": [reluHist(0, 0.95), reluHist(50, 0.98)] },
      },
      raised: false,
    },
    {
      name: "name says tanh, no dead_frac logged, but the std (1.6) is beyond what tanh allows",
      spec: {
        config: { model: "GELU MLP with a tanh-squashed output" },
        series: { "train/loss": learning(2.3, 0.1), ...reluLayers(["fc1", "fc2"], () => 1.6, { deadFrac: false }) },
      },
      raised: false,
    },
    {
      name: "a real sigmoid net (no dead_frac; mean 0.5, std 0.49): raised from the std",
      spec: {
        config: { model: "sigmoid MLP 10x32" },
        series: {
          "train/loss": lossCurve(() => 2.3),
          "act/fc1/mean": perLayer(() => 0.5),
          "act/fc1/std": perLayer(() => 0.49, 31, 0.005),
        },
      },
      raised: true,
    },
    {
      name: "a real sigmoid net, histograms piled at 0 and 1: raised",
      spec: {
        config: { activation: "sigmoid" },
        series: { "train/loss": lossCurve(() => 2.3) },
        histograms: { "act/fc1": [sigmoidSatHist(0), sigmoidSatHist(50), sigmoidSatHist(100)] },
      },
      raised: true,
    },
    {
      name: "a tanh net with std 0.97 (no saturated_frac logged): raised",
      spec: {
        config: { model: "tanh MLP" },
        series: { "train/loss": lossCurve(() => 1.1), "act/fc1/mean": perLayer(() => 0.02), "act/fc1/std": perLayer(() => 0.97, 32, 0.005) },
      },
      raised: true,
    },
  ])("$name", (c) => {
    check("saturated_activations", c);
  });
});

// ---- lr_too_high: a jump of the logged lr that undoes what the run had learned --------------------

/** lr logged every 5 steps over n steps: `before` until progress `at`, then `after`. */
const lrSteps = (n: number, at: number, before: number, after: number, every = 5) =>
  series(Math.floor(n / every), (i) => (i * every >= at * n ? after : before), every, 0);

describe("lr_too_high: the logged lr jumps and the loss gives back what it had learned", () => {
  const cfg = { optimizer: "Adam", lr: 1e-3, num_classes: 10, batch_size: 32 };
  test.each<Case>([
    {
      // C5-LRH-RESTART-X100: 2.3 -> 0.05 in 250 steps, lr x100 at step 260, then 1.5 and noisy
      name: "a buggy warm restart x100 on digits: 0.05 back to 1.5 of a 2.3 start",
      spec: {
        config: { ...cfg, lr_schedule: "restart_x100" },
        series: {
          loss: lossCurve((p) => (p < 0.5 ? 0.05 + 2.25 * Math.exp(-p / 0.1) : 1.5), 520, 0.3),
          lr: lrSteps(520, 0.5, 1e-3, 0.1),
          val_accuracy: series(12, (i) => (i < 6 ? 0.95 : 0.27), 43, 42),
        },
      },
      raised: true,
    },
    {
      name: "loss logged once an epoch: lr x30 at epoch 8 of 15, loss 0.2 -> 0.9 of a 1.1 start (3 classes)",
      spec: {
        config: { ...cfg, num_classes: 3 },
        series: {
          loss: series(15, (i) => (i < 8 ? 0.2 + 0.9 * Math.exp(-i / 2) : 0.9), 20, 19),
          lr: series(15, (i) => (i < 8 ? 2e-3 : 6e-2), 20, 19),
        },
      },
      raised: true,
    },
    {
      name: "a regression in its own units: MSE 50 -> 1, lr x10, back to 25",
      spec: {
        config: { optimizer: "SGD", lr: 0.01, task: "regression", loss: "MSELoss" },
        series: {
          train_loss: lossCurve((p) => (p < 0.6 ? 1 + 49 * Math.exp(-p / 0.1) : 25), 600, 0.2),
          lr: lrSteps(600, 0.6, 0.01, 0.1),
        },
      },
      raised: true,
    },
    {
      name: "near miss: an SGDR restart back to the earlier peak lr, the loss bumps and falls again",
      spec: {
        config: cfg,
        series: {
          loss: lossCurve((p) => (p < 0.5 ? 0.1 + 2.2 * Math.exp(-p / 0.1) : 0.1 + 0.6 * Math.exp(-(p - 0.5) / 0.05)), 520, 0.1),
          lr: series(104, (i) => 1e-3 * (0.5 + 0.5 * Math.cos((Math.PI * (i % 52)) / 52)), 5, 0),
        },
      },
      raised: false,
    },
    {
      name: "near miss: a step-up of the lr (x10 after 10 points) that the loss keeps falling through",
      spec: {
        config: cfg,
        series: { loss: learning(2.3, 0.05), lr: lrSteps(400, 0.125, 1e-4, 1e-3) },
      },
      raised: false,
    },
    {
      name: "near miss: lr x10 late, the loss rises a little (0.05 -> 0.08)",
      spec: {
        config: cfg,
        series: { loss: lossCurve((p) => (p < 0.7 ? 0.05 + 2.25 * Math.exp(-p / 0.1) : 0.08), 500, 0.1), lr: lrSteps(500, 0.7, 1e-3, 1e-2) },
      },
      raised: false,
    },
  ])("$name", (c) => {
    const d = check("lr_too_high", c);
    if (c.raised) {
      expect(d!.evidence.lr_jump_step).toBeTypeOf("number");
      expect(d!.message).toMatch(/jumped from/);
    }
  });

  test("part-way, the jump with fewer than 3 loss points after it is not yet a collapse", () => {
    const spec: RunSpec = {
      config: { ...cfg, num_classes: 3 },
      series: {
        loss: series(10, (i) => (i < 8 ? 0.2 + 0.9 * Math.exp(-i / 2) : 0.9), 20, 19),
        lr: series(10, (i) => (i < 8 ? 2e-3 : 6e-2), 20, 19),
      },
    };
    expect(diagnose(makeRun(spec), { strict: true }).map((d) => d.code)).not.toContain("lr_too_high");
  });
});

describe("lr_too_high: a lone head's normalised steps are no sustained overshooting", () => {
  const flat = () => lossCurve(() => 1.1, 220, 0.02);
  test.each<Case>([
    {
      // C5-NL-LSTM-SHUFFLED: only the LSTM's linear head logs ratios; RMSprop 3e-3 on weights ~0.09
      name: "LSTM + RMSprop 3e-3, labels shuffled: the head alone at 0.036 all run",
      spec: {
        config: { optimizer: "RMSprop", lr: 3e-3, num_classes: 3, batch_size: 32, model: "LSTM(1->32), linear head" },
        series: { loss: flat(), "update_ratio/out": perLayer(() => 0.036, 12, 0.3), "weight/out/std": perLayer(() => 0.088) },
      },
      raised: false,
    },
    {
      name: "GRU + Adam 2e-3: the head alone at 0.04, loss falling",
      spec: {
        config: { optimizer: "Adam", lr: 2e-3, num_classes: 5 },
        series: { loss: learning(1.6, 0.3), "update_ratio/head": perLayer(() => 0.04, 13, 0.3), "weight/head/std": perLayer(() => 0.1) },
      },
      raised: false,
    },
    {
      // C5-TVM-LSTM-VAL-X10 part-way: Adam 5e-3, the head's ratio 0.02 while the loss is still near its start
      name: "LSTM + Adam 5e-3: the head alone at 0.024, a noisy loss still at its start (first epoch)",
      spec: {
        config: { optimizer: "Adam", lr: 5e-3, num_classes: 3 },
        series: {
          loss: lossCurve(() => 1.1, 220, 0.5),
          "update_ratio/out": series(44, () => 0.0236, 5, 0),
          "weight/out/std": series(44, () => 0.1, 5, 0),
        },
      },
      raised: false,
    },
    {
      name: "a lone Adam head at 0.2 (past update_ratio_extreme) still counts",
      spec: {
        config: { optimizer: "Adam", lr: 0.02, num_classes: 3 },
        series: { loss: flat(), "update_ratio/out": perLayer(() => 0.2, 14, 0.2), "weight/out/std": perLayer(() => 0.1) },
      },
      raised: true,
    },
    {
      name: "three layers at 0.1 all run (Adam at lr 1.0 on an MLP): still raised",
      spec: {
        config: { optimizer: "Adam", lr: 1.0, num_classes: 2 },
        series: {
          loss: lossCurve(() => 0.45, 400, 0.1),
          ...Object.fromEntries(
            ["fc1", "fc2", "out"].flatMap((n, i) => [
              [`update_ratio/${n}`, perLayer(() => 0.1, 50 + i, 0.2)],
              [`weight/${n}/std`, perLayer(() => 0.3)],
            ]),
          ),
        },
      },
      raised: true,
    },
  ])("$name", (c) => {
    check("lr_too_high", c);
  });
});

// ---- bad_initial_loss: a margin in nats too, and no verdict on a loss that holds a penalty --------

describe("bad_initial_loss: far above ln C in nats, not counting a penalty added to the loss", () => {
  const start = (first: number, C: number, extra: Record<string, unknown> = {}): RunSpec => ({
    config: { num_classes: C, loss: "CrossEntropyLoss", batch_size: 64, ...extra },
    series: { "train/loss": series(300, (i, p) => (i === 0 ? first : 0.2 + (first - 0.2) * Math.exp(-p / 0.05)), 1, 0) },
  });
  test.each<Case>([
    // C5-MC-BINARY-95: an ordinary init favouring the minority class of a 95/5 set: 1.07 for ln 2
    { name: "binary, first loss 1.07 (1.54 x ln 2, 0.38 nats above)", spec: start(1.07, 2), raised: false },
    { name: "binary, first loss 1.6 (0.9 nats above)", spec: start(1.6, 2), raised: false },
    { name: "binary, first loss 2.5 (1.8 nats above)", spec: start(2.5, 2), raised: true },
    { name: "3 classes, first loss 2.3 (1.2 nats above)", spec: start(2.3, 3), raised: true },
    { name: "10 classes, first loss 3.6 (1.56 x ln 10)", spec: start(3.6, 10), raised: true },
    // C5-OR-L2-PENALTY: 0.1 x sum of squared weights added by hand: 6.9 for ln 10
    { name: "10 classes, first loss 6.9 with l2_penalty 0.1 in the config", spec: start(6.9, 10, { l2_penalty: 0.1 }), raised: false },
    { name: "10 classes, first loss 6.9 without a penalty", spec: start(6.9, 10), raised: true },
  ])("$name", (c) => {
    check("bad_initial_loss", c);
  });
});

// ---- over_regularization: a penalty that holds the weights down without the median layer shrinking --

/** Accuracies once an epoch (15 evaluations of 43 steps), rising to `to` within the first epochs. */
const accTo = (to: number, seed: number, tau = 0.08) => {
  const g = gauss(seed);
  return series(15, (_, p) => Math.min(1, to - (to - 0.1) * Math.exp(-p / tau) + 0.004 * g()), 43, 42);
};
const lossTo = (to: number, seed: number) => {
  const g = gauss(seed);
  return series(15, (_, p) => to + 2 * Math.exp(-p / 0.08) + 0.005 * g(), 43, 42);
};
const stdSeries = (from: number, to: number) => series(130, (_, p) => to + (from - to) * Math.exp(-p / 0.05), 5, 0);

function penalised(opts: { config: Record<string, unknown>; train: number; val: number; fc1To: number; outTo: number }): RunSpec {
  return {
    config: { num_classes: 10, batch_size: 32, loss: "CrossEntropyLoss", ...opts.config },
    series: {
      "train/loss": lossCurve((p) => 0.5 + 1.8 * Math.exp(-p / 0.1), 645, 0.2),
      "train/acc": accTo(opts.train, 1),
      "val/acc": accTo(opts.val, 2),
      "val/loss": lossTo(0.4, 3),
      "weight/fc1/std": stdSeries(0.072, opts.fc1To),
      "weight/out/std": stdSeries(0.051, opts.outTo),
    },
    finished: true,
  };
}

describe("over_regularization: held down by a penalty, seen from the config and the layers", () => {
  const sgd = (wd: number, lr = 0.05) => ({ optimizer: "SGD", lr, momentum: 0.9, weight_decay: wd });
  test.each<Case>([
    {
      // C5-OR-L2-PENALTY: fc1 at 30% of its start, the head grows back to 108%, 0.85 / 0.85
      name: "l2_penalty 0.1 added to the loss: fc1 x0.30, head x1.08, accuracy 0.85 / 0.85",
      spec: penalised({ config: { optimizer: "Adam", lr: 2e-3, l2_penalty: 0.1 }, train: 0.85, val: 0.85, fc1To: 0.0217, outTo: 0.055 }),
      raised: true,
    },
    {
      // C4-OR-DIGITS-SGD: no layer shrinks much, but the decay halves the weights every 27 steps
      name: "SGD momentum 0.9, lr 0.05, wd 0.05 (half-life 27 steps): held at 0.94 / 0.93",
      spec: penalised({ config: sgd(0.05), train: 0.94, val: 0.93, fc1To: 0.052, outTo: 0.128 }),
      raised: true,
    },
    {
      name: "AdamW lr 1e-2, wd 2 (2% a step): held at 0.80 / 0.79",
      spec: penalised({ config: { optimizer: "AdamW", lr: 1e-2, weight_decay: 2 }, train: 0.8, val: 0.79, fc1To: 0.06, outTo: 0.09 }),
      raised: true,
    },
    {
      name: "near miss: SGD momentum 0.9, lr 0.1, wd 5e-4 (half-life ~1,400 steps), 0.94 / 0.93",
      spec: penalised({ config: sgd(5e-4, 0.1), train: 0.94, val: 0.93, fc1To: 0.06, outTo: 0.1 }),
      raised: false,
    },
    {
      name: "near miss: the same fast decay, but the training set is fit (0.995 / 0.96)",
      spec: penalised({ config: sgd(0.05), train: 0.995, val: 0.96, fc1To: 0.052, outTo: 0.128 }),
      raised: false,
    },
    {
      name: "near miss: one layer at 30% with no penalty in the config, the other grown",
      spec: penalised({ config: { optimizer: "Adam", lr: 2e-3 }, train: 0.85, val: 0.85, fc1To: 0.0217, outTo: 0.055 }),
      raised: false,
    },
    {
      name: "near miss: weight decay 5e-4 halves a layer (BatchNorm-style), the model fits (1.0 / 0.97)",
      spec: penalised({ config: sgd(5e-4, 0.1), train: 1.0, val: 0.97, fc1To: 0.03, outTo: 0.08 }),
      raised: false,
    },
  ])("$name", (c) => {
    check("over_regularization", c);
  });
});

// ---- underfitting: a hidden layer narrower than the classes is a capacity limit read from the run --

/** Activation histograms of a `units`-wide layer over batches of `batch`: batch x units values each. */
const widthHists = (units: number, batch: number): HistogramRecord[] =>
  [0, 50, 100, 150, 200].map((step) => hist(step, -1, 3, (x) => Math.exp(-x * x), batch * units));

function creeping(opts: { C: number; train: number; val: number; valLossOver: number; units: number | null; batch?: number }): RunSpec {
  const { C, train, val, valLossOver, units, batch = 32 } = opts;
  const chance = 1 / C;
  const curve = (to: number, seed: number) => {
    const g = gauss(seed);
    return series(15, (_, p) => to - (to - chance - 0.3) * Math.exp(-p / 0.25) + 0.006 * g(), 43, 42);
  };
  const trainLoss = series(15, (_, p) => 0.46 + 1.5 * Math.exp(-p / 0.2), 43, 42);
  return {
    config: { num_classes: C, ...(batch ? { batch_size: batch } : {}), optimizer: "SGD(nesterov)", lr: 0.02 },
    series: {
      "train/loss": lossCurve((p) => 0.46 + 1.8 * Math.exp(-p / 0.2), 645, 0.2),
      "train/acc": curve(train, 1),
      "valid/acc": curve(val, 2),
      "valid/loss": { steps: trainLoss.steps, values: trainLoss.values.map((v) => v * (1 + valLossOver)) },
    },
    histograms: units === null ? {} : { "act/fc1": widthHists(units, batch) },
    finished: true,
  };
}

describe("underfitting: a bottleneck layer narrower than the classes", () => {
  test.each<Case>([
    // C5-UF-BOTTLENECK3 seed 1: 3 units for 10 digits, 0.866 / 0.816, val loss 35% above train
    {
      name: "3 units for 10 classes: 0.87 / 0.82, val loss +35%",
      spec: creeping({ C: 10, train: 0.87, val: 0.82, valLossOver: 0.35, units: 3 }),
      raised: true,
    },
    {
      name: "2 units for 8 classes: 0.70 / 0.66, val loss +20%, batch 64",
      spec: creeping({ C: 8, train: 0.7, val: 0.66, valLossOver: 0.2, units: 2, batch: 64 }),
      raised: true,
    },
    {
      name: "4 units for 6 classes: 0.78 / 0.75, val loss +15%",
      spec: creeping({ C: 6, train: 0.78, val: 0.75, valLossOver: 0.15, units: 4 }),
      raised: true,
    },
    {
      name: "near miss: the same curves through 64 units",
      spec: creeping({ C: 10, train: 0.87, val: 0.82, valLossOver: 0.35, units: 64 }),
      raised: false,
    },
    {
      name: "near miss: the same curves, no histograms",
      spec: creeping({ C: 10, train: 0.87, val: 0.82, valLossOver: 0.35, units: null }),
      raised: false,
    },
    {
      name: "near miss: 3 units, but the gap (0.13) is most of the val error",
      spec: creeping({ C: 10, train: 0.85, val: 0.72, valLossOver: 0.35, units: 3 }),
      raised: false,
    },
    {
      name: "near miss: 3 units for 10 classes that fit (0.97 / 0.95)",
      spec: creeping({ C: 10, train: 0.97, val: 0.95, valLossOver: 0.1, units: 3 }),
      raised: false,
    },
  ])("$name", (c) => {
    const d = check("underfitting", c);
    if (c.raised) expect(d!.evidence.narrowest_units).toBeTypeOf("number");
  });
});

// ---- majority_class (inferred): the validation loss's slide read from the evaluation it got pinned at --

function pinnedRun(opts: { C: number; p: number; valLoss: number[] }): RunSpec {
  const n = opts.valLoss.length;
  return {
    config: { num_classes: opts.C, batch_size: 32, optimizer: "SGD", lr: 0.01 },
    series: {
      loss: lossCurve((q) => opts.valLoss[n - 1] + (Math.log(opts.C) - opts.valLoss[n - 1]) * Math.exp(-q / 0.05), 456, 0.3),
      val_loss: series(n, (i) => opts.valLoss[i], 38, 37),
      accuracy: series(n, () => opts.p, 38, 37),
      val_accuracy: series(n, () => opts.p, 38, 37),
      "update_ratio/fc1": perLayer(() => 3e-4, 60),
      "update_ratio/out": perLayer(() => 1.6e-3, 61),
    },
  };
}
const slide = (first: number, second: number, rest: number, n = 12) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? first : i === 1 ? second : rest + 0.006 * Math.exp(-i / 3)));

describe("majority_class without label stats: the loss slides from where the accuracy got pinned", () => {
  test.each<Case>([
    // C5-MC-3CLASS-ATTN seed 1: 0.8 from the first evaluation on; val loss 0.76, 0.66, 0.64 ... 0.634
    { name: "3 classes pinned at 0.8, val loss 0.76 -> 0.634", spec: pinnedRun({ C: 3, p: 0.8, valLoss: slide(0.764, 0.656, 0.63) }), raised: true },
    { name: "4 classes pinned at 0.7, val loss 1.0 -> 0.83", spec: pinnedRun({ C: 4, p: 0.7, valLoss: slide(1.0, 0.86, 0.826) }), raised: true },
    {
      name: "near miss: pinned at 0.8, val loss flat at 0.634 from the start",
      spec: pinnedRun({ C: 3, p: 0.8, valLoss: slide(0.64, 0.638, 0.63) }),
      raised: false,
    },
  ])("$name", (c) => {
    check("majority_class", c);
  });
});
