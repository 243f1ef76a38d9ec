// vanishing_gradients: the gradient reaching the first layers is orders of magnitude smaller
// than at the last layer, so the early layers effectively do not train.

import { diagnosis, type Context, type Rule } from "../context";
import { layerRecent, type LayerStat } from "../layers";
import { fmt, round } from "../series";
import type { Diagnosis } from "../types";
import { layerGrads } from "./gradients";

export const vanishingGradients: Rule = {
  code: "vanishing_gradients",
  evaluate(ctx) {
    return byGradients(ctx) ?? byActivations(ctx);
  },
};

function byGradients(ctx: Context): Diagnosis | null {
  const { field, stats } = layerGrads(ctx);
  if (stats.length < 2) return null;
  const first = stats[0];
  const last = stats[stats.length - 1];
  const ratio = Math.abs(first.recent) / Math.abs(last.recent);
  if (!(ratio < ctx.t.grad_vanish_ratio)) return null;
  // A ReLU layer dead for most of its units blocks every gradient behind it: the first layer then gets
  // none because of the dead units (dead_relu's finding: an lr too high killed them), not because the
  // signal shrinks layer by layer.
  const dead = layerRecent(ctx, "dead_frac").filter((x) => x.recent > ctx.t.dead_frac);
  if (dead.length > 0) return null;
  return diagnosis(
    "vanishing_gradients",
    "warning",
    first.s.steps[Math.max(0, first.s.steps.length - first.points)],
    "Vanishing gradients: early layers get almost no gradient",
    `The gradient ${field === "grad_std" ? "std" : "norm"} at the first layer ${first.layer} (${fmt(first.recent)}) is ` +
      `${fmt(1 / ratio)}x smaller than at the last layer ${last.layer} (${fmt(last.recent)}). The signal ` +
      `shrinks as it flows backwards, so the early layers barely learn. Typical causes: saturating ` +
      `tanh/sigmoid units, too small initial weights, or a deep plain stack. Try ReLU-family activations, ` +
      `He/Xavier initialization, batch/layer normalization, or residual connections.`,
    {
      first_layer: first.layer,
      last_layer: last.layer,
      first_grad: round(first.recent),
      last_grad: round(last.recent),
      ratio: round(ratio, 3),
      grad_vanish_ratio: ctx.t.grad_vanish_ratio,
    },
  );
}

/**
 * The forward signal dies out with depth: the activations' std falls layer after layer (each at most
 * what the one before had) to below grad_vanish_ratio of the first layer's, over >= 3 layers. The
 * backward pass multiplies by the same weights, so the gradients shrink the same way on their way to
 * the first layers; once they underflow to exactly 0 in every layer (a 12-layer ReLU stack initialised
 * N(0, 0.02): 0.017, 0.0017, 1.7e-4, ... 1.5e-7), their first/last ratio says nothing, the activations
 * do. Not where the logged gradients show they do reach the first layer (ratio above the threshold).
 */
export function signalDiesOut(ctx: Context): { acts: LayerStat[]; k: number; ratio: number; geometric: boolean } | null {
  const { t } = ctx;
  const acts = layerRecent(ctx, "act_std", t.min_points).filter((x) => x.recent > 0 && !/emb/i.test(x.layer));
  if (acts.length < 3) return null;
  // the longest run of falling stds from the first layer on
  let k = 0;
  while (k + 1 < acts.length && acts[k + 1].recent <= acts[k].recent) k++;
  if (k < 2) return null;
  const ratio = acts[k].recent / acts[0].recent;
  if (ratio < t.grad_vanish_ratio) return { acts, k, ratio, geometric: false };
  // A long stack that scales the signal down by a steady factor (per layer at most vanish_geo_factor, fitted
  // over >= vanish_geo_layers layers: an 11-layer Hardtanh MLP at N(0, 0.1) scales it by ~0.6 at every
  // layer, ~100x over 9) with a loss still at its start: the output is ~constant whatever the input, and
  // every weight's gradient (its layer's input times the delta coming back) is as small. Its first/last
  // gradient ratio is ~1: the shrink is everywhere, not only towards the input. Healthy stacks keep the
  // scale (He/Xavier init, normalization: a factor ~1).
  const lp = ctx.loss();
  const stuck = lp !== null && lp.initial > 0 && lp.recent >= t.plateau_progress_frac * lp.initial;
  if (!stuck || acts.length < t.vanish_geo_layers) return null;
  const factor = perLayerFactor(acts.map((a) => a.recent));
  if (factor <= t.vanish_geo_factor) {
    const m = acts.length - 1;
    return { acts, k: m, ratio: factor ** m, geometric: true };
  }
  return null;
}

/** exp(least-squares slope of ln std against the layer index): the per-layer scale factor of the stack. */
function perLayerFactor(stds: number[]): number {
  const n = stds.length;
  const xm = (n - 1) / 2;
  const ys = stds.map(Math.log);
  const ym = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (i - xm) * (ys[i] - ym);
    den += (i - xm) ** 2;
  }
  return den > 0 ? Math.exp(num / den) : 1;
}

function byActivations(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const { stats } = layerGrads(ctx);
  const died = signalDiesOut(ctx);
  if (!died) return null;
  // gradients that do reach the first layer as well as the last contradict a shrink towards the input;
  // not a steady shrink of the forward signal, which makes every gradient small alike
  if (!died.geometric && stats.length >= 2 && Math.abs(stats[0].recent) / Math.abs(stats[stats.length - 1].recent) >= t.grad_vanish_ratio)
    return null;
  const { acts, k, ratio } = died;
  const first = acts[0].recent;
  const deepest = acts[k];
  const perLayer = ratio ** (1 / k);
  return diagnosis(
    "vanishing_gradients",
    "warning",
    deepest.s.steps[Math.max(0, deepest.s.steps.length - deepest.points)],
    "Vanishing signal: activations and gradients die out with depth",
    `The activations' std falls layer after layer, from ${fmt(first)} at ${acts[0].layer} to ${fmt(deepest.recent)} at ` +
      `${deepest.layer} (${fmt(1 / ratio)}x smaller over ${k} layers, about ${fmt(perLayer, 2)}x per layer)` +
      (stats.length < 2 ? ", and the logged gradients are too small to measure" : "") +
      `. Each layer scales the signal down, so the deep layers see almost nothing and, backwards, the gradients ` +
      `shrink by the same factors before they reach the first layers: the network barely learns. Typical causes: ` +
      `initial weights far too small for the depth (std 0.02 where He/Kaiming would give sqrt(2 / fan_in)), saturating ` +
      `units, a deep plain stack. Use He/Kaiming (ReLU) or Xavier (tanh) initialization, normalization layers, or ` +
      `residual connections.`,
    {
      first_layer: acts[0].layer,
      deepest_layer: deepest.layer,
      first_act_std: round(first),
      deepest_act_std: round(deepest.recent),
      ratio: round(ratio, 3),
      layers: k,
      per_layer_factor: round(perLayer, 3),
      steady_shrink: died.geometric,
      grad_vanish_ratio: t.grad_vanish_ratio,
      vanish_geo_factor: t.vanish_geo_factor,
    },
  );
}
