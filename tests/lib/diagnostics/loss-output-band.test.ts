// loss_output_mismatch read at every evaluation (issue #10): probabilities used as logits keep each
// (accuracy, loss) pair inside a band however accurate the model is, and probabilities fed to NLLLoss
// give a loss that no classification loss can have (negative). Table-driven synthetic runs of other
// sizes and logging habits than the corpora's, with the healthy runs that look closest.
import { describe, expect, test } from "vitest";
import { diagnose } from "../../../lib/diagnostics";
import { fanoLoss, probabilityLogitBand, smoothedTargetEntropy } from "../../../lib/diagnostics/rules/loss-output-mismatch";
import type { SeriesPoints } from "../../../lib/diagnostics/types";
import { gauss, makeRun, series, type RunSpec } from "./synth";

interface Case {
  name: string;
  spec: RunSpec;
  raised: boolean;
}

function check(c: Case) {
  const found = diagnose(makeRun(c.spec), { strict: true });
  const d = found.find((x) => x.code === "loss_output_mismatch");
  if (c.raised) {
    expect(d, `loss_output_mismatch should be raised; got ${found.map((x) => x.code).join(", ") || "nothing"}`).toBeDefined();
    expect(d!.message).toMatch(/\d\.\d/);
    expect(d!.message.length).toBeGreaterThan(150);
  } else {
    expect(d, `loss_output_mismatch should not be raised: ${d?.message}`).toBeUndefined();
  }
}

interface Shape {
  C: number;
  epochs: number;
  stepsPerEpoch: number;
  /** accuracy (0..1) at the end of epoch e of `epochs` */
  acc: (p: number) => number;
  /** loss at accuracy a (and progress p) */
  trainLoss: (a: number, p: number) => number;
  valLoss?: ((a: number, p: number) => number) | null;
  keys?: { loss: string; valLoss: string; acc: string; valAcc: string };
  percent?: boolean;
  /** train loss once an epoch instead of every step */
  perEpochLoss?: boolean;
  config?: Record<string, unknown>;
  seed?: number;
}

const SLASH = { loss: "train/loss", valLoss: "val/loss", acc: "train/acc", valAcc: "val/acc" };
const KERAS = { loss: "loss", valLoss: "val_loss", acc: "accuracy", valAcc: "val_accuracy" };

function run(s: Shape): RunSpec {
  const g = gauss(s.seed ?? 7);
  const k = s.keys ?? SLASH;
  const scale = s.percent ? 100 : 1;
  const E = s.epochs;
  const spe = s.stepsPerEpoch;
  const accAt = (p: number) => Math.min(0.999, Math.max(0, s.acc(p)));
  const out: Record<string, SeriesPoints> = {};
  if (s.perEpochLoss) {
    out[k.loss] = series(E, (i) => s.trainLoss(accAt((i + 1) / E), (i + 1) / E) * (1 + 0.01 * g()), spe, spe);
  } else {
    // each step's loss at the accuracy the model has then, with minibatch noise
    out[k.loss] = series(E * spe, (i) => s.trainLoss(accAt((i + 1) / (E * spe)), (i + 1) / (E * spe)) * (1 + 0.04 * g()), 1, 1);
  }
  out[k.acc] = series(E, (i) => scale * Math.min(0.999, accAt((i + 1) / E) + 0.005 * g()), spe, spe);
  out[k.valAcc] = series(E, (i) => scale * Math.min(0.999, accAt((i + 1) / E) - 0.02 + 0.005 * g()), spe, spe);
  if (s.valLoss !== null) {
    const vl = s.valLoss ?? s.trainLoss;
    out[k.valLoss] = series(E, (i) => vl(accAt((i + 1) / E) - 0.02, (i + 1) / E) * (1 + 0.01 * g()), spe, spe);
  }
  return { config: { num_classes: s.C, batch_size: 32, epochs: E, ...(s.config ?? {}) }, series: out };
}

/** accuracy rising from chance to `to` with time constant tau (share of the run) */
const rising =
  (C: number, to: number, tau = 0.25) =>
  (p: number) =>
    to - (to - 1 / C) * Math.exp(-p / tau);
/** the loss probabilities-as-logits give: just above the band's bottom at that accuracy */
const squashed =
  (C: number, above = 1.06) =>
  (a: number) =>
    above * probabilityLogitBand(Math.max(a, 1 / C), C).low;
/** a healthy, calibrated-ish fit: the Fano loss at that accuracy (ln C at chance) */
const calibrated =
  (C: number, f = 0.9) =>
  (a: number) =>
    f * fanoLoss(1 - Math.max(a, 1 / C), C);

describe("loss_output_mismatch: every evaluation inside the band probabilities-as-logits allow", () => {
  test.each<Case>([
    {
      name: "softmax before CrossEntropyLoss, Conv1d on 4 classes, 12 epochs: accuracy reaches 0.88 while the loss tracks the band's bottom, still falling",
      spec: run({ C: 4, epochs: 12, stepsPerEpoch: 29, acc: rising(4, 0.9, 0.35), trainLoss: squashed(4) }),
      raised: true,
    },
    {
      name: "10 classes, loss logged once an epoch, accuracy to 0.93 (a GRU with a softmax head)",
      spec: run({ C: 10, epochs: 10, stepsPerEpoch: 50, acc: rising(10, 0.94, 0.2), trainLoss: squashed(10, 1.03), perEpochLoss: true }),
      raised: true,
    },
    {
      name: "5 classes, Keras keys, accuracy in percent, 20 epochs",
      spec: run({ C: 5, epochs: 20, stepsPerEpoch: 20, acc: rising(5, 0.92, 0.3), trainLoss: squashed(5, 1.1), keys: KERAS, percent: true }),
      raised: true,
    },
    {
      name: "healthy 4 classes at the same accuracies: the loss near a calibrated model's",
      spec: run({ C: 4, epochs: 12, stepsPerEpoch: 29, acc: rising(4, 0.9, 0.35), trainLoss: calibrated(4) }),
      raised: false,
    },
    {
      name: "healthy 10 classes, underconfident early (in the band at first), then far below it",
      spec: run({
        C: 10,
        epochs: 15,
        stepsPerEpoch: 40,
        acc: rising(10, 0.95, 0.1),
        trainLoss: (a, p) => squashed(10, 1.05)(a) * Math.exp(-3 * p) + calibrated(10, 0.5)(a),
      }),
      raised: false,
    },
    {
      name: "explicit L2 penalty: the training loss held up in the band, the validation loss (no penalty) below it",
      spec: run({ C: 10, epochs: 12, stepsPerEpoch: 40, acc: rising(10, 0.88, 0.1), trainLoss: squashed(10, 1.2), valLoss: calibrated(10, 1.3) }),
      raised: false,
    },
    {
      name: "overconfident mistakes: the validation loss far above the band's ceiling (inputs processed differently, lr too high)",
      spec: run({
        C: 4,
        epochs: 12,
        stepsPerEpoch: 29,
        acc: rising(4, 0.9, 0.35),
        trainLoss: squashed(4),
        valLoss: (a) => 3 * probabilityLogitBand(a, 4).high,
      }),
      raised: false,
    },
    {
      name: "borderline: only the training loss is logged (a training curve alone can lag its accuracy)",
      spec: run({ C: 4, epochs: 12, stepsPerEpoch: 29, acc: rising(4, 0.9, 0.35), trainLoss: squashed(4), valLoss: null }),
      raised: false,
    },
    {
      name: "borderline: two classes (an underconfident or label-smoothed fit sits at the band's bottom too)",
      spec: run({ C: 2, epochs: 12, stepsPerEpoch: 29, acc: rising(2, 0.95, 0.3), trainLoss: squashed(2) }),
      raised: false,
    },
    {
      name: "borderline: accuracy never high enough (0.6 of 4 classes: free logits could sit in the band too)",
      spec: run({ C: 4, epochs: 12, stepsPerEpoch: 29, acc: rising(4, 0.6, 0.3), trainLoss: squashed(4) }),
      raised: false,
    },
  ])("$name -> raised: $raised", check);
});

/** a healthy fit against label-smoothed targets: the targets' own entropy plus what the errors cost */
const smoothedFit = (C: number, eps: number) => (a: number) => 1.05 * smoothedTargetEntropy(eps, C) + (1 - eps) * fanoLoss(1 - Math.max(a, 1 / C), C);

describe("loss_output_mismatch: label smoothing the config names floors the loss by design", () => {
  test.each<Case>([
    {
      name: "Mish MLP, 3 classes, label_smoothing 0.3, accuracy in percent to 0.97: the loss floors near 0.7",
      spec: run({
        C: 3,
        epochs: 25,
        stepsPerEpoch: 36,
        acc: rising(3, 0.97, 0.15),
        trainLoss: smoothedFit(3, 0.3),
        percent: true,
        config: { label_smoothing: 0.3 },
      }),
      raised: false,
    },
    {
      name: "10 classes, smoothing 0.2 under hyperparams, Keras keys, loss once an epoch",
      spec: run({
        C: 10,
        epochs: 15,
        stepsPerEpoch: 40,
        acc: rising(10, 0.96, 0.15),
        trainLoss: smoothedFit(10, 0.2),
        keys: KERAS,
        perEpochLoss: true,
        config: { hyperparams: { smoothing: 0.2 } },
      }),
      raised: false,
    },
    {
      name: "5 classes, label_smoothing 0.4 (a loss above the probabilities' band bottom)",
      spec: run({ C: 5, epochs: 12, stepsPerEpoch: 30, acc: rising(5, 0.95, 0.2), trainLoss: smoothedFit(5, 0.4), config: { label_smoothing: 0.4 } }),
      raised: false,
    },
    {
      name: "mild smoothing (0.05) does not excuse a softmax before CrossEntropyLoss on 10 classes",
      spec: run({
        C: 10,
        epochs: 10,
        stepsPerEpoch: 50,
        acc: rising(10, 0.94, 0.2),
        trainLoss: squashed(10, 1.03),
        config: { label_smoothing: 0.05 },
      }),
      raised: true,
    },
  ])("$name -> raised: $raised", check);
});

/** NLLLoss on probabilities: minus the mean probability of the true class. */
function negative(opts: { C?: number; config?: Record<string, unknown>; lossKey?: string; low?: number; accKey?: string | null }): RunSpec {
  const { C = 10, config = { num_classes: C, loss: "NLLLoss" }, lossKey = "train/loss", low = -0.9, accKey = "val/acc" } = opts;
  const g = gauss(3);
  return {
    config,
    series: {
      [lossKey]: series(
        300,
        (_, p) => Math.min(0, Math.max(low < -1 ? -Infinity : -1, -1 / C + (low + 1 / C) * (1 - Math.exp(-p / 0.2)) + 0.03 * g())),
        1,
        0,
      ),
      ...(accKey ? { [accKey]: series(10, (i) => Math.min(1, 0.5 + 0.04 * i), 30, 29) } : {}),
    },
  };
}

describe("loss_output_mismatch: a classification loss below zero", () => {
  test.each<Case>([
    { name: "softmax outputs fed to NLLLoss, 10 classes: -0.1 falling to -0.9", spec: negative({}), raised: true },
    {
      name: "binary, Keras keys, config silent about the loss: -0.5 falling to -0.95",
      spec: negative({ C: 2, config: {}, lossKey: "loss", low: -0.95, accKey: "val_accuracy" }),
      raised: true,
    },
    {
      name: "criterion named nll_loss in hyperparams, 4 classes",
      spec: negative({ C: 4, config: { hyperparams: { criterion: "nll_loss" }, n_classes: 4 } }),
      raised: true,
    },
    {
      name: "a loss negative by design (negated cosine similarity) on a classifier",
      spec: negative({ config: { num_classes: 10, loss: "CosineEmbedding" } }),
      raised: false,
    },
    {
      name: "a regression's Gaussian negative log-likelihood below 0 (no classes, no accuracy)",
      spec: negative({ config: {}, accKey: null }),
      raised: false,
    },
    {
      name: "a contrastive objective that goes below -1 on a classifier: not a probability",
      spec: negative({ config: { num_classes: 10 }, low: -3 }),
      raised: false,
    },
  ])("$name -> raised: $raised", check);
});
