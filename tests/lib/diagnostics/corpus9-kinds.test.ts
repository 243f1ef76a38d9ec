// Issue #10: the kinds behind corpus9's false alarms that this session's rule work raised, as table-driven
// synthetic runs (the recorded example, other members of the kind at other scales and logging habits, and
// near-misses that must still raise), each with the exact code it must or must not raise.
import { describe, test } from "vitest";
import type { RunEvent, SeriesPoints } from "../../../lib/diagnostics/types";
import { type Case, check } from "./kind-case";
import { gauss, series, type RunSpec } from "./synth";

const model = (params: number): RunEvent => ({ type: "model", step: 0, data: { params, params_watched: params, weighted_layers: 3 } });

/** Accuracy rising to `top` by the 3rd evaluation, then flat with a little noise. */
function plateauAcc(n: number, every: number, from: number, top: number, seed: number): SeriesPoints {
  const g = gauss(seed);
  return series(n, (i) => Math.min(top, from + ((top - from) * (i + 1)) / 3) + 0.002 * g(), every, every);
}

/**
 * A fit that plateaus with train and val accuracy together: `evals` evaluations every `stepsPerEval`
 * steps, the minibatch loss logged every 5 steps, watch()'s model event with `params`.
 */
function capped(o: {
  evals: number;
  stepsPerEval: number;
  batch: number;
  params: number;
  top: number;
  from?: number;
  epochKey?: number;
  loss?: number;
}): RunSpec {
  const steps = o.evals * o.stepsPerEval;
  const g = gauss(7);
  const lossLevel = o.loss ?? 0.3;
  const s: Record<string, SeriesPoints> = {
    train_loss: series(Math.floor(steps / 5), (_, p) => Math.max(0.01, (lossLevel + 0.4 * Math.exp(-p / 0.05)) * (1 + 0.3 * g())), 5, 5),
    valid_loss: series(o.evals, (_, p) => lossLevel * 0.95 + 0.05 * Math.exp(-p / 0.1), o.stepsPerEval, o.stepsPerEval),
    train_acc: plateauAcc(o.evals, o.stepsPerEval, o.from ?? 0.8, o.top, 1),
    "dev/acc": plateauAcc(o.evals, o.stepsPerEval, o.from ?? 0.8, o.top, 2),
  };
  if (o.epochKey) s.epoch = series(Math.floor(steps / 5), (i) => Math.floor((i * 5) / o.epochKey!), 5, 5);
  return { config: { batch_size: o.batch, optimizer: "Adam", lr: 3e-3 }, series: s, events: [model(o.params)], finished: true };
}

describe("underfitting: a noisy-label task's healthy fit, the training set's size read from the run", () => {
  test.each<Case>([
    {
      name: "corpus9's example: ELU MLP (4.5k params) on moons at noise 0.35, batch 16, 75 steps an epoch, 0.89 / 0.89",
      spec: capped({ evals: 25, stepsPerEval: 75, batch: 16, params: 4482, top: 0.89 }),
      raised: false,
    },
    {
      name: "3-class tabular with 20 % flipped labels, evaluated twice an epoch (40 steps apart at batch 32), 20k params",
      spec: capped({ evals: 30, stepsPerEval: 40, batch: 32, params: 20_000, top: 0.8, from: 0.6, loss: 0.55 }),
      raised: false,
    },
    {
      name: "label-noisy digits, the epoch logged (100 steps of 64), a 100k-parameter CNN at 0.85 / 0.85",
      spec: capped({ evals: 20, stepsPerEval: 100, batch: 64, params: 100_000, top: 0.85, from: 0.5, epochKey: 100, loss: 0.5 }),
      raised: false,
    },
  ])("$name", (c) => void check("underfitting", c));

  test.each<Case>([
    {
      name: "a 300-parameter model on the same 1200 samples: short of capacity",
      spec: capped({ evals: 25, stepsPerEval: 75, batch: 16, params: 300, top: 0.75, from: 0.6, loss: 0.5 }),
      raised: true,
    },
    {
      name: "4.5k params but 600 steps of 64 between evaluations (38k samples an epoch)",
      spec: capped({ evals: 20, stepsPerEval: 600, batch: 64, params: 4482, top: 0.75, from: 0.6, loss: 0.5 }),
      raised: true,
    },
    {
      name: "twice-an-epoch evaluations that make 1.2k params look like 1 per sample: not counted as spare",
      spec: capped({ evals: 30, stepsPerEval: 40, batch: 32, params: 1_500, top: 0.75, from: 0.6, loss: 0.5 }),
      raised: true,
    },
  ])("$name", (c) => void check("underfitting", c));
});

const linear = (params: number): RunEvent => ({ type: "model", step: 0, data: { params, params_watched: params, weighted_layers: 1 } });

/** A regression whose loss levels off at `floor` with validation tracking it, one layer's weight std shrinking. */
function levelled(o: {
  config: Record<string, any>;
  shrinkTo: number;
  trainKey?: string;
  valKey?: string;
  every?: number;
  floor?: number;
  events?: RunEvent[];
  layers?: string[];
}): RunSpec {
  const every = o.every ?? 5;
  const n = Math.floor(800 / every);
  const g = gauss(3);
  const floor = o.floor ?? 0.15;
  const layerSeries: Record<string, SeriesPoints> = {};
  for (const l of o.layers ?? ["fc"]) {
    layerSeries[`weight/${l}/std`] = series(40, (_, p) => 0.16 * (1 - (1 - o.shrinkTo) * Math.min(1, p / 0.3)), 20, 0);
    layerSeries[`update_ratio/${l}`] = series(40, () => 5e-3, 20, 0);
  }
  return {
    config: { batch_size: 50, lr: 3e-3, optimizer: "Adam", ...o.config },
    series: {
      [o.trainKey ?? "train/mse"]: series(n, (_, p) => (floor + 0.45 * Math.exp(-p / 0.08)) * (1 + 0.1 * g()), every, every),
      [o.valKey ?? "val/mse"]: series(12, (_, p) => floor * 1.05 + 0.02 * Math.exp(-p / 0.1), 64, 64),
      ...layerSeries,
    },
    events: o.events ?? [linear(41)],
    finished: true,
  };
}

describe("over_regularization: a linear model's shrinking weights without a named penalty are the loss's", () => {
  test.each<Case>([
    {
      name: "corpus9's example: a linear model on the adding problem, no decay, weight std 0.16 -> 0.075, MSE 0.15",
      spec: levelled({ config: { model: "linear on the flattened sequence" }, shrinkTo: 0.47 }),
      raised: false,
    },
    {
      name: "logistic regression named in the config, no watch() model event, loss / val_loss, weights at 40 %",
      spec: levelled({ config: { model: "logistic regression" }, shrinkTo: 0.4, trainKey: "loss", valKey: "val_loss", floor: 0.4, events: [] }),
      raised: false,
    },
    {
      name: "no config at all, watch() says one Linear layer (801 params), weights at 45 %",
      spec: { ...levelled({ config: {}, shrinkTo: 0.45, events: [linear(801)] }), config: {} },
      raised: false,
    },
  ])("$name", (c) => void check("over_regularization", c));

  test.each<Case>([
    {
      name: "the same linear run with weight_decay 0.05 set",
      spec: levelled({ config: { weight_decay: 0.05 }, shrinkTo: 0.47 }),
      raised: true,
    },
    {
      name: "a linear run with an L2 penalty added to the loss and named in the config",
      spec: levelled({ config: { l2_penalty: 0.05 }, shrinkTo: 0.4, trainKey: "loss", valKey: "val_loss" }),
      raised: true,
    },
    {
      name: "a 3-layer MLP, nothing named: every layer halved is still a penalty's mark",
      spec: levelled({ config: {}, shrinkTo: 0.4, events: [model(5000)], layers: ["fc1", "fc2", "out"] }),
      raised: true,
    },
  ])("$name", (c) => void check("over_regularization", c));
});

/**
 * A run whose logged lr the schedule cut from `peak` to `peak * cut` at `cutAt` of the run; the update
 * ratio follows the lr (`ratio` at the peak lr); the loss levels off at `floor` (a noisy task's).
 */
function annealed(o: { peak: number; cut: number; ratio: number; floor: number; cutAt?: number; classes?: number; lrKey?: string }): RunSpec {
  const g = gauss(11);
  const cutAt = o.cutAt ?? 0.5;
  const lr = (p: number) => o.peak * (p < cutAt ? 1 : o.cut);
  const evals = 25;
  const every = 75;
  return {
    config: { batch_size: 16, optimizer: "Adam", lr: o.peak, ...(o.classes ? { num_classes: o.classes } : {}) },
    series: {
      train_loss: series(375, (_, p) => (o.floor + 0.1 * Math.exp(-p / 0.02)) * (1 + 0.3 * g()), 5, 4),
      valid_loss: series(evals, (_, p) => o.floor * 0.92 + 0.03 * Math.exp(-p / 0.1), every, every - 1),
      train_acc: series(evals, (i) => 0.85 + 0.04 * Math.min(1, i / 10), every, every - 1),
      "dev/acc": series(evals, (i) => 0.85 + 0.04 * Math.min(1, i / 10), every, every - 1),
      [o.lrKey ?? "lr"]: series(375, (_, p) => lr(p), 5, 4),
      "update_ratio/0": series(38, (_, p) => o.ratio * (lr(p) / o.peak) * (1 + 0.2 * g()), 50, 0),
      "update_ratio/2": series(38, (_, p) => 2 * o.ratio * (lr(p) / o.peak) * (1 + 0.2 * g()), 50, 0),
    },
    finished: true,
  };
}

describe("lr_too_low: small steps at the end of a run whose schedule cut the lr", () => {
  test.each<Case>([
    {
      name: "corpus9's example: ReduceLROnPlateau cut 3e-3 to 2.7e-4 on noisy moons, ratios 6e-5 late, 7e-4 at the set lr",
      spec: annealed({ peak: 3e-3, cut: 0.09, ratio: 7e-4, floor: 0.27, cutAt: 0.3 }),
      raised: false,
    },
    {
      name: "a StepLR decay x0.1 halfway, SGD at 0.05, ratios 5e-4 before it",
      spec: annealed({ peak: 0.05, cut: 0.1, ratio: 5e-4, floor: 0.3 }),
      raised: false,
    },
    {
      name: "a cosine-like cut to 3 % logged as learning_rate, ratios 2e-3 at the start",
      spec: annealed({ peak: 1e-3, cut: 0.03, ratio: 2e-3, floor: 0.25, cutAt: 0.6, lrKey: "learning_rate" }),
      raised: false,
    },
  ])("$name", (c) => void check("lr_too_low", c));

  test.each<Case>([
    {
      name: "an lr too low from the start: ratios 3e-6 at the set lr, a cut on top does not excuse it",
      spec: annealed({ peak: 1e-6, cut: 0.3, ratio: 3e-6, floor: 0.6 }),
      raised: true,
    },
    {
      name: "no cut at all, ratios 5e-6 the whole run",
      spec: annealed({ peak: 1e-6, cut: 1, ratio: 5e-6, floor: 0.6 }),
      raised: true,
    },
  ])("$name", (c) => void check("lr_too_low", c));
});
