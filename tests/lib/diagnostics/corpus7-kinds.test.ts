// Issue #10: the kinds behind corpus7's false alarms, must_not violations and misses, as table-driven
// synthetic runs (the recorded example, other members of the kind at other scales and logging habits,
// and healthy near-misses), each with the exact code it must or must not raise.
import { describe, expect, test } from "vitest";
import { resolveKeys, seriesReader } from "../../../lib/diagnostics/keys";
import type { SeriesPoints } from "../../../lib/diagnostics/types";
import { type Case, check } from "./kind-case";
import { gauss, makeRun, series, type RunSpec } from "./synth";

/** A minibatch loss over n steps following level(progress 0..1), relative noise `noise`. */
function lossCurve(level: (p: number) => number, n: number, noise = 0.04, seed = 5, every = 1, start = 0): SeriesPoints {
  const g = gauss(seed);
  return series(n, (_, p) => level(p) * (1 + noise * g()), every, start);
}

/** Evaluations every `every` steps, value at progress p plus noise of sd `sd`. */
function evals(n: number, every: number, f: (p: number) => number, sd = 0.004, seed = 9): SeriesPoints {
  const g = gauss(seed);
  return series(n, (_, p) => f(p) + sd * g(), every, every);
}

// ---- bad_initial_loss: a loss whose start is not ln C by design says nothing against ln C ----------

function firstLossRun(loss: string | null, C: number, first: number, extra: Record<string, unknown> = {}): RunSpec {
  return {
    config: { num_classes: C, batch_size: 64, ...(loss ? { loss } : {}), ...extra },
    series: { "train/loss": lossCurve((p) => first * Math.exp(-3 * p) + 0.05, 300, 0.02) },
    finished: true,
  };
}

describe("bad_initial_loss: losses whose first value is not ln C by design", () => {
  test.each<Case>([
    // C7-H-DISTILL-ONECYCLE: 0.7 T^2 KL + 0.3 CE starts near 9 for 10 classes
    {
      name: "distillation, KL at T=3 times T^2 plus CE, first loss 8.6 (10 classes)",
      spec: firstLossRun("0.7 KLDivLoss(T=3) + 0.3 CrossEntropyLoss", 10, 8.6),
      raised: false,
    },
    {
      name: "distillation named by the config's teacher, first loss 14 (100 classes)",
      spec: firstLossRun("kd_loss", 100, 14, { teacher: "resnet50" }),
      raised: false,
    },
    // C7-H-FOCAL-IMB: (1 - p)^2 ln 2 at p = 0.5 is 0.17, not 0.69
    { name: "focal loss gamma 2, first loss 0.24 (2 classes)", spec: firstLossRun("focal loss (gamma 2)", 2, 0.24), raised: false },
    { name: "focal loss, first loss 0.5 (10 classes)", spec: firstLossRun("FocalLoss(gamma=2.0)", 10, 0.5), raised: false },
    {
      name: "cross-entropy plus an auxiliary term, first loss 5.1 (10 classes)",
      spec: firstLossRun("CrossEntropyLoss + 0.5 * aux_loss", 10, 5.1),
      raised: false,
    },
    { name: "dice loss on segmentation, first loss 0.1 (2 classes)", spec: firstLossRun("DiceLoss", 2, 0.1), raised: false },
    // still raised: plain cross-entropy far above ln C, logits divided by a small temperature (a bare
    // temperature is no distillation), and far below ln C
    { name: "plain cross-entropy, first loss 8.6 (10 classes)", spec: firstLossRun("CrossEntropyLoss", 10, 8.6), raised: true },
    {
      name: "logits divided by a temperature of 0.02, first loss 9 (3 classes)",
      spec: firstLossRun("CrossEntropyLoss", 3, 9, { temperature: 0.02 }),
      raised: true,
    },
    { name: "no loss named, first loss 0.2 (10 classes)", spec: firstLossRun(null, 10, 0.2), raised: true },
  ])("$name", (c) => void check("bad_initial_loss", c));
});

// ---- accuracy names: top-1 and per-token accuracies are accuracies --------------------------------

describe("accuracy keys: top-1 and per-token accuracy are read as accuracies", () => {
  test.each([
    ["train/top1", "eval/top1"],
    ["train_top1", "val_top1"],
    ["acc@1", "val/acc@1"],
    ["train/acc1", "val/acc1"],
    ["train/token_acc", "eval/token_acc"],
    ["train_token_acc", "val_token_acc"],
  ])("%s and %s", (train, val) => {
    const run = makeRun({ series: { [train]: evals(10, 20, (p) => 0.5 + 0.4 * p), [val]: evals(10, 20, (p) => 0.5 + 0.35 * p) } });
    const keys = resolveKeys(run);
    expect(keys.scalars.train_acc?.key).toBe(train);
    expect(keys.scalars.val_acc?.key).toBe(val);
    const reads = seriesReader({});
    expect(reads(train) && reads(val)).toBe(true);
  });

  // C7-H-MIXER-SMOOTH: label smoothing 0.4 floors the loss near 1.45; eval/top1 says the model fits
  const smoothRun = (acc: number, keys: [string, string]): RunSpec => ({
    config: { num_classes: 10, batch_size: 64, train_size: 1347, val_size: 450, label_smoothing: 0.4, loss: "CrossEntropyLoss(label_smoothing=0.4)" },
    series: {
      "train/loss": lossCurve((p) => 1.5 + 0.85 * Math.exp(-p / 0.12), 264, 0.01),
      "eval/loss": evals(12, 22, (p) => 1.51 + 0.45 * Math.exp(-p / 0.12), 0.003),
      [keys[0]]: evals(12, 22, (p) => Math.min(0.995, acc - 0.35 * Math.exp(-p / 0.12)), 0.003),
      [keys[1]]: evals(12, 22, (p) => Math.min(0.99, acc - 0.03 - 0.35 * Math.exp(-p / 0.12)), 0.005, 4),
    },
    finished: true,
  });
  test.each<Case>([
    { name: "MLP-Mixer, smoothing 0.4, top-1 0.99 / 0.97 (eval/top1)", spec: smoothRun(0.995, ["train/top1", "eval/top1"]), raised: false },
    { name: "the same logged as acc@1", spec: smoothRun(0.995, ["acc@1", "val/acc@1"]), raised: false },
  ])("$name: no loss_plateau, no underfitting", (c) => {
    check("loss_plateau", c);
    check("underfitting", c);
  });
});

// ---- loss_plateau at the start: a saddle is tiny gradients (uniform outputs), not a slow start ------

/**
 * 560 steps, the loss (the mean of every 5 minibatches, relative spread `noise`) at ln C for the first
 * `flatShare`, then falling; per-layer gradient norms ordinary throughout ("flat"), 15x smaller while
 * flat ("saddle"), or not logged.
 */
function slowStartRun(flatShare: number, grads: "none" | "flat" | "saddle", C = 2, noise = 0.04): RunSpec {
  const lnC = Math.log(C);
  const level = (p: number) => (p < flatShare ? lnC : lnC - (lnC * 0.45 * (p - flatShare)) / (1 - flatShare));
  const spec: RunSpec = {
    config: { num_classes: C, batch_size: 32, train_size: 1500, epochs: 12 },
    series: { loss: lossCurve(level, 112, noise, 7, 5, 4) },
    finished: true,
  };
  if (grads !== "none")
    for (const layer of ["fc1", "fc2", "out"])
      spec.series![`grad/${layer}/norm`] = series(
        56,
        (_, p) => (grads === "saddle" && p < flatShare ? 0.02 : 0.3) * (1 + 0.05 * Math.sin(p * 40)),
        10,
        4,
      );
  return spec;
}

describe("loss_plateau: a slow start is a saddle only with tiny gradients, a loss at ln C on every batch, or when very long", () => {
  test.each<Case>([
    // C7-H-CHECKER-IMPROVING: a 4x4 checkerboard's MLP sits near ln 2 for 29% of the run, then learns
    { name: "checkerboard MLP, flat 29% of the run, no gradient statistics", spec: slowStartRun(0.29, "none"), raised: false },
    { name: "flat 30% with ordinary gradients throughout", spec: slowStartRun(0.3, "flat"), raised: false },
    { name: "8 classes flat 25%, ordinary gradients", spec: slowStartRun(0.25, "flat", 8), raised: false },
    // C3-PLATEAU-SADDLE: gradients 10-15x smaller while the loss sits at ln C
    { name: "saddle: flat 30% with gradients 15x smaller than after it", spec: slowStartRun(0.3, "saddle"), raised: true },
    { name: "saddle, 8 classes, flat 25%, gradients 15x smaller", spec: slowStartRun(0.25, "saddle", 8), raised: true },
    { name: "flat 55% of the run with no gradient statistics", spec: slowStartRun(0.55, "none"), raised: true },
    // uniform outputs score ln C on every minibatch alike: a saddle read from the loss alone
    { name: "at ln C within 0.5% for 30% (uniform outputs), no gradient statistics", spec: slowStartRun(0.3, "none", 8, 0.005), raised: true },
  ])("$name", (c) => void check("loss_plateau", c));
});

// ---- lr_too_low: a loss that rose moved -----------------------------------------------------------

describe("lr_too_low: 'barely moves' both ways", () => {
  const run = (from: number, to: number, acc: number): RunSpec => ({
    config: { num_classes: 2, batch_size: 32, train_size: 1500 },
    series: {
      // data sorted by class: the first batches (one class) are learned at once, then undone
      "Loss/train": lossCurve((p) => (p < 0.03 ? from : to), 353, 0.03),
      "Accuracy/train": evals(8, 47, () => acc, 0.01),
    },
    finished: true,
  });
  test.each<Case>([
    { name: "sorted checkerboard: 0.15 at the start, 0.71 after (C7-UNS-CHECKER-SORTED)", spec: run(0.15, 0.71, 0.55), raised: false },
    {
      name: "loss doubling from 1.0 to 2.1 at chance (3 classes)",
      spec: { ...run(1.0, 2.1, 0.34), config: { num_classes: 3, batch_size: 32 } },
      raised: false,
    },
    { name: "loss flat at ln 2, accuracy flat at chance", spec: run(Math.LN2 * 1.001, Math.LN2, 0.5), raised: true },
  ])("$name", (c) => void check("lr_too_low", c));
});

// ---- no_learning: a held-out loss falling steadily below ln C is learning -----------------------------

function chanceRun(C: number, valLoss: number[], acc: (p: number) => number): RunSpec {
  const n = valLoss.length;
  return {
    config: { num_classes: C, batch_size: 32, train_size: 1500, val_size: 500 },
    series: {
      train_loss: lossCurve(() => Math.log(C), 47 * n, 0.05),
      val_loss: series(n, (i) => valLoss[i], 47, 47),
      train_acc: evals(n, 47, acc, 0.01),
      val_acc: evals(n, 47, acc, 0.01, 3),
      "update_ratio/fc1": series(47 * n, () => 0.006, 1, 0),
    },
    finished: false,
  };
}

describe("no_learning: not while the validation loss falls steadily well below ln C", () => {
  test.each<Case>([
    // C7-UF-RBF4-CHECKER: 4 RBF centres creeping off chance
    {
      name: "RBF net on a checkerboard: val loss 0.692 .. 0.664 (ln 2 = 0.693)",
      spec: chanceRun(2, [0.695, 0.692, 0.685, 0.678, 0.67, 0.664], () => 0.52),
      raised: false,
    },
    {
      name: "weak CNN, 10 classes: val loss 2.30 .. 2.21",
      spec: chanceRun(10, [2.31, 2.3, 2.28, 2.26, 2.24, 2.22, 2.21], () => 0.14),
      raised: false,
    },
    // labels that carry nothing: the val loss sits at ln C, slides to a skewed prior's entropy, or rises
    {
      name: "GRU on token labels with no signal: 1.389 .. 1.371 (ln 4 = 1.386)",
      spec: chanceRun(4, [1.3894, 1.3878, 1.3865, 1.3849, 1.3835, 1.3811, 1.3786, 1.3771, 1.3748, 1.371], () => 0.26),
      raised: true,
    },
    {
      name: "shuffled labels, val loss rising 0.70 .. 0.73",
      spec: chanceRun(2, [0.6995, 0.7125, 0.7022, 0.7073, 0.7194, 0.7195, 0.7278, 0.7288], () => 0.45),
      raised: true,
    },
    { name: "constant inputs, val loss at ln 3", spec: chanceRun(3, [1.1, 1.099, 1.0986, 1.0987, 1.0986, 1.0986], () => 0.333), raised: true },
  ])("$name", (c) => void check("no_learning", c));
});

// ---- loss_output_mismatch: a negative KL divergence; a tanh-bounded regression output ----------------

describe("loss_output_mismatch: probabilities into KLDivLoss (the loss is negative)", () => {
  const run = (loss: string, level: (p: number) => number, C: number | null = 10): RunSpec => ({
    config: { ...(C ? { num_classes: C } : {}), batch_size: 32, loss },
    series: { "train/loss": series(300, (_, p) => level(p), 1, 0) },
    finished: true,
  });
  test.each<Case>([
    // C7-LOM-KLDIV-PROBS: sum t (log t - p) = -H(t) - <t, p>, -1.15 -> -1.7
    {
      name: "KLDivLoss(softmax(student), softmax(teacher/3)): -1.15 -> -1.7",
      spec: run("KLDivLoss(softmax(student), softmax(teacher/3))", (p) => -1.15 - 0.55 * Math.min(1, 3 * p)),
      raised: true,
    },
    {
      name: "F.kl_div on probabilities, 100 classes: -4.6 -> -4.9",
      spec: run("F.kl_div(probs, teacher_probs)", (p) => -4.6 - 0.3 * p, 100),
      raised: true,
    },
    {
      name: "KL + CE sum on probabilities, no class count",
      spec: run("0.5 * kl_div + 0.5 * CrossEntropyLoss", (p) => -0.4 - 0.3 * p, null),
      raised: true,
    },
    // healthy: log-probabilities (>= 0), a Poisson NLL (negative by design), an ELBO
    {
      name: "KLDivLoss on log-probabilities: 0.9 -> 0.05",
      spec: run("KLDivLoss(log_softmax(student), softmax(teacher))", (p) => 0.05 + 0.85 * Math.exp(-4 * p)),
      raised: false,
    },
    { name: "PoissonNLLLoss(log_input=True): 1.2 -> -0.8", spec: run("PoissonNLLLoss(log_input=True)", (p) => 1.2 - 2 * p, null), raised: false },
    { name: "VAE: reconstruction minus KL (ELBO), negative", spec: run("ELBO: recon - KL", (p) => -50 - 30 * p, null), raised: false },
  ])("$name", (c) => void check("loss_output_mismatch", c));
});

describe("loss_output_mismatch: a regression output bounded to [-1, 1] against wider targets", () => {
  const run = (pred: [number, number], target: [number, number], loss = "pinball loss (q=0.5)"): RunSpec => ({
    config: { batch_size: 32, loss, task: "regression" },
    series: { train_loss: lossCurve((p) => 0.25 + 0.15 * Math.exp(-5 * p), 700, 0.1) },
    events: [15, 30, 45].map((step) => ({
      type: "output_stats",
      step,
      data: { pred_min: pred[0], pred_max: pred[1], target_min: target[0], target_max: target[1] },
    })),
    finished: true,
  });
  test.each<Case>([
    // C7-LOM-TANH-QUANTILE: tanh output, standardised targets out to +-3.2
    { name: "tanh output on standardised targets (median regression)", spec: run([-0.994, 0.999], [-3.21, 3.13]), raised: true },
    { name: "hardtanh on MSE regression, targets up to 5", spec: run([-0.3, 1.0], [-0.8, 5.2], "MSELoss"), raised: true },
    { name: "tanh pressed at -1, targets down to -4", spec: run([-1.0, 0.6], [-4.1, 0.9], "L1Loss"), raised: true },
    // healthy: a linear output spanning the targets; predictions inside [-1, 1] not crowding a bound
    { name: "linear output, 0.9-quantile regression", spec: run([-1.31, 3.59], [-3.21, 3.13], "pinball loss (q=0.9)"), raised: false },
    { name: "linear output predicting near the mean of noisy targets", spec: run([-0.62, 0.71], [-3.0, 3.1], "MSELoss"), raised: false },
    { name: "tanh output on targets in [-1, 1]", spec: run([-0.99, 0.995], [-1.0, 1.0], "MSELoss"), raised: false },
  ])("$name", (c) => void check("loss_output_mismatch", c));
});

// ---- over_regularization: "no gap" is one-sided and relative to the training error -------------------

describe("over_regularization: a penalty that caps the fit with validation at or above training", () => {
  const run = (trainAcc: number, valAcc: number, shrink: number, cfg: Record<string, unknown> = { l2_penalty: 0.02 }): RunSpec => {
    const spec: RunSpec = {
      config: { num_classes: 3, batch_size: 32, train_size: 1125, val_size: 375, loss: "CrossEntropyLoss", ...cfg },
      series: {
        "train/loss": lossCurve((p) => 1.0 + 1.2 * Math.exp(-p / 0.08), 900, 0.05),
        "val/loss": evals(25, 36, (p) => 0.7 + 0.2 * Math.exp(-p / 0.08), 0.005),
        "train/acc": evals(25, 36, (p) => trainAcc - 0.2 * Math.exp(-p / 0.1), 0.02),
        "val/acc": evals(25, 36, (p) => valAcc - 0.2 * Math.exp(-p / 0.1), 0.02, 4),
      },
      finished: true,
    };
    for (const [layer, start, end] of [
      ["0", 0.41, 0.41 * shrink],
      ["2", 0.072, 0.072 * shrink],
      ["4", 0.072, 0.158],
    ] as const)
      spec.series![`weight/${layer}/std`] = series(90, (_, p) => end + (start - end) * Math.exp(-p / 0.15), 10, 0);
    return spec;
  };
  test.each<Case>([
    // C7-OR-L2-SUM-SPIRAL: 0.02 x sum w^2 in the loss, hidden layers at 40-46% of their start
    { name: "3-arm spirals, L2 sum penalty, train 0.69 / val 0.75", spec: run(0.69, 0.75, 0.43), raised: true },
    { name: "the same, train 0.65 / val 0.59 (gap 0.06 of an error of 0.35)", spec: run(0.65, 0.59, 0.45), raised: true },
    { name: "weight decay 0.05 (config), train 0.72 / val 0.78", spec: run(0.72, 0.78, 0.4, { weight_decay: 0.05 }), raised: true },
    // healthy: a penalty with a real generalization gap; weights that keep their scale
    { name: "L2 penalty, train 0.99 / val 0.80: a gap, not a cap", spec: run(0.99, 0.8, 0.45), raised: false },
    { name: "L2 penalty, weights at 90% of their start", spec: run(0.69, 0.75, 0.9), raised: false },
  ])("$name", (c) => void check("over_regularization", c));
});

// ---- vanishing_gradients: the forward signal dies out layer after layer -------------------------------

function deepRun(perLayer: number[], grads: "zero" | "reaching" | "none"): RunSpec {
  const spec: RunSpec = {
    config: { num_classes: 3, batch_size: 32 },
    series: { "train/loss": lossCurve(() => 1.0986, 540, 0.01) },
    finished: true,
  };
  let std = 0.017;
  perLayer.forEach((f, i) => {
    std *= i === 0 ? 1 : f;
    const v = std;
    spec.series![`act/${2 * i}/std`] = series(54, () => v, 10, 0);
    spec.series![`weight/${2 * i}/std`] = series(54, () => 0.02, 10, 0);
    spec.series![`weight/${2 * i}/mean`] = series(54, () => 0.0005 * (i % 3) - 0.0004, 10, 0);
    // underflowing: ~1e-11 at the first step, exactly 0 after
    if (grads !== "none") spec.series![`grad/${2 * i}/norm`] = series(54, (j) => (grads === "reaching" ? 0.05 : j === 0 ? 1e-11 : 0), 10, 0);
  });
  return spec;
}

describe("vanishing_gradients: activations falling by orders of magnitude with depth", () => {
  test.each<Case>([
    // C7-VG-TINY-INIT-RELU: 12 ReLU layers N(0, 0.02), ~10x less per layer, gradients underflow to 0
    {
      name: "12-layer ReLU MLP at N(0, 0.02): 10x per layer, gradients exactly 0",
      spec: deepRun([1, 0.1, 0.1, 0.08, 0.08, 0.15, 0.5, 2, 10], "zero"),
      raised: true,
    },
    { name: "8-layer tanh net, 5x per layer, no gradient statistics", spec: deepRun([1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2], "none"), raised: true },
    { name: "6 layers, 0.2x per layer: 3e-4 over 5 layers", spec: deepRun([1, 0.2, 0.2, 0.2, 0.2, 0.2], "zero"), raised: true },
    // healthy: He-initialised depth keeps its scale; a mild fall; gradients that do reach the first layer
    {
      name: "12 layers, He init: std ~constant",
      spec: deepRun([1, 1.02, 0.97, 1.01, 0.99, 1.0, 1.03, 0.98, 1.0, 1.0, 0.99, 1.01], "reaching"),
      raised: false,
    },
    { name: "4 layers falling 3x each (1/27 overall)", spec: deepRun([1, 0.33, 0.33, 0.33], "none"), raised: false },
    {
      name: "activations falling 10x per layer but gradients reaching the first layer",
      spec: deepRun([1, 0.1, 0.1, 0.1, 0.1], "reaching"),
      raised: false,
    },
  ])("$name", (c) => void check("vanishing_gradients", c));

  // Adagrad at lr 2 killed most ReLU units of fc2: the first layer's gradient is 1e-6 of the head's
  // because nothing passes the dead layer (dead_relu's finding), not because it shrinks layer by layer
  const behindDead = (deadShare: number): RunSpec => {
    const spec: RunSpec = { config: { num_classes: 2, batch_size: 64 }, series: { "train/loss": lossCurve(() => 0.65, 300, 0.05) }, finished: true };
    const grads: Record<string, number> = { fc1: 5e-8, fc2: 3e-4, out: 0.035 };
    for (const [layer, gstd] of Object.entries(grads)) {
      spec.series![`grad/${layer}/std`] = series(30, () => gstd, 10, 0);
      if (layer !== "out") spec.series![`act/${layer}/dead_frac`] = series(30, () => (layer === "fc2" ? deadShare : 0.05), 10, 0);
    }
    return spec;
  };
  test.each<Case>([
    { name: "first-layer gradient 1e-6 of the head's behind a ReLU layer 80% dead", spec: behindDead(0.8), raised: false },
    { name: "the same with every unit alive: the gradient shrinks on its way back", spec: behindDead(0.0), raised: true },
  ])("$name", (c) => void check("vanishing_gradients", c));
});

// ---- divergence: a sorted order's first jump, before the order can be read -------------------------

describe("divergence: live, data the config says is not shuffled, within the first epochs", () => {
  // sorted 4x4 checkerboard: the first class's batches learned at once (always answer it), the second
  // class's cost 6.0 against a start of 0.75, then the loss came back down
  const jump = (shuffle: boolean, nanAt: number | null = null): RunSpec => ({
    config: { num_classes: 2, batch_size: 32, train_size: 1500, epochs: 12, shuffle },
    series: {
      "Loss/train": series(
        60,
        (i) => (nanAt !== null && i >= nanAt ? Number.NaN : i < 3 ? 0.75 : i < 23 ? 0.05 : i < 34 ? 6.0 - 0.2 * (i - 23) : 0.75),
        1,
        0,
      ),
    },
    finished: false,
  });
  test.each<Case>([
    { name: "sorted (shuffle false): 0.75, 0.05, 6.0 for 11 points, back to 0.75", spec: jump(false), raised: false },
    { name: "shuffled data with the same 8x stretch is a blow-up", spec: jump(true), raised: true },
    { name: "sorted, but the loss turned NaN", spec: jump(false, 40), raised: true },
  ])("$name", (c) => void check("divergence", c));
});

// ---- underfitting: a model with capacity to spare at its data's noise floor --------------------------

describe("underfitting: not for a model with at least one parameter per training sample", () => {
  // train and val accuracy together at `acc` (a plateau), the model event of watch() saying `params`
  const capped = (acc: number, params: number | null, trainSize: number, extra: Record<string, unknown> = {}): RunSpec => ({
    config: { num_classes: 2, batch_size: 64, train_size: trainSize, val_size: Math.round(trainSize / 3), ...extra },
    series: {
      "train/loss": lossCurve((p) => 0.3 + 0.4 * Math.exp(-p / 0.15), 540, 0.1),
      "val/loss": evals(15, 36, (p) => 0.31 + 0.15 * Math.exp(-p / 0.15), 0.003),
      "train/acc": evals(15, 36, (p) => acc - 0.08 * Math.exp(-p / 0.12), 0.003),
      "val/acc": evals(15, 36, (p) => acc - 0.005 - 0.08 * Math.exp(-p / 0.12), 0.004, 4),
    },
    events: params === null ? [] : [{ type: "model", step: 0, data: { params, params_watched: params, weighted_layers: 3 } }],
    finished: true,
  });
  test.each<Case>([
    // C7-H-CATEMB-GLU-POLY: 3140 parameters for 2250 rows, at 0.87 / 0.86 (the data's ceiling)
    { name: "tabular GLU MLP, 3140 params for 2250 rows, 0.87 / 0.86", spec: capped(0.87, 3140, 2250), raised: false },
    // C7-H-NOISY-SMALL-DROPOUT: 15% flipped labels under a 5k-parameter MLP
    { name: "5314 params for 195 noisy samples, 0.85 / 0.85", spec: capped(0.85, 5314, 195, { weight_decay: 0.001, dropout: 0.5 }), raised: false },
    { name: "a CNN with 60k params for 12k images at 0.80 / 0.80", spec: capped(0.8, 60000, 12000), raised: false },
    // capacity limits and strong regularizers stay underfitting
    { name: "282 params for 1347 samples (a 4-unit Mixer) at 0.80 / 0.80", spec: capped(0.8, 282, 1347), raised: true },
    { name: "3140 params for 2250 rows but weight decay 0.12", spec: capped(0.8, 3140, 2250, { weight_decay: 0.12 }), raised: true },
    { name: "3140 params for 2250 rows with an L2 penalty in the loss", spec: capped(0.8, 3140, 2250, { l2_penalty: 0.05 }), raised: true },
    { name: "no model event: judged as before", spec: capped(0.8, null, 2250), raised: true },
  ])("$name", (c) => void check("underfitting", c));
});
