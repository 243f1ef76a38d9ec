import { type Bucket, finiteCount } from "./series";

// TensorBoard's scalar smoothing, an exponential moving average debiased like Adam's moments (the
// first points are not dragged towards 0), made honest for what a chart draws:
//
// - Charts draw buckets (a mean over n points), not raw points, and how many points a bucket holds
//   depends on the series' length and the zoom. A bucket advances the average by its n finite
//   points (with the slope its neighbours show), so the line is the EMA of the raw points at any
//   length or zoom, and exactly TensorBoard's when each bucket is one point.
// - The average decays by distance in steps, not by point count (like W&B's time-weighted EMA):
//   `weight` is the decay per `unit` steps: the run's finest logging interval (runStepUnit), or the
//   chart's where that is finer. A line logged every step and a validation line logged once an
//   epoch then average over the same window of training, on one chart or alone on its own: the
//   sparse line follows its own dots instead of lagging epochs behind them. A run that logs
//   everything at one interval gets TensorBoard's smoothing.
// - A gap (no point for GAP_INTERVALS of the line's own logging intervals: a resume that skipped
//   steps) restarts the average, and the smoothed line is broken there rather than drawn across.
// - Non-finite values (NaN, ±Inf) and empty buckets are skipped: they get no smoothed value and do
//   not enter the average, so one NaN does not poison the rest. They are logged points all the same:
//   the next value's distance is counted from them (a NaN is not a gap, and decays nothing).

export const MAX_SMOOTHING = 0.99;
/** A step distance this many logging intervals long is a gap: the average starts again after it. */
export const GAP_INTERVALS = 10;

/** What smoothing reads of a drawn bucket (a raw point is a bucket of one). */
export type SmoothIn = Pick<Bucket, "step" | "lastStep" | "mean" | "count" | "nan" | "posInf" | "negInf">;

/** The average's state after some points: resume from it (a zoomed view continues the whole run's average). */
export interface EmaState {
  /** weighted sum of the values, and the sum of their weights (their ratio is the debiased average) */
  sum: number;
  weights: number;
  /** the last step folded in (finite or not), null before any */
  lastStep: number | null;
  /** the first finite value, and whether every one so far equalled it */
  first: number | null;
  constant: boolean;
}

export const EMPTY_EMA: EmaState = { sum: 0, weights: 0, lastStep: null, first: null, constant: true };

export interface SmoothOptions {
  /** Steps over which the average decays by `weight` once: the chart's finest logging interval (default: the line's own). */
  unit?: number | null;
  /** The line's own logging interval, for telling a gap (default: read off `points`). */
  spacing?: number | null;
  /** The state before `points` (a zoomed range seeded by the run's points before it). */
  from?: EmaState;
}

export interface Smoothed {
  /** the smoothed value at each point, null where the point has no finite value */
  values: (number | null)[];
  /** indices of the points where a gap restarted the average: break the drawn line before each */
  breaks: number[];
  state: EmaState;
}

const clampWeight = (weight: number) => Math.min(Math.max(weight, 0), MAX_SMOOTHING);
const usable = (p: SmoothIn) => p.mean !== null && Number.isFinite(p.mean) && finiteCount(p) > 0;

/**
 * A line's logging interval in steps: the median of the distances between its logged points
 * (inside buckets: their span over their points). The same at any zoom for regular logging.
 */
export function lineSpacing(points: readonly SmoothIn[]): number | null {
  const gaps: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (p.count > 1 && p.lastStep > p.step) gaps.push((p.lastStep - p.step) / (p.count - 1));
    if (i > 0 && p.step > points[i - 1].lastStep) gaps.push(p.step - points[i - 1].lastStep);
  }
  if (!gaps.length) return null;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}

/** The chart's unit: the finest of its lines' logging intervals (lineSpacing; null when none has two points). */
export function chartUnit(spacings: Iterable<number | null>): number | null {
  let unit: number | null = null;
  for (const s of spacings) if (s !== null && (unit === null || s < unit)) unit = s;
  return unit;
}

/**
 * A run's finest logging interval in steps, from its keys' totals: the least of (lastStep -
 * firstStep) / (count - 1) over keys with two points or more (null when none has).
 */
export function runStepUnit<K extends { count: number; firstStep: number; lastStep: number }>(keys: Iterable<K>): number | null {
  let unit: number | null = null;
  for (const k of keys) {
    if (k.count < 2 || !(k.lastStep > k.firstStep)) continue;
    const s = (k.lastStep - k.firstStep) / (k.count - 1);
    if (unit === null || s < unit) unit = s;
  }
  return unit;
}

/**
 * Per finite point, how the values rise across each bucket, from its neighbours' means (0 beside
 * a gap or an end). Counted in finite points, as the average advances by them. `fin[i]` is point
 * i's finite count (0: not usable), `gap[i]` whether a gap comes before it.
 */
function slopes(points: readonly SmoothIn[], fin: readonly number[], gap: readonly boolean[]): number[] {
  const out = new Array<number>(points.length).fill(0);
  for (let i = 0; i < points.length; i++) {
    if (fin[i] <= 1) continue;
    const a = i > 0 && fin[i - 1] > 0 && !gap[i] ? i - 1 : i;
    const b = i + 1 < points.length && fin[i + 1] > 0 && !gap[i + 1] ? i + 1 : i;
    if (a === b) continue;
    const span = fin[a] / 2 + fin[b] / 2 + (b - a === 2 ? fin[i] : 0);
    out[i] = ((points[b].mean as number) - (points[a].mean as number)) / span;
  }
  return out;
}

/** w ** x, remembering the last exponent: along a regularly logged line it is the same bucket after bucket. */
function powCache(w: number) {
  let x = Number.NaN;
  let v = 1;
  return (e: number) => {
    if (e !== x) {
      x = e;
      v = w ** e;
    }
    return v;
  };
}

/**
 * What n points of mean m, rising by `slope` a point, each q apart, add to the weighted sum and
 * to the weights, after the state decays by `decay` (to the first point, then between them).
 * Sums over j = 1..n of q^(n-j), and of q^(n-j) (j - (n+1)/2) for the slope.
 */
function bucketSums(q: number, qn: number, n: number, m: number, slope: number): { sum: number; weights: number } {
  const total = n === 1 ? 1 : q < 1 ? (1 - qn) / (1 - q) : n;
  let tilt = 0;
  if (slope !== 0 && n > 1 && q < 1) {
    const weightedIndex = n * (1 - qn) - (q * (1 - n * q ** (n - 1) + (n - 1) * qn)) / (1 - q);
    tilt = (slope * (weightedIndex - ((n + 1) / 2) * (1 - qn))) / (1 - q);
  }
  SUMS.sum = total * m + tilt;
  SUMS.weights = total;
  return SUMS;
}
const SUMS = { sum: 0, weights: 0 };

/** Smooths a line's points (see the file's comment). */
export function smooth(points: readonly SmoothIn[], weight: number, opts: SmoothOptions = {}): Smoothed {
  const w = clampWeight(weight);
  const spacing = opts.spacing ?? lineSpacing(points);
  const unit = opts.unit ?? spacing ?? 1;
  let { sum, weights, lastStep, first, constant } = opts.from ?? EMPTY_EMA;
  const gapLimit = spacing === null ? Infinity : GAP_INTERVALS * spacing;
  // per point: the step logged last before it (null: none), whether a gap comes before it, its finite points
  const before: (number | null)[] = new Array(points.length);
  const gap: boolean[] = new Array(points.length);
  const fin: number[] = new Array(points.length);
  let prev = lastStep;
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    before[i] = prev;
    gap[i] = prev !== null && p.step - prev > gapLimit;
    fin[i] = usable(p) ? finiteCount(p) : 0;
    prev = p.lastStep;
  }
  const slope = slopes(points, fin, gap);
  const values: (number | null)[] = [];
  const breaks: number[] = [];
  let drawn = false;
  const gapPow = powCache(w);
  const innerPow = powCache(w);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (gap[i]) {
      sum = weights = 0;
      if (drawn) breaks.push(i);
    }
    lastStep = p.lastStep;
    if (!fin[i]) {
      values.push(null);
      continue;
    }
    const y = p.mean as number;
    drawn = true;
    if (first === null) first = y;
    else if (y !== first) constant = false;
    if (w === 0) {
      values.push(y);
      continue;
    }
    const n = fin[i];
    const inner = p.count > 1 ? (p.lastStep - p.step) / (p.count - 1) : 0;
    const dist = before[i] === null ? 0 : Math.max(0, p.step - (before[i] as number));
    const q = inner > 0 ? innerPow(inner / unit) : w;
    const qn = n === 1 ? q : q ** n;
    // (q may underflow to 0 for points far apart: no division by it)
    const decay = gapPow(dist / unit) * (n === 1 ? 1 : q ** (n - 1));
    const add = bucketSums(q, qn, n, y, slope[i]);
    sum = sum * decay + add.sum;
    weights = weights * decay + add.weights;
    values.push(sum / weights);
  }
  const state = { sum, weights, lastStep, first, constant };
  // like TensorBoard: a constant series stays exactly constant (no float noise from debiasing)
  if (constant) return { values: points.map((p) => (usable(p) ? (p.mean as number) : null)), breaks, state };
  return { values, breaks, state };
}

/** Folds points into a state (for a prefix of the run before a zoomed range). */
export function emaFold(points: readonly SmoothIn[], weight: number, opts: Omit<SmoothOptions, "from"> = {}): EmaState {
  return smooth(points, weight, opts).state;
}
