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

/** Folds points into a state (for a prefix of the run before a zoomed range). */
export function emaFold(points: readonly SmoothIn[], weight: number, from: EmaState = EMPTY_EMA): EmaState {
  const w = clampWeight(weight);
  let { acc, total, first, constant } = from;
  for (const p of points) {
    if (!usable(p)) continue;
    const y = p.y as number;
    if (first === null) first = y;
    else if (y !== first) constant = false;
    const decay = w ** p.n;
    acc = acc * decay + (1 - decay) * y;
    total += p.n;
  }
  return { acc, total, first, constant };
}

/** The smoothed value after each point (null where the point is not finite). */
export function emaPoints(points: readonly SmoothIn[], weight: number, from: EmaState = EMPTY_EMA): (number | null)[] {
  const w = clampWeight(weight);
  // like TensorBoard: a constant series stays exactly constant (no float noise from debiasing)
  const end = emaFold(points, w, from);
  if (end.constant) return points.map((p) => (usable(p) ? (p.y as number) : null));
  let state = from;
  return points.map((p) => {
    if (!usable(p)) return null;
    if (w === 0) return p.y;
    state = emaFold([p], w, state);
    return state.acc / (1 - w ** state.total);
  });
}

/** TensorBoard's smoothing of raw values (one point each). */
export function ema(values: readonly (number | null)[], weight: number): (number | null)[] {
  return emaPoints(values.map((y) => ({ y, n: 1 })), weight);
}

/** Finite points in a bucket: how much of the average a drawn bucket stands for. */
export const finiteCount = (b: { count: number; nan: number; posInf: number; negInf: number }) => Math.max(0, b.count - b.nan - b.posInf - b.negInf);
