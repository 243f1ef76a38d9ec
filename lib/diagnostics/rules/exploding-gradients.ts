// exploding_gradients: gradients that are non-finite, grow by orders of magnitude over training,
// or are orders of magnitude larger at the first layers than at the last.

import { diagnosis, type Rule } from "../context";
import { finiteSample, fmt, median, recentRange, round, streakStart, stridedIndices } from "../series";
import type { SeriesPoints } from "../types";
import { layerGrads } from "./gradients";

const ADVICE =
  "Clip gradients (e.g. clip_grad_norm_ to 1-5), lower the learning rate, use a careful initialization " +
  "(He/Xavier) and normalization layers; for RNNs, clipping is standard.";

function nonFiniteShare(s: SeriesPoints, from: number, to: number): number {
  const idx = stridedIndices(from, to, 128);
  let bad = 0;
  for (const i of idx) if (!Number.isFinite(s.values[i])) bad++;
  return idx.length ? bad / idx.length : 0;
}

/** recent median / early median for a series with enough points, else null */
function growth(s: SeriesPoints, minPoints: number, recentFrac: number): { early: number; recent: number } | null {
  const n = s.values.length;
  if (n < 2 * minPoints) return null;
  const early = median(finiteSample(s.values, 0, Math.max(minPoints, Math.ceil(n * 0.1)), 128));
  const recent = median(finiteSample(s.values, recentRange(n, recentFrac, minPoints).from, n, 128));
  if (!(early > 0) || !Number.isFinite(recent)) return null;
  return { early, recent };
}

export const explodingGradients: Rule = {
  code: "exploding_gradients",
  evaluate(ctx) {
    const { t } = ctx;
    const global = ctx.keys.scalars.grad_norm;
    const perLayer: { layer: string; s: SeriesPoints }[] = [];
    for (const [layer, f] of ctx.keys.layers) {
      const g = f.grad_norm ?? f.grad_std;
      if (g) perLayer.push({ layer, s: g.s });
    }
    const all = [...(global ? [{ layer: global.key, s: global.s }] : []), ...perLayer];

    // Mostly non-finite recently (occasional inf steps are normal with AMP loss scaling).
    for (const x of all) {
      const n = x.s.values.length;
      const { from } = recentRange(n, t.recent_frac, t.min_points);
      if (n >= 3 && nonFiniteShare(x.s, from, n) >= 0.5) {
        const i = x.s.values.findIndex((v) => !Number.isFinite(v));
        return diagnosis(
          "exploding_gradients",
          "critical",
          x.s.steps[Math.max(0, i)],
          "Exploding gradients: gradients are NaN/Inf",
          `Most recent gradient values of ${x.layer} are NaN/Inf. The updates are meaningless from here on. ${ADVICE}`,
          { source: x.layer, non_finite_share: round(nonFiniteShare(x.s, from, n), 3) },
        );
      }
    }

    // Growth over time: the global norm if logged, else the median layer.
    const sources = global ? [{ layer: global.key, s: global.s }] : perLayer;
    const growths = sources
      .map((x) => ({ ...x, g: growth(x.s, t.min_points, t.recent_frac) }))
      .filter((x) => x.g !== null)
      .map((x) => ({ layer: x.layer, s: x.s, early: x.g!.early, recent: x.g!.recent, factor: x.g!.recent / x.g!.early }))
      .sort((a, b) => a.factor - b.factor);
    if (growths.length > 0) {
      const mid = growths[Math.floor((growths.length - 1) / 2)];
      if (mid.factor > t.grad_explode_growth) {
        const limit = mid.early * Math.sqrt(t.grad_explode_growth);
        return diagnosis(
          "exploding_gradients",
          "warning",
          streakStart(mid.s, (v) => !(v <= limit)) ?? mid.s.steps[mid.s.steps.length - 1],
          "Exploding gradients: gradient size keeps growing",
          `The gradient size of ${mid.layer}${global ? "" : " (median layer)"} has grown ${fmt(mid.factor)}x since ` +
            `the start of training (${fmt(mid.early)} -> ${fmt(mid.recent)}). Growing gradients make the ` +
            `updates ever larger until the loss blows up. ${ADVICE}`,
          {
            source: mid.layer,
            early_grad: round(mid.early),
            recent_grad: round(mid.recent),
            growth: round(mid.factor, 3),
            grad_explode_growth: t.grad_explode_growth,
          },
        );
      }
    }

    const forward = forwardGrowth(ctx);
    if (forward) {
      const { first, last, growth, perLayer, step } = forward;
      return diagnosis(
        "exploding_gradients",
        "warning",
        step,
        "Exploding gradients: the signal grows layer over layer",
        `At the start of training the activation std grows about ${fmt(perLayer)}x a layer, from ` +
          `${fmt(first.value)} at ${first.layer} to ${fmt(last.value)} at ${last.layer} (${fmt(growth)}x): ` +
          `each layer amplifies what it passes on, forward and (through the same weights) backward, ` +
          `so the first updates are outsized — the weights are initialized too large for the activation. ${ADVICE}`,
        {
          first_layer: first.layer,
          last_layer: last.layer,
          first_act_std: round(first.value),
          last_act_std: round(last.value),
          growth: round(growth, 3),
          per_layer: round(perLayer, 3),
          act_explode_depth_growth: t.act_explode_depth_growth,
        },
      );
    }

    const { field, stats } = layerGrads(ctx);
    if (stats.length >= 2) {
      const first = stats[0];
      const last = stats[stats.length - 1];
      const ratio = Math.abs(first.recent) / Math.abs(last.recent);
      if (ratio > t.grad_explode_ratio) {
        return diagnosis(
          "exploding_gradients",
          "warning",
          first.s.steps[Math.max(0, first.s.steps.length - first.points)],
          "Exploding gradients: gradients grow as they flow backwards",
          `The gradient ${field === "grad_std" ? "std" : "norm"} at the first layer ${first.layer} (${fmt(first.recent)}) ` +
            `is ${fmt(ratio)}x larger than at the last layer ${last.layer} (${fmt(last.recent)}): each layer ` +
            `amplifies the backward signal, typically because weights are initialized too large. ${ADVICE}`,
          {
            first_layer: first.layer,
            last_layer: last.layer,
            first_grad: round(first.recent),
            last_grad: round(last.recent),
            ratio: round(ratio, 3),
            grad_explode_ratio: t.grad_explode_ratio,
          },
        );
      }
    }
    return null;
  },
};

/**
 * Hidden activation std at each of the first act_explode_points logged points (the init and the
 * first updates: a too-large init is often tamed within a few steps, after it did its damage), layer
 * by layer in network order: a consistent growth compounding to act_explode_depth_growth x over at
 * least act_explode_min_layers layers. Healthy nets keep the std roughly level with depth (He /
 * Xavier init, normalization layers); bounded activations (tanh, sigmoid) cannot grow so.
 */
function forwardGrowth(ctx: Parameters<Rule["evaluate"]>[0]): {
  first: { layer: string; value: number };
  last: { layer: string; value: number };
  growth: number;
  perLayer: number;
  step: number;
} | null {
  const { t } = ctx;
  const layers: { layer: string; s: SeriesPoints }[] = [];
  for (const [layer, f] of ctx.keys.layers) if (f.act_std && !/emb/i.test(layer)) layers.push({ layer, s: f.act_std.s });
  if (layers.length < t.act_explode_min_layers) return null;
  let best: ReturnType<typeof forwardGrowth> = null;
  for (let p = 0; p < t.act_explode_points; p++) {
    if (layers.some((x) => x.s.values.length <= p)) break;
    const v = layers.map((x) => x.s.values[p]);
    if (!v.every((x) => Number.isFinite(x) && x > 0)) continue;
    let growing = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > 1.1 * v[i - 1]) growing++;
    const growth = v[v.length - 1] / v[0];
    if (growing < t.act_explode_step_share * (v.length - 1) || !(growth >= t.act_explode_depth_growth)) continue;
    if (best && best.growth >= growth) continue;
    best = {
      first: { layer: layers[0].layer, value: v[0] },
      last: { layer: layers[layers.length - 1].layer, value: v[v.length - 1] },
      growth,
      perLayer: growth ** (1 / (v.length - 1)),
      step: layers[0].s.steps[p],
    };
  }
  return best;
}
