// Issue #10's known misses on the dev corpora, by kind: each kind as table-driven synthetic runs
// (positive, negative, borderline), with the exact code it must (or must not) raise.
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { boundedLogitFloor } from "../../../lib/diagnostics/rules/loss-output-mismatch";
import type { HistogramRecord, SeriesPoints } from "../../../lib/diagnostics/types";
import { constant, gauss, makeRun, series, type RunSpec } from "./synth";
import { type Case, check } from "./kind-case";

function codesOf(spec: RunSpec): string[] {
  return diagnose(makeRun(spec), { strict: true }).map((d) => d.code);
}

/** 40 evaluations (one per epoch of 10 steps) following f(progress), with a little noise. */
function perEpoch(f: (p: number) => number, seed = 5, n = 40, noise = 0.002): SeriesPoints {
  const g = gauss(seed);
  return series(n, (_, p) => f(p) + noise * g(), 10, 9);
}

/** A minibatch loss over 400 steps following level(progress), relative noise `noise`. */
function lossCurve(level: (p: number) => number, noise = 0.05, seed = 3): SeriesPoints {
  const g = gauss(seed);
  return series(400, (_, p) => Math.max(1e-4, level(p) * (1 + noise * g())), 1, 0);
}

const LAYERS = ["fc1", "fc2", "out"];
function layers(ur: (layer: number, p: number) => number, names = LAYERS): Record<string, SeriesPoints> {
  const out: Record<string, SeriesPoints> = {};
  const g = gauss(17);
  names.forEach((name, li) => {
    out[`update_ratio/${name}`] = series(80, (_, p) => ur(li, p) * (1 + 0.1 * g()), 5, 0);
    out[`weight/${name}/std`] = series(80, () => 0.15, 5, 0);
  });
  return out;
}
const HEALTHY_UR = (_: number, p: number) => 3e-3 * Math.exp(-1.5 * p);

// ---- loss_output_mismatch -------------------------------------------------------------------

/** A classifier whose loss creeps down towards `floor` from above while accuracy climbs to `to`. */
function creeping(C: number, to: number, floorTo: number, opts: { accTau?: number; lossTau?: number } = {}): RunSpec {
  const { accTau = 0.1, lossTau = 0.35 } = opts;
  const start = Math.log(C);
  return {
    config: { num_classes: C, model_layers: LAYERS },
    series: {
      "train/loss": lossCurve((p) => floorTo + (start - floorTo) * Math.exp(-p / lossTau), 0.03),
      "train/acc": perEpoch((p) => Math.min(1, to - (to - 1 / C) * Math.exp(-p / accTau))),
      "val/acc": perEpoch((p) => Math.min(1, to - 0.01 - (to - 1 / C) * Math.exp(-p / accTau)), 6),
      lr: constant(80, 1e-3, 5),
      ...layers(HEALTHY_UR),
    },
  };
}

/** act/out histograms of a ReLU after the output layer: `zero` of the outputs exactly at 0. */
function reluOut(zero: number): Record<string, HistogramRecord[]> {
  const recs: HistogramRecord[] = [];
  for (let step = 50; step <= 400; step += 50) {
    const bins = 30;
    const edges = Array.from({ length: bins + 1 }, (_, i) => (3 * i) / bins);
    // the rest spread as a half-normal over (0, 3]
    const w = edges.slice(0, bins).map((e) => Math.exp(-((e + 0.05) ** 2) / 2));
    const sum = w.reduce((a, b) => a + b, 0);
    const counts = w.map((x) => Math.round(((1 - zero) * 1000 * x) / sum));
    counts[0] += Math.round(zero * 1000);
    recs.push({ step, edges, counts });
  }
  return { "act/out": recs };
}

function regression(opts: { zero?: number; lossTo?: number; reluOnOut?: boolean } = {}): RunSpec {
  const { zero = 0.5, lossTo = 0.5, reluOnOut = true } = opts;
  return {
    config: { loss: "MSELoss", task: "regression", model_layers: LAYERS },
    series: {
      "train/loss": lossCurve((p) => lossTo + (1 - lossTo) * Math.exp(-p / 0.1), 0.15),
      "val/loss": perEpoch((p) => lossTo * 1.1 + (1 - lossTo) * Math.exp(-p / 0.1)),
      lr: constant(80, 1e-3, 5),
      ...layers(HEALTHY_UR),
      "act/fc1/dead_frac": constant(80, 0.01, 5),
      "act/fc2/dead_frac": constant(80, 0.02, 5),
      ...(reluOnOut ? { "act/out/dead_frac": constant(80, 0, 5), "act/out/mean": constant(80, 0.4, 5) } : {}),
    },
    histograms: reluOnOut ? reluOut(zero) : {},
  };
}

describe("loss_output_mismatch", () => {
  const floor3 = boundedLogitFloor(3);
  const floor2 = boundedLogitFloor(2);
  test.each<Case>([
    {
      name: "softmax before CrossEntropyLoss on 3 classes: accuracy 0.99 from early on, the loss still creeping down to 1.04 x the floor",
      spec: creeping(3, 0.99, 1.03 * floor3),
      raised: true,
    },
    {
      name: "sigmoid on 2 logits: accuracy 0.985, the loss creeping towards ln(1 + 1/e)",
      spec: creeping(2, 0.985, 1.05 * floor2),
      raised: true,
    },
    { name: "healthy 3 classes: accuracy 0.99, the loss goes on far below the floor", spec: creeping(3, 0.99, 0.03), raised: false },
    {
      name: "borderline: accurate only in the last quarter, the loss still falling through the floor's level",
      spec: creeping(3, 0.99, 0.2, { accTau: 0.45, lossTau: 0.6 }),
      raised: false,
    },
    { name: "borderline: accuracy only 0.9 on 3 classes (a logits model could sit there too)", spec: creeping(3, 0.9, 1.03 * floor3), raised: false },
    { name: "ReLU after a regression's output layer: half the outputs exactly 0, loss at half its start", spec: regression(), raised: true },
    { name: "linear regression output (no activation after the last layer)", spec: regression({ reluOnOut: false }), raised: false },
    { name: "ReLU output on non-negative targets that the model fits (loss at 3% of its start)", spec: regression({ lossTo: 0.03 }), raised: false },
    { name: "borderline: 12% of the outputs at 0", spec: regression({ zero: 0.12 }), raised: false },
  ])("$name -> raised: $raised", (c) => void check("loss_output_mismatch", c));
});

// ---- train_val_mismatch without validation input statistics ---------------------------------

/**
 * 10 classes, train accuracy rising to 0.99 and its loss to 0.03; validation given by `val`:
 * accuracy and loss at each evaluation's progress.
 */
function trainVal(valAcc: (p: number) => number, valLoss: (p: number) => number, opts: { C?: number; valAccAlso?: boolean } = {}): RunSpec {
  const { C = 10 } = opts;
  const start = Math.log(C);
  const trainLoss = (p: number) => 0.03 + (start - 0.03) * Math.exp(-p / 0.12);
  const trainAcc = (p: number) => 0.99 - (0.99 - 1 / C) * Math.exp(-p / 0.12);
  return {
    config: { num_classes: C, model_layers: LAYERS },
    series: {
      "train/loss": lossCurve(trainLoss, 0.1),
      "train/acc": perEpoch(trainAcc),
      "val/acc": perEpoch(valAcc, 8),
      "val/loss": perEpoch(valLoss, 9, 40, 0),
      lr: constant(80, 1e-3, 5),
      ...layers(HEALTHY_UR),
    },
  };
}
const trainLoss10 = (p: number) => 0.03 + (Math.log(10) - 0.03) * Math.exp(-p / 0.12);
const trainAcc10 = (p: number) => 0.99 - (0.99 - 0.1) * Math.exp(-p / 0.12);

describe("train_val_mismatch", () => {
  test.each<Case>([
    {
      name: "validation pixels on another scale: accuracy 12 points behind and loss 20x the training loss from the 2nd evaluation",
      spec: trainVal(
        (p) => trainAcc10(p) - 0.12,
        (p) => 20 * trainLoss10(p),
      ),
      raised: true,
    },
    {
      name: "unscaled validation inputs on a binary task: validation accuracy at the minority share, loss in the hundreds",
      spec: trainVal(
        (p) => (p < 0.03 ? 0.6 : 0.37),
        (p) => 14 + 440 * p,
        { C: 2 },
      ),
      raised: true,
    },
    {
      name: "healthy: validation tracks training (gap 2 points, loss 1.5x)",
      spec: trainVal(
        (p) => trainAcc10(p) - 0.02,
        (p) => 1.5 * trainLoss10(p),
      ),
      raised: false,
    },
    {
      name: "overfitting: the gap opens gradually, validation loss near training loss at first",
      spec: trainVal(
        (p) => trainAcc10(p) - 0.25 * p,
        (p) => trainLoss10(p) * (1 + 60 * p * p),
      ),
      raised: false,
    },
    {
      name: "borderline: loss 20x from the start but accuracies within 3 points",
      spec: trainVal(
        (p) => trainAcc10(p) - 0.03,
        (p) => 20 * trainLoss10(p),
      ),
      raised: false,
    },
  ])("$name -> raised: $raised", (c) => void check("train_val_mismatch", c));

  test("a validation set at chance because of a mismatch is not no_learning, nor overfitting", () => {
    const codes = codesOf(
      trainVal(
        () => 0.37,
        (p) => 30 + 500 * p,
        { C: 2 },
      ),
    );
    expect(codes).toContain("train_val_mismatch");
    expect(codes).not.toContain("no_learning");
    expect(codes).not.toContain("overfitting");
  });
});

// ---- lr_too_high: giant first steps that blew the loss up, then a recovery -------------------

/**
 * A binary classifier over 480 steps whose first `spikeSteps` steps have update ratios of `peak` on
 * the layers in `peakLayers`, the loss jumping to `spikeTo` then recovering to 0.15.
 */
function giantSteps(opts: { peak?: number; peakLayers?: number[]; spikeTo?: number; spikeSteps?: number } = {}): RunSpec {
  const { peak = 10, peakLayers = [0, 1, 2], spikeTo = 150, spikeSteps = 20 } = opts;
  const g = gauss(4);
  const loss = series(
    480,
    (i) => {
      if (i === 0) return 0.7;
      const level = i < spikeSteps ? spikeTo : 0.15 + 0.6 * Math.exp(-(i - spikeSteps) / 20);
      return Math.max(1e-4, level * (1 + 0.2 * g()));
    },
    1,
    0,
  );
  const out: Record<string, SeriesPoints> = {};
  LAYERS.forEach((name, li) => {
    out[`update_ratio/${name}`] = series(96, (i) => (i < 2 && peakLayers.includes(li) ? peak : 1.5e-3 * (1 + 0.2 * g())), 5, 0);
    out[`weight/${name}/std`] = series(96, (i) => (i < 1 ? 0.15 : 1.5), 5, 0);
  });
  return {
    config: { num_classes: 2, model_layers: LAYERS, optimizer: "Adam", lr: 1.0 },
    series: {
      "train/loss": loss,
      "train/acc": perEpoch((p) => 0.93 + 0.02 * p),
      "val/acc": perEpoch((p) => 0.94 + 0.02 * p, 6),
      lr: constant(96, 1.0, 5),
      ...out,
    },
  };
}

describe("lr_too_high", () => {
  test.each<Case>([
    { name: "Adam at lr 1.0: first steps 10x the weights' size, the loss 200x its start, then recovered", spec: giantSteps(), raised: true },
    { name: "the same with ratios of 2 on two of three layers", spec: giantSteps({ peak: 2, peakLayers: [1, 2] }), raised: true },
    { name: "a loss spike without giant steps (a bad batch)", spec: giantSteps({ peak: 1.5e-3 }), raised: false },
    { name: "a giant first step on one layer of three (a zero-initialised layer), loss spike", spec: giantSteps({ peakLayers: [2] }), raised: false },
    { name: "borderline: giant first steps, the loss only doubles before recovering", spec: giantSteps({ spikeTo: 1.4 }), raised: false },
  ])("$name -> raised: $raised", (c) => void check("lr_too_high", c));
});

// ---- no_learning on two imbalanced classes --------------------------------------------------

const hBin = (p: number) => -p * Math.log(p) - (1 - p) * Math.log(1 - p);

/** Two classes: accuracy rising from `from` to a level `a` it stays pinned at, losses at `lossFrac` x h(a). */
function pinned(a: number, lossFrac: number, opts: { C?: number; from?: number } = {}): RunSpec {
  const { C = 2, from = 0.45 } = opts;
  const level = lossFrac * hBin(a);
  const start = Math.log(C);
  const accAt = (p: number) => a - (a - from) * Math.exp(-p / 0.05);
  return {
    config: { num_classes: C, model_layers: LAYERS },
    series: {
      "train/loss": lossCurve((p) => level + (start - level) * Math.exp(-p / 0.08), 0.08),
      "val/loss": perEpoch((p) => level + (start - level) * Math.exp(-p / 0.08), 9, 40, 0.002),
      "train/acc": perEpoch(accAt, 5, 40, 0.004),
      "val/acc": perEpoch(accAt, 6, 40, 0.006),
      lr: constant(80, 1e-3, 5),
      ...layers(HEALTHY_UR),
    },
  };
}

describe("no_learning beyond the class prior", () => {
  test.each<Case>([
    { name: "labels permuted on breast cancer (62% one class): accuracy pinned at 0.62, loss at h(0.62)", spec: pinned(0.62, 1.0), raised: true },
    { name: "the same at 70% one class, loss slightly under the prior's entropy", spec: pinned(0.7, 0.95), raised: true },
    { name: "a linear model on moons: accuracy pinned at 0.87, loss at 0.7 x h(0.87)", spec: pinned(0.87, 0.7), raised: false },
    { name: "three classes learned to 0.82 (loss near h(0.82) by coincidence)", spec: pinned(0.82, 0.96, { C: 3 }), raised: false },
    { name: "borderline: 93% one class is majority_class's, not this", spec: pinned(0.93, 1.05), raised: false },
    { name: "borderline: loss at 0.88 x h(a) (the model learned a little)", spec: pinned(0.62, 0.88), raised: false },
  ])("$name -> raised: $raised", (c) => void check("no_learning", c));
});

// ---- unshuffled_data: a net stuck at one answer on label-sorted batches ---------------------

const EPOCH = 43;
/**
 * A 10-class net that died in its first epoch: every batch of one class scores that class's loss
 * (2.3 +- `swing` / 2 by class), batches in label order every epoch unless `shuffled`; the fc layer's
 * units all dead after the first epoch, update ratios ~0.
 */
function stuckSorted(opts: { epochs?: number; swing?: number; shuffled?: boolean; declared?: boolean; learning?: boolean } = {}): RunSpec {
  const { epochs = 10, swing = 0.25, shuffled = false, declared = true, learning = false } = opts;
  const g = gauss(12);
  const u = gauss(13);
  const n = epochs * EPOCH;
  const classOf: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const order = Array.from({ length: EPOCH }, (_, i) => Math.floor((i * 10) / EPOCH));
    if (shuffled) order.sort(() => u() - 0.5);
    classOf.push(...order);
  }
  const loss = series(n, (i) => (i < EPOCH ? 2.3 - (0.5 * i) / EPOCH : 2.3 + swing * (classOf[i] / 9 - 0.5)) * (1 + 0.003 * g()), 1, 0);
  const epoch = series(n, (i) => i / EPOCH, 1, 0);
  const perLayer = (f: (i: number) => number) => series(Math.ceil(n / 5), (i) => f(i * 5), 5, 0);
  return {
    config: {
      num_classes: 10,
      batch_size: 32,
      train_size: 1347,
      model_layers: ["conv1", "conv2", "fc", "out"],
      ...(declared ? { shuffle: false } : {}),
    },
    series: {
      "train/loss": loss,
      epoch,
      "train/acc": series(epochs, (_, p) => (learning ? 0.3 + 0.6 * p : 0.101), EPOCH, EPOCH - 1),
      "val/acc": series(epochs, (_, p) => (learning ? 0.3 + 0.55 * p : 0.1), EPOCH, EPOCH - 1),
      "val/loss": series(epochs, () => 2.31, EPOCH, EPOCH - 1),
      lr: perLayer(() => 0.02),
      ...Object.fromEntries(
        ["conv1", "conv2", "fc", "out"].flatMap((l) => [
          [`update_ratio/${l}`, perLayer((i) => (i < EPOCH ? 3e-3 : 1e-8))],
          [`weight/${l}/std`, perLayer(() => 0.1)],
        ]),
      ),
      "act/fc/dead_frac": perLayer((i) => (i < EPOCH ? 0.3 : 1)),
      "act/conv2/dead_frac": perLayer((i) => (i < EPOCH ? 0.1 : 0.7 + 0.05 * Math.sin(i))),
    },
  };
}

function firstEpochs(spec: RunSpec, epochs: number): RunSpec {
  const cut = epochs * EPOCH;
  const series: Record<string, SeriesPoints> = {};
  for (const [k, s] of Object.entries(spec.series ?? {})) {
    const n = s.steps.filter((x) => x < cut).length;
    series[k] = { steps: s.steps.slice(0, n), values: s.values.slice(0, n) };
  }
  return { ...spec, series };
}

describe("unshuffled_data", () => {
  test.each<Case>([
    { name: "a net stuck at one answer on label-sorted batches: the loss repeats a 10% sawtooth every epoch", spec: stuckSorted(), raised: true },
    { name: "the same already after 5 epochs", spec: firstEpochs(stuckSorted(), 5), raised: true },
    { name: "the same batches shuffled every epoch", spec: stuckSorted({ shuffled: true }), raised: false },
    { name: "borderline: a sawtooth of 3% of the level", spec: stuckSorted({ swing: 0.07 }), raised: false },
    {
      name: "borderline: the same faint sawtooth while accuracy climbs (a model that learns: the looser test's 25% swing applies)",
      spec: stuckSorted({ learning: true }),
      raised: false,
    },
  ])("$name -> raised: $raised", (c) => void check("unshuffled_data", c));

  test("shuffle=False declared: dead_relu and lr_too_low wait for the order test in the first epochs, then fold under it", () => {
    const early = firstEpochs(stuckSorted(), 3.5);
    expect(codesOf(early)).not.toContain("dead_relu");
    expect(codesOf(early)).not.toContain("lr_too_low");
    // without the declaration the same numbers read as dead units at once
    expect(codesOf(firstEpochs(stuckSorted({ declared: false }), 3.5))).toContain("dead_relu");
    const codes = codesOf(stuckSorted());
    expect(codes).toContain("unshuffled_data");
    expect(codes).not.toContain("dead_relu");
  });

  test("shuffle=False declared but no sawtooth: dead units are raised once the wait is over", () => {
    expect(codesOf(stuckSorted({ shuffled: true }))).toContain("dead_relu");
  });
});
