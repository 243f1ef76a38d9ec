// Histograms are binned in the SDK: shipping raw activations for every epoch would cost megabytes.

import { LIMITS } from "./encode.js";

const MAX_HISTOGRAM_BINS = LIMITS.histogramBins;

/** A histogram as the server stores it: `edges.length === counts.length + 1`. */
export interface Histogram {
  edges: number[];
  counts: number[];
}

/** Number of bins used when `logHistogram` is given raw values. */
export const DEFAULT_BINS = 30;

/**
 * Bins raw values into `bins` equal-width bins spanning their finite min..max.
 *
 * NaN and ±Infinity are skipped (they have no bin); returns null when no finite value is left.
 * A constant input gets a bin range of ±0.5 around the value so the edges stay increasing.
 *
 * @param values - the samples, e.g. a layer's activations (any array, typed array or iterable)
 * @param bins - number of bins (default 30)
 * @example
 * computeHistogram([0, 1, 1, 2, NaN], 2) // { edges: [0, 1, 2], counts: [1, 3] }
 */
export function computeHistogram(values: ArrayLike<number> | Iterable<number>, bins: number = DEFAULT_BINS): Histogram | null {
  const arr: ArrayLike<unknown> = isArrayLike(values) ? values : Array.from(values as Iterable<number>);
  const n = Math.min(Math.max(1, Math.floor(bins)), MAX_HISTOGRAM_BINS);
  let min = Infinity;
  let max = -Infinity;
  let finite = 0;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    finite++;
  }
  if (finite === 0) return null;

  let lo = min;
  let hi = max;
  if (lo === hi) {
    const pad = Math.max(0.5, Math.abs(lo) * 1e-6);
    lo -= pad;
    hi += pad;
  }
  // hi/n - lo/n rather than (hi - lo)/n: the difference overflows for values near ±1.8e308.
  const width = hi / n - lo / n;
  const edges = new Array<number>(n + 1);
  for (let i = 0; i < n; i++) edges[i] = Math.min(lo + i * width, hi);
  edges[n] = hi;
  if (!edges.every(Number.isFinite) || !(width > 0)) return null;

  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    let bin = Math.floor((v - lo) / width);
    if (!(bin >= 0)) bin = 0; // also catches NaN from an overflowing v - lo
    if (bin >= n) bin = n - 1; // the max lands on the right edge, which belongs to the last bin
    counts[bin]!++;
  }
  return { edges, counts };
}

/** Returns why a ready-made histogram would be rejected by the server, or null when it is valid. */
export function histogramProblem(h: { edges: unknown; counts: unknown }): string | null {
  if (!isArrayLike(h.edges) || !isArrayLike(h.counts)) return "edges and counts must be arrays";
  const { edges, counts } = h as { edges: ArrayLike<unknown>; counts: ArrayLike<unknown> };
  if (counts.length < 1 || counts.length > MAX_HISTOGRAM_BINS) {
    return `counts must have 1..${MAX_HISTOGRAM_BINS} entries`;
  }
  if (edges.length !== counts.length + 1) return "edges must have counts.length + 1 entries";
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i];
    if (typeof e !== "number" || !Number.isFinite(e)) return "edges must be finite numbers";
    if (i > 0 && e < (edges[i - 1] as number)) return "edges must be non-decreasing";
  }
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (typeof c !== "number" || !Number.isFinite(c) || c < 0) {
      return "counts must be non-negative finite numbers";
    }
  }
  return null;
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Array.isArray(v) || ArrayBuffer.isView(v) || (typeof v === "object" && v !== null && typeof (v as { length?: unknown }).length === "number");
}
