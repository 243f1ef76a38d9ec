// TensorBoard's scalar smoothing: an exponential moving average debiased like Adam's moments, so
// the first points are not dragged towards 0 and a sparse series (one validation point per epoch)
// starts on its own dots. Non-finite values (NaN, ±Inf, missing) are skipped: they get no
// smoothed value and do not enter the average, so one NaN does not poison the rest.
//
// Charts draw buckets (a mean over n points), not raw points, and how many points a bucket holds
// depends on the series' length and the zoom. So the average advances by a bucket's point count:
// n points of mean m decay the state by w^n and add (1 - w^n) m, which is exactly the EMA of the
// raw points when they are equal, and close to it otherwise. A series drawn one point a bucket
// gets TensorBoard's values exactly, and the smoothed line does not change with the bucketing.

export const MAX_SMOOTHING = 0.99;

/** One drawn point: the mean of `n` finite raw values (n = 1 for a raw point), or null. */
export interface SmoothIn {
  y: number | null;
  n: number;
}

/** The average's state after some points: resume from it (a zoomed view continues the whole run's average). */
export interface EmaState {
  /** biased accumulator */
  acc: number;
  /** raw points folded in so far */
  total: number;
  /** the first finite value, and whether every one so far equalled it */
  first: number | null;
  constant: boolean;
}

export const EMPTY_EMA: EmaState = { acc: 0, total: 0, first: null, constant: true };

const clampWeight = (weight: number) => Math.min(Math.max(weight, 0), MAX_SMOOTHING);
const usable = (p: SmoothIn) => p.y !== null && Number.isFinite(p.y) && p.n > 0;

/**
 * What n points of mean m, rising by `slope` a point, add to the average: the exact EMA of that
 * straight run of points. The slope matters once a bucket is longer than the average's memory
 * (its last points weigh most, the mean sits in the middle); for one point it adds nothing.
 */
function foldBucket(acc: number, w: number, n: number, m: number, slope: number): number {
  const decay = w ** n;
  let tilt = 0;
  if (slope !== 0 && n > 1) {
    // sum over j = 1..n of (1 - w) w^(n-j) (j - (n+1)/2)
    const weightedIndex = n * (1 - decay) - (w * (1 - n * w ** (n - 1) + (n - 1) * decay)) / (1 - w);
    tilt = slope * (weightedIndex - ((n + 1) / 2) * (1 - decay));
  }
  return acc * decay + (1 - decay) * m + tilt;
}

/** The per-point slope inside each bucket, from its neighbours' means (0 beside a gap). */
function slopes(points: readonly SmoothIn[]): number[] {
  const ok = (i: number) => i >= 0 && i < points.length && usable(points[i]);
  return points.map((p, i) => {
    if (!ok(i) || p.n <= 1) return 0;
    const a = ok(i - 1) ? i - 1 : i;
    const b = ok(i + 1) ? i + 1 : i;
    if (a === b) return 0;
    const span = points[a].n / 2 + points[b].n / 2 + (b - a === 2 ? p.n : 0);
    return ((points[b].y as number) - (points[a].y as number)) / span;
  });
}

/** Folds points into a state (for a prefix of the run before a zoomed range). */
export function emaFold(points: readonly SmoothIn[], weight: number, from: EmaState = EMPTY_EMA): EmaState {
  return walk(points, clampWeight(weight), from, null);
}

function walk(points: readonly SmoothIn[], w: number, from: EmaState, out: (number | null)[] | null): EmaState {
  let { acc, total, first, constant } = from;
  const slope = slopes(points);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    if (!usable(p)) {
      out?.push(null);
      continue;
    }
    const y = p.y as number;
    if (first === null) first = y;
    else if (y !== first) constant = false;
    if (w === 0) {
      out?.push(y);
      continue;
    }
    acc = foldBucket(acc, w, p.n, y, slope[i]);
    total += p.n;
    out?.push(acc / (1 - w ** total));
  }
  return { acc, total, first, constant };
}

/** The smoothed value after each point (null where the point is not finite). */
export function emaPoints(points: readonly SmoothIn[], weight: number, from: EmaState = EMPTY_EMA): (number | null)[] {
  const w = clampWeight(weight);
  const out: (number | null)[] = [];
  const end = walk(points, w, from, out);
  // like TensorBoard: a constant series stays exactly constant (no float noise from debiasing)
  if (end.constant) return points.map((p) => (usable(p) ? (p.y as number) : null));
  return out;
}

/** TensorBoard's smoothing of raw values (one point each). */
export function ema(values: readonly (number | null)[], weight: number): (number | null)[] {
  return emaPoints(
    values.map((y) => ({ y, n: 1 })),
    weight,
  );
}

/** Finite points in a bucket: how much of the average a drawn bucket stands for. */
export const finiteCount = (b: { count: number; nan: number; posInf: number; negInf: number }) => Math.max(0, b.count - b.nan - b.posInf - b.negInf);
