// TensorBoard's scalar smoothing: an exponential moving average debiased like Adam's moments, so
// the first points are not dragged towards 0. Non-finite values (NaN, ±Inf, missing) are skipped:
// they get no smoothed value and do not enter the average, so one NaN does not poison the rest.

export const MAX_SMOOTHING = 0.99;

export function ema(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), MAX_SMOOTHING);
  // like TensorBoard: a constant series stays exactly constant (no float noise from debiasing)
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.every((v) => v === finite[0])) return values.map((v) => (v !== null && Number.isFinite(v) ? v : null));
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    if (w === 0) return v;
    last = last * w + (1 - w) * v;
    n++;
    return last / (1 - w ** n);
  });
}
