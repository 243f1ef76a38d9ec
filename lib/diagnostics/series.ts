// Numeric helpers over full-resolution series. diagnose() runs about once a second per run on
// series of up to ~100k points, so everything here looks at index windows through a bounded,
// evenly strided sample (MAX_SAMPLE points) instead of touching every point.

import type { SeriesPoints } from "./types";

export const MAX_SAMPLE = 512;

/** First index i with a[i] >= x (a sorted ascending). */
export function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with a[i] > x (a sorted ascending). */
export function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Up to `max` indices spread evenly over [from, to), always including the last one. */
export function stridedIndices(from: number, to: number, max = MAX_SAMPLE): number[] {
  const n = to - from;
  if (n <= 0) return [];
  if (n <= max) {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = from + i;
    return out;
  }
  const out = new Array<number>(max);
  const stride = (n - 1) / (max - 1);
  for (let k = 0; k < max; k++) out[k] = from + Math.round(k * stride);
  return out;
}

/** Finite values at strided indices of [from, to). */
export function finiteSample(values: number[], from: number, to: number, max = MAX_SAMPLE): number[] {
  const out: number[] = [];
  for (const i of stridedIndices(from, to, max)) {
    const v = values[i];
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}

export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  // typed-array sort is numeric and several times faster than Array#sort with a comparator
  const s = Float64Array.from(xs).sort();
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function windowMedian(s: SeriesPoints, from: number, to: number): number {
  return median(finiteSample(s.values, from, to));
}

/** Index range of the last max(minPoints, frac * n) points. */
export function recentRange(n: number, frac: number, minPoints: number): { from: number; to: number } {
  const len = Math.min(n, Math.max(minPoints, Math.ceil(n * frac)));
  return { from: n - len, to: n };
}

/**
 * Robust step-to-step noise of [from, to): 1.4826 * MAD of consecutive differences / sqrt(2)
 * (differencing removes the trend, MAD ignores the odd spike), plus the median level.
 */
export function noise(values: number[], from: number, to: number): { sigma: number; level: number; pairs: number } {
  const diffs: number[] = [];
  const levels: number[] = [];
  for (const i of stridedIndices(from, to - 1)) {
    const a = values[i];
    const b = values[i + 1];
    if (Number.isFinite(a) && Number.isFinite(b)) {
      diffs.push(b - a);
      levels.push(a);
    }
  }
  if (diffs.length < 2) return { sigma: NaN, level: median(levels), pairs: diffs.length };
  const m = median(diffs);
  const mad = median(diffs.map((d) => Math.abs(d - m)));
  return { sigma: (1.4826 * mad) / Math.SQRT2, level: median(levels), pairs: diffs.length };
}

/** Full scan (one series only): index of the first non-finite value and how many there are. */
export function nonFiniteScan(values: number[]): { first: number; count: number } {
  let first = -1;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { first, count };
}

/**
 * Medians of consecutive chunks of the strided sample of [from, to): a cheap smoothed curve.
 * Each entry carries the step where its chunk starts.
 */
export function smoothed(s: SeriesPoints, from: number, to: number, chunk = 8): { step: number; value: number }[] {
  const idx = stridedIndices(from, to);
  const out: { step: number; value: number }[] = [];
  for (let k = 0; k < idx.length; k += chunk) {
    const end = Math.min(idx.length, k + chunk);
    // a short trailing chunk would be a noisy "smoothed" value: fold it away
    if (end - k < Math.ceil(chunk / 2) && out.length > 0) break;
    const part: number[] = [];
    for (let j = k; j < end; j++) {
      const v = s.values[idx[j]];
      if (Number.isFinite(v)) part.push(v);
    }
    if (part.length > 0) out.push({ step: s.steps[idx[k]], value: median(part) });
  }
  return out;
}

/**
 * Step where the current streak of `pred` began: walk back over a strided sample from the end,
 * tolerating up to two consecutive misses (noise). Returns null when the last point misses.
 */
export function streakStart(s: SeriesPoints, pred: (v: number) => boolean): number | null {
  const idx = stridedIndices(0, s.values.length);
  let start: number | null = null;
  let misses = 0;
  for (let k = idx.length - 1; k >= 0; k--) {
    const v = s.values[idx[k]];
    if (pred(v)) {
      start = s.steps[idx[k]];
      misses = 0;
    } else {
      if (start === null) {
        if (Number.isFinite(v)) return null;
        continue;
      }
      if (++misses > 2) break;
    }
  }
  return start;
}

/** Accuracy logged in percent (0..100) is rescaled to 0..1. */
export function accuracyScale(s: SeriesPoints): number {
  const sample = finiteSample(s.values, 0, s.values.length, 256);
  return sample.length > 0 && Math.max(...sample) > 1.5 ? 0.01 : 1;
}

export interface EvalTable {
  steps: number[];
  val: number[];
  /** train metric over the interval that ends at each evaluation (NaN when unknown) */
  train: number[];
}

/**
 * Pairs each evaluation point of `val` with the train metric at that time: the median of the
 * train points logged since the previous evaluation (per-minibatch values are noisy), or the
 * last train point before it. Works for train logged every step or once per evaluation.
 */
export function alignEvals(val: SeriesPoints, train: SeriesPoints | undefined, valScale = 1, trainScale = 1, maxEvals = 400): EvalTable {
  const out: EvalTable = { steps: [], val: [], train: [] };
  let prevStep = -Infinity;
  for (const i of stridedIndices(0, val.values.length, maxEvals)) {
    const v = val.values[i];
    const step = val.steps[i];
    if (!Number.isFinite(v)) continue;
    let t = NaN;
    if (train) {
      const hi = upperBound(train.steps, step);
      const since = upperBound(train.steps, prevStep);
      // second half of the interval: current enough, still smooths per-minibatch noise
      const lo = hi - Math.ceil((hi - since) / 2);
      if (hi > lo) t = median(finiteSample(train.values, lo, hi, 16));
      else if (hi > 0 && Number.isFinite(train.values[hi - 1])) t = train.values[hi - 1];
    }
    out.steps.push(step);
    out.val.push(v * valScale);
    out.train.push(t * trainScale);
    prevStep = step;
  }
  return out;
}

/** Only the evaluations where both the val and the train value are known. */
export function finitePairs(e: EvalTable): EvalTable {
  const out: EvalTable = { steps: [], val: [], train: [] };
  for (let i = 0; i < e.steps.length; i++) {
    if (Number.isFinite(e.val[i]) && Number.isFinite(e.train[i])) {
      out.steps.push(e.steps[i]);
      out.val.push(e.val[i]);
      out.train.push(e.train[i]);
    }
  }
  return out;
}

export function lastN(xs: number[], n: number): number[] {
  return xs.slice(Math.max(0, xs.length - n));
}

export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e5) return String(Number(x.toPrecision(digits)));
  // 1.00e-5 -> 1e-5, 2.50e+6 -> 2.5e+6
  return x.toExponential(digits - 1).replace(/\.?0+e/, "e");
}

/** Evidence numbers rounded so that alerts stay readable and stable. */
export function round(x: number, digits = 4): number | null {
  if (!Number.isFinite(x)) return null;
  return Number(x.toPrecision(digits));
}
