// Issue #10: the kinds behind corpus8's misses and false alarms, as table-driven synthetic runs (the
// recorded example, other members of the kind at other scales and logging habits, and healthy
// near-misses), each with the exact code it must or must not raise.
import { describe, test } from "vitest";
import type { SeriesPoints } from "../../../lib/diagnostics/types";
import { type Case, check } from "./kind-case";
import { constant, gauss, rng, series, type RunSpec } from "./synth";

/** Per-layer watch() series every 10 steps: gradient std, weight std, update ratio. */
function layers(names: string[], n: number, grad: (layer: number, p: number) => number, wstd: number): Record<string, SeriesPoints> {
  const out: Record<string, SeriesPoints> = {};
  names.forEach((name, i) => {
    out[`grad/${name}/std`] = series(Math.floor(n / 10), (_, p) => grad(i, p), 10, 0);
    out[`weight/${name}/std`] = constant(Math.floor(n / 10), wstd, 10);
    out[`update_ratio/${name}`] = series(Math.floor(n / 10), (_, p) => (grad(i, p) === 0 ? 0 : 1e-3), 10, 0);
  });
  return out;
}

// ---- loss_output_mismatch: the output cannot depend on the weights (every gradient exactly 0) ------

/** BCELoss on a one-unit softmax: 100 x the batch's share of negatives (log clamped at -100). */
function clampedBce(n: number, batch: number, seed = 3): SeriesPoints {
  const r = rng(seed);
  return series(n, () => {
    let neg = 0;
    for (let i = 0; i < batch; i++) if (r() < 0.5) neg++;
    return (100 * neg) / batch;
  });
}

function noisyLevel(n: number, level: number, sd: number, seed = 4): SeriesPoints {
  const g = gauss(seed);
  return series(n, () => level * (1 + sd * g()));
}

const frozen = (loss: SeriesPoints, key = "train/loss", extra: Partial<RunSpec> = {}, names = ["fc1", "fc2", "out"], wstd = 0.2): RunSpec => ({
  config: { batch_size: 32, ...(extra.config ?? {}) },
  series: { [key]: loss, ...layers(names, loss.values.length, () => 0, wstd), ...(extra.series ?? {}) },
  finished: true,
});

describe("loss_output_mismatch: an output the weights cannot move", () => {
  test.each<Case>([
    {
      name: "one-unit softmax before BCELoss (corpus8's example: loss 100 x share of negatives)",
      spec: frozen(clampedBce(400, 32), "Train/Loss"),
      raised: true,
    },
    {
      name: "regression through a .detach()ed head (MSE varies with the batch, no gradient anywhere)",
      spec: frozen(noisyLevel(300, 1.3, 0.2), "train/mse", { config: { loss: "MSELoss" } }, ["enc.0", "enc.2", "head"]),
      raised: true,
    },
    {
      name: "argmax in the forward pass of a 10-class CNN, batch 128, logged every 5 steps",
      spec: frozen(
        series(120, (i) => 2.3 + 0.05 * Math.sin(i), 5),
        "loss",
        { config: { num_classes: 10 } },
        ["conv1", "conv2", "fc"],
        0.05,
      ),
      raised: true,
    },
  ])("$name", (c) => void check("loss_output_mismatch", c));

  test.each<Case>([
    {
      name: "all-zero init (weight std 0): symmetric_init's, not this",
      spec: frozen(noisyLevel(300, 0.69, 0.05), "train/loss", {}, ["fc1", "fc2", "out"], 0),
      raised: false,
    },
    {
      name: "a memorized training set: gradients underflow at a loss of 1e-5",
      spec: frozen(noisyLevel(300, 1e-5, 0.3), "train/loss"),
      raised: false,
    },
    {
      name: "gradients flowed, then vanished late: not an output cut from the weights",
      spec: {
        config: { batch_size: 32 },
        series: { "train/loss": noisyLevel(300, 0.7, 0.1), ...layers(["fc1", "fc2", "out"], 300, (_, p) => (p < 0.5 ? 0.01 : 0), 0.2) },
        finished: true,
      },
      raised: false,
    },
  ])("not raised: $name", (c) => void check("loss_output_mismatch", c));

  test.each<Case>([
    { name: "one-unit softmax: not symmetric_init (the weights are spread)", spec: frozen(clampedBce(400, 32), "Train/Loss"), raised: false },
  ])("$name", (c) => void check("symmetric_init", c));

  test.each<Case>([
    {
      name: "all-zero init still is symmetric_init",
      spec: frozen(noisyLevel(300, 0.69, 0.05), "train/loss", {}, ["fc1", "fc2", "out"], 0),
      raised: true,
    },
  ])("$name", (c) => void check("symmetric_init", c));
});

// ---- loss_plateau: a flat start is a fault only while it still costs the run something -------------

/** A loss at `level` (ln C) until `leave` of the run, then falling to `end` x level; saddle gradients. */
function saddleRun(C: number, leave: number, end: number, opts: { n?: number; finished?: boolean; upTo?: number } = {}): RunSpec {
  const { n = 1000, finished = true, upTo = 1 } = opts;
  const level = Math.log(C);
  const g = gauss(11);
  const at = (p: number) => (p < leave ? level : level * (end + (1 - end) * Math.exp(-(p - leave) / 0.04)));
  const m = Math.floor(n * upTo);
  const loss = series(m, (i) => at(i / n) * (1 + 0.003 * g()));
  const grads: Record<string, SeriesPoints> = {};
  for (const name of ["fc1", "fc2", "fc3", "out"]) {
    grads[`grad/${name}/norm`] = series(Math.floor(m / 10), (i) => ((i * 10) / n < leave ? 0.02 : 0.3), 10, 0);
  }
  return { config: { num_classes: C, batch_size: 32, epochs: 40, train_size: 800 }, series: { "train/loss": loss, ...grads }, finished };
}

describe("loss_plateau at the start: what it cost", () => {
  test.each<Case>([
    { name: "small-init tanh net: ln 8 for 30% of the run, ends at 0.4 x ln 8 (still pays)", spec: saddleRun(8, 0.3, 0.4), raised: true },
    { name: "ln 2 for 35%, ends at 0.25 x ln 2", spec: saddleRun(2, 0.35, 0.25), raised: true },
  ])("$name", (c) => void check("loss_plateau", c));

  test.each<Case>([
    { name: "corpus8's control: ln 2 for 55% of the run, then down to 0.01 (it recovered)", spec: saddleRun(2, 0.55, 0.015), raised: false },
    { name: "10 classes, flat for 40%, ends at 0.03 x ln 10", spec: saddleRun(10, 0.4, 0.03), raised: false },
    {
      name: "live, while the loss is still falling from the plateau",
      spec: saddleRun(2, 0.55, 0.015, { finished: false, upTo: 0.62 }),
      raised: false,
    },
  ])("not raised: $name", (c) => void check("loss_plateau", c));
});

// ---- loss_plateau late in a run: only for a loss whose floor is 0 can its level say "short" ---------

function flattened(start: number, level: number, loss: string | null, seed = 21): RunSpec {
  const g = gauss(seed);
  return {
    config: loss ? { loss } : {},
    series: { loss: series(600, (_, p) => (level + (start - level) * Math.exp(-p / 0.08)) * (1 + 0.003 * g())) },
    finished: true,
  };
}

describe("loss_plateau: the level of a loss with an unknown floor says nothing", () => {
  test.each<Case>([
    { name: "an MSE regression flat at 0.57 of its start (the floor is 0: short)", spec: flattened(44, 25, "MSELoss"), raised: true },
    { name: "no loss named, flat at 0.5 of its start", spec: flattened(2, 1, null), raised: true },
  ])("$name", (c) => void check("loss_plateau", c));

  test.each<Case>([
    { name: "corpus8's VAE: summed BCE + KL flat at 0.57 of its start", spec: flattened(44, 25, "BCE(sum) + KL"), raised: false },
    { name: "a KL-divergence objective", spec: flattened(3, 1.4, "KLDivLoss"), raised: false },
    { name: "a Gaussian NLL", spec: flattened(2, 0.9, "GaussianNLLLoss"), raised: false },
    { name: "an ELBO named as such", spec: flattened(120, 80, "negative ELBO"), raised: false },
  ])("not raised: $name", (c) => void check("loss_plateau", c));
});

// ---- underfitting: plain accuracy says nothing of the fit of a class-weighted model ----------------

function flatAcc(config: Record<string, unknown>): RunSpec {
  const g = gauss(31);
  const acc = (level: number) => series(15, (_, p) => level - 0.15 * Math.exp(-p / 0.15) + 0.004 * g(), 20, 20);
  return {
    config: { num_classes: 2, ...config },
    series: {
      loss: series(15, (_, p) => 0.45 + 0.25 * Math.exp(-p / 0.15), 20, 20),
      val_loss: series(15, (_, p) => 0.44 + 0.25 * Math.exp(-p / 0.15), 20, 20),
      accuracy: acc(0.72),
      val_accuracy: acc(0.71),
    },
    finished: true,
  };
}

describe("underfitting and class weights", () => {
  test.each<Case>([{ name: "plain cross-entropy held at 0.72 on both splits", spec: flatAcc({ loss: "CrossEntropyLoss" }), raised: true }])(
    "$name",
    (c) => void check("underfitting", c),
  );
  test.each<Case>([
    {
      name: "inverse-frequency class weights in the loss (Keras-style keys, once an epoch)",
      spec: flatAcc({ loss: "CrossEntropyLoss(weight=inverse class frequency)" }),
      raised: false,
    },
    { name: "class_weight: balanced (scikit-learn / Keras habit)", spec: flatAcc({ class_weight: "balanced" }), raised: false },
    { name: "BCEWithLogitsLoss with pos_weight", spec: flatAcc({ loss: "BCEWithLogitsLoss", pos_weight: 9 }), raised: false },
    { name: "a weighted random sampler", spec: flatAcc({ sampler: "WeightedRandomSampler" }), raised: false },
  ])("not raised: $name", (c) => void check("underfitting", c));
});

// ---- train_val_mismatch: one batch of a sorted training set is not the training set ---------------

function batchStats(trainSlice: { mean: number[]; std: number[] }, config: Record<string, unknown>, source?: string): RunSpec {
  return {
    config: { batch_size: 32, train_size: 1125, ...config },
    series: { loss: series(300, (_, p) => 0.2 + 0.8 * Math.exp(-p / 0.2)) },
    events: [
      { type: "input_stats", step: 0, data: { n: 32, ...(source ? { source } : {}), ...trainSlice } },
      { type: "input_stats", step: 36, data: { n: 375, split: "val", mean: [0.02, -0.01, 0.0], std: [1.0, 0.98, 1.01] } },
    ],
  };
}

const sortedSlice = { mean: [1.38, -0.9, 0.05], std: [0.15, 0.2, 0.97] };

describe("train_val_mismatch from a batch of a sorted set", () => {
  test.each<Case>([{ name: "the same batch from a shuffled loader: a real mismatch", spec: batchStats(sortedSlice, {}, "watch"), raised: true }])(
    "$name",
    (c) => void check("train_val_mismatch", c),
  );
  test.each<Case>([
    { name: "watch()'s batch with shuffle off (rows sorted by target)", spec: batchStats(sortedSlice, { shuffle: false }, "watch"), raised: false },
    {
      name: "a hand-logged batch (n = batch_size) with the loader's shuffle off under data",
      spec: batchStats(sortedSlice, { data: { shuffle: false } }),
      raised: false,
    },
  ])("not raised: $name", (c) => void check("train_val_mismatch", c));
});

// ---- vanishing_gradients: the forward signal shrinks by a steady factor layer after layer -----------

function stack(L: number, factor: number, lossLevel: (p: number) => number, seed = 41): RunSpec {
  const g = gauss(seed);
  const out: Record<string, SeriesPoints> = { "train/loss": series(400, (_, p) => lossLevel(p) * (1 + 0.01 * g())) };
  for (let i = 0; i < L; i++) {
    out[`act/fc${i + 1}/std`] = series(40, () => 0.13 * factor ** i * (1 + 0.05 * g()), 10, 0);
    // every weight's gradient is as small: the first/last ratio is ~1
    out[`grad/fc${i + 1}/std`] = series(40, () => 1e-5 * (1 + 0.1 * g()), 10, 0);
  }
  return { config: { num_classes: 2, batch_size: 32 }, series: out, finished: true };
}

const atChance = () => Math.log(2);

describe("vanishing_gradients from a steady shrink of the signal", () => {
  test.each<Case>([
    { name: "10 Hardtanh layers at N(0, 0.1): x0.6 a layer, loss at ln 2 (corpus8's example)", spec: stack(10, 0.6, atChance), raised: true },
    { name: "8 sigmoid-like layers at x0.5", spec: stack(8, 0.5, atChance), raised: true },
    {
      name: "6 layers at x0.65, a 10-class loss at ln 10",
      spec: { ...stack(6, 0.65, () => Math.log(10)), config: { num_classes: 10 } },
      raised: true,
    },
  ])("$name", (c) => void check("vanishing_gradients", c));

  test.each<Case>([
    { name: "a healthy deep stack keeps its scale (x0.95 a layer)", spec: stack(10, 0.95, atChance), raised: false },
    { name: "x0.6 a layer but the loss fell to 0.2: it learns", spec: stack(10, 0.6, (p) => 0.2 + 0.49 * Math.exp(-p / 0.1)), raised: false },
    { name: "only 4 layers at x0.5: too few to call a steady shrink", spec: stack(4, 0.5, atChance), raised: false },
  ])("not raised: $name", (c) => void check("vanishing_gradients", c));
});

// ---- over_regularization: a decay that holds the weights from the first epoch, read from the config --

function heldByDecay(optimizer: string, wd: number, extra: Record<string, unknown> = {}): RunSpec {
  const g = gauss(51);
  const acc = (level: number) => series(15, (_, p) => level - 0.2 * Math.exp(-p / 0.1) + 0.02 * g(), 44, 44);
  return {
    config: { num_classes: 10, optimizer, lr: 0.05, weight_decay: wd, batch_size: 32, train_size: 1347, ...extra },
    series: {
      // one minibatch's loss per step: it swings by 5x around the level
      "train/loss": series(660, (_, p) => (0.9 + 1.4 * Math.exp(-p / 0.1)) * Math.exp(0.5 * g())),
      "val/loss": series(15, (_, p) => 0.95 + 1.4 * Math.exp(-p / 0.1) + 0.05 * g(), 44, 44),
      "train/acc": acc(0.71),
      "val/acc": acc(0.69),
      "weight/convs.0/std": series(66, (_, p) => 0.24 + 0.03 * p, 10, 0),
      "weight/convs.1/std": series(66, () => 0.064, 10, 0),
    },
    finished: true,
  };
}

describe("over_regularization from the decay the config states", () => {
  test.each<Case>([
    {
      name: "SGD(momentum=0.9) in the optimizer's name, wd 0.04 (corpus8: 3e-5 x the training-set size)",
      spec: heldByDecay("SGD(momentum=0.9)", 0.04),
      raised: true,
    },
    { name: "momentum as a config key", spec: heldByDecay("SGD", 0.04, { momentum: 0.9 }), raised: true },
    { name: "'sgd, momentum 0.95' and wd 0.02", spec: heldByDecay("sgd, momentum 0.95", 0.02), raised: true },
  ])("$name", (c) => void check("over_regularization", c));
  test.each<Case>([
    { name: "SGD(momentum=0.9) with an ordinary wd 5e-4", spec: heldByDecay("SGD(momentum=0.9)", 5e-4), raised: false },
    { name: "plain SGD (no momentum) at wd 0.04: half-life 350 steps", spec: heldByDecay("SGD", 0.04), raised: false },
  ])("not raised: $name", (c) => void check("over_regularization", c));
});

// ---- noisy_loss: the noise of samples an output cannot reach is the output's -----------------------

function clipped(predMax: number, seed = 61): RunSpec {
  const g = gauss(seed);
  const r = rng(seed);
  return {
    config: { batch_size: 32, loss: "MSELoss" },
    // most batches fit, a batch that drew a target at +5 costs (5 - 1)^2 / 32 on its own
    series: { loss: series(600, (_, p) => 0.1 + 0.4 * Math.exp(-p / 0.1) + (r() < 0.3 ? 0.5 * (1 + 0.3 * g()) : 0)) },
    events: [{ type: "output_stats", step: 599, data: { pred_min: -1, pred_max: predMax, target_min: -0.95, target_max: 7.4 } }],
    finished: true,
  };
}

describe("noisy_loss beside an output that cannot reach the targets", () => {
  test.each<Case>([{ name: "Hardtanh output at +1, skewed targets up to +7.4", spec: clipped(1), raised: true }])(
    "loss_output_mismatch: $name",
    (c) => void check("loss_output_mismatch", c),
  );
  test.each<Case>([{ name: "Hardtanh output at +1: the noise is the output's", spec: clipped(1), raised: false }])(
    "noisy_loss not raised: $name",
    (c) => void check("noisy_loss", c),
  );
  test.each<Case>([{ name: "the same noise with an output that reaches the targets", spec: clipped(7.5), raised: true }])(
    "noisy_loss still raised: $name",
    (c) => void check("noisy_loss", c),
  );
});
