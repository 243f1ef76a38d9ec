// Per-layer summaries shared by the layer rules (update ratios, activations, gradients, weights).

import type { Context } from "./context";
import type { LayerField } from "./keys";
import { finiteSample, median, recentRange } from "./series";
import type { SeriesPoints } from "./types";

const LAYER_SAMPLE = 128;

export interface LayerStat {
  layer: string;
  key: string;
  s: SeriesPoints;
  /** median of the recent window (last recent_frac of the points, at least min_points) */
  recent: number;
  /** finite points that went into `recent` */
  points: number;
}

/** Layers that log `field`, in network order, with at least `minPoints` points in total. */
export function layerRecent(ctx: Context, field: LayerField, minPoints = 3): LayerStat[] {
  return ctx.memo(`layerRecent:${field}:${minPoints}`, () => computeLayerRecent(ctx, field, minPoints));
}

function computeLayerRecent(ctx: Context, field: LayerField, minPoints: number): LayerStat[] {
  const out: LayerStat[] = [];
  for (const [layer, fields] of ctx.keys.layers) {
    const named = fields[field];
    if (!named) continue;
    const n = named.s.values.length;
    if (n < minPoints) continue;
    const { from } = recentRange(n, ctx.t.recent_frac, ctx.t.min_points);
    // per-layer stats are many series: a smaller sample keeps 100 keys x 100k points cheap
    const sample = finiteSample(named.s.values, from, n, LAYER_SAMPLE);
    if (sample.length < Math.min(minPoints, n - from)) continue;
    const recent = median(sample);
    if (!Number.isFinite(recent)) continue;
    out.push({ layer, key: named.key, s: named.s, recent, points: sample.length });
  }
  return out;
}

/** "fc1 (0.97), fc2 (0.8)" — compact, stable evidence text. */
export function listLayers(stats: { layer: string; value: number }[], digits = 3): string {
  return stats.map((x) => `${x.layer} (${Number.isFinite(x.value) ? Number(x.value.toPrecision(digits)) : x.value})`).join(", ");
}

/** "fc1 (97%), fc2 (80%)" for shares in 0..1. */
export function listShares(stats: { layer: string; value: number }[]): string {
  return stats.map((x) => `${x.layer} (${Math.round(x.value * 100)}%)`).join(", ");
}
