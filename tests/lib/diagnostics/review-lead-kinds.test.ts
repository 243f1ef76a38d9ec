// A fresh review (issue #10) of three kinds added in session 7: exploding_gradients from the forward
// signal compounding with depth at init, loss_plateau at the start (a saddle), and loss_output_mismatch
// for a sigmoid/tanh squashing a regression output. Members they missed, and the healthy runs closest
// to each, as table-driven synthetic runs.
import { describe, test } from "vitest";
import type { SeriesPoints } from "../../../lib/diagnostics/types";
import { decayingLoss, gauss, series, type RunSpec } from "./synth";
import { type Case, check } from "./kind-case";

// ---- exploding_gradients: the forward signal at init ---------------------------------------------

/** Hidden layers' activation std at init (`init`), tamed to ~1 by the third logged point; healthy elsewhere. */
function forward(init: number[], names?: string[]): RunSpec {
  const layers = names ?? init.map((_, i) => `fc${i + 1}`);
  const out: Record<string, SeriesPoints> = { "train/loss": decayingLoss(400, { start: 2.3, floor: 0.3, seed: 4 }) };
  layers.forEach((name, i) => {
    out[`act/${name}/std`] = series(40, (k) => (k === 0 ? init[i] : 0.8 + 0.02 * i), 10, 0);
    out[`act/${name}/mean`] = series(40, () => 0.4, 10, 0);
    out[`weight/${name}/std`] = series(40, () => 0.1, 10, 0);
    out[`update_ratio/${name}`] = series(40, () => 1e-3, 10, 0);
  });
  return { config: { num_classes: 10, batch_size: 64 }, series: out };
}

describe("exploding_gradients: the forward signal compounding with depth at init", () => {
  test.each<Case>([
    { name: "3 hidden layers initialized N(0, 1): x5 a layer (25x)", spec: forward([0.6, 3, 15]), raised: true },
    { name: "4 conv layers x2.5 a layer (16x)", spec: forward([0.4, 1, 2.5, 6.3], ["conv1", "conv2", "conv3", "fc"]), raised: true },
    { name: "8 LeakyReLU layers x1.55 a layer (the kind's first member)", spec: forward([1.4, 1.9, 2.8, 4, 6.9, 11, 14, 28]), raised: true },
    { name: "a tiny first layer, then BatchNorm: one jump, then level", spec: forward([0.02, 0.6, 0.62]), raised: false },
    { name: "conv + max-pool blocks: x1.5 a block (3.4x)", spec: forward([0.3, 0.45, 0.68, 1.0]), raised: false },
    { name: "borderline: 3 layers growing 8x in all", spec: forward([0.5, 1.4, 4]), raised: false },
    { name: "2 layers, 50x: one jump (an output scale) is no compounding growth", spec: forward([0.1, 5]), raised: false },
  ])("$name -> raised: $raised", (c) => void check("exploding_gradients", c));
});

// ---- loss_plateau at the start ---------------------------------------------------------------------

/** A finished run: the loss from `first` to `level` within `drop` of the run, flat there until `until`, then down to `to`. */
function saddle(o: {
  C?: number;
  first: number;
  level: number;
  drop?: number;
  until: number;
  to: number;
  lrWarmup?: boolean;
  key?: string;
}): RunSpec {
  const { C = 10, drop = 0.02, lrWarmup = false, key = "train/loss" } = o;
  const g = gauss(9);
  const n = 600;
  const loss = series(
    n,
    (_, p) => {
      const v =
        p < drop ? o.first + (o.level - o.first) * (p / drop) : p < o.until ? o.level : o.to + (o.level - o.to) * Math.exp(-(p - o.until) / 0.08);
      return v * (1 + 0.004 * g());
    },
    1,
    0,
  );
  return {
    config: { num_classes: C, batch_size: 64, epochs: 20 },
    series: { [key]: loss, lr: series(n, (_, p) => (lrWarmup ? 1e-3 * Math.min(1, 0.05 + p / 0.4) : 1e-2), 1, 0) },
    finished: true,
  };
}

describe("loss_plateau at the start: a saddle reached after the first steps", () => {
  test.each<Case>([
    {
      name: "10 classes, output initialized off: 3.2 -> ln 10 within 2% of the run, flat there to 40%, then learns",
      spec: saddle({ first: 3.2, level: Math.log(10), until: 0.4, to: 0.3 }),
      raised: true,
    },
    {
      name: "4 classes, 1.9 -> ln 4, flat to 35%, Keras key",
      spec: saddle({ C: 4, first: 1.9, level: Math.log(4), until: 0.35, to: 0.2, key: "loss" }),
      raised: true,
    },
    {
      name: "the kind's first member: starts at ln 10 and sits there to 30%",
      spec: saddle({ first: Math.log(10), level: Math.log(10), until: 0.3, to: 0.3 }),
      raised: true,
    },
    {
      name: "two-phase learning: a quick drop to 1.5 (not chance), flat to 35%, then down",
      spec: saddle({ first: 2.3, level: 1.5, drop: 0.03, until: 0.35, to: 0.3 }),
      raised: false,
    },
    { name: "healthy: at ln 10 only for the first 5%", spec: saddle({ first: 3.2, level: Math.log(10), until: 0.05, to: 0.3 }), raised: false },
    {
      name: "a warmup holds the loss at chance (the logged lr rising through the stretch)",
      spec: saddle({ first: 3.2, level: Math.log(10), until: 0.4, to: 0.3, lrWarmup: true }),
      raised: false,
    },
  ])("$name -> raised: $raised", (c) => void check("loss_plateau", c));
});

// ---- loss_output_mismatch: a squashed regression output --------------------------------------------

/** A regression MLP whose output activation pins `pinned` of its outputs while the loss ends at `lossFrac` of its start. */
function squashed(o: {
  config?: Record<string, unknown>;
  pinned: number;
  lossFrac: number;
  more?: Record<string, SeriesPoints>;
  targets?: [number, number];
}): RunSpec {
  const out: Record<string, SeriesPoints> = {
    "train/loss": decayingLoss(600, { start: 1.2, floor: 1.2 * o.lossFrac, tau: 0.2 }),
    ...o.more,
  };
  for (const name of ["fc1", "fc2", "out"]) {
    out[`update_ratio/${name}`] = series(60, () => 1e-3, 10, 0);
    out[`weight/${name}/std`] = series(60, () => 0.1, 10, 0);
  }
  out["act/out/saturated_frac"] = series(60, (_, p) => o.pinned * Math.min(1, p * 5), 10, 0);
  const events = o.targets
    ? [{ type: "output_stats", step: 590, data: { pred_min: 0.001, pred_max: 0.999, target_min: o.targets[0], target_max: o.targets[1] } }]
    : [];
  return { config: o.config ?? {}, series: out, events };
}

describe("loss_output_mismatch: a sigmoid or tanh squashing a regression output", () => {
  test.each<Case>([
    {
      name: "regression known only by Keras's val_mean_absolute_error, 40% pinned",
      spec: squashed({ pinned: 0.4, lossFrac: 0.5, more: { val_mean_absolute_error: series(20, (_, p) => 0.8 - 0.1 * p, 30, 29) } }),
      raised: true,
    },
    {
      name: "tanh output, output_stats: targets in [-3, 3]",
      spec: squashed({ config: { loss: "MSELoss" }, pinned: 0.35, lossFrac: 0.6, targets: [-3, 3] }),
      raised: true,
    },
    {
      name: "a sigmoid output on rates in [0, 1] (output_stats): pinned outputs are targets at 0 or 1, the loss their noise",
      spec: squashed({ config: { loss: "MSELoss" }, pinned: 0.4, lossFrac: 0.5, targets: [0, 1] }),
      raised: false,
    },
    {
      name: "no regression metric and no loss named: not known to be a regression",
      spec: squashed({ pinned: 0.4, lossFrac: 0.5, more: { "val/score": series(20, (_, p) => 0.8 - 0.1 * p, 30, 29) } }),
      raised: false,
    },
  ])("$name -> raised: $raised", (c) => void check("loss_output_mismatch", c));
});
