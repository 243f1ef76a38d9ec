// What a chart needs to draw every logged value, whatever its neighbours: dots for points no line
// reaches, an x range over every point whatever the order of x, readable log-axis labels.

/**
 * The point radius of each drawn value: `few` when the line is short enough for dots everywhere,
 * otherwise 0, except for a finite value whose neighbours are both missing (NaN, ±Inf, a gap, an
 * end): no segment reaches it, so without a dot it would not be drawn at all.
 */
export function pointRadii(ys: readonly (number | null)[], few: boolean, dot = 2): number[] {
  const has = (i: number) => i >= 0 && i < ys.length && ys[i] !== null && Number.isFinite(ys[i]);
  return ys.map((_, i) => (has(i) && (few || (!has(i - 1) && !has(i + 1))) ? dot : 0));
}

/** True when x never goes back (chart.js may then take the first and last x as the range). */
export function xAscending(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i] < xs[i - 1]) return false;
  return true;
}

/** The smallest and largest x, or null without any. */
export function xExtent(xs: Iterable<number>): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return min === Infinity ? null : { min, max };
}

const MAX_LOG_LABELS = 8;

/**
 * Which ticks of a log axis get a label. chart.js ticks every 1-9 x 10^k; when that is crowded,
 * label the powers of ten, else 1-2-5 x 10^k, else every few ticks, so that an axis over less
 * than a decade (no or one power of ten in it) keeps at least two labels.
 */
export function logTickLabelled(values: readonly number[]): boolean[] {
  if (values.length <= MAX_LOG_LABELS) return values.map(() => true);
  const mantissa = (v: number) => {
    if (!(v > 0)) return NaN;
    const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
    return Math.round(m * 1e6) / 1e6;
  };
  const powers = values.map((v) => mantissa(v) === 1);
  if (powers.filter(Boolean).length >= 2) return powers;
  const oneTwoFive = values.map((v) => [1, 2, 5].includes(mantissa(v)));
  const n = oneTwoFive.filter(Boolean).length;
  if (n >= 2 && n <= MAX_LOG_LABELS) return oneTwoFive;
  const every = Math.ceil(values.length / (MAX_LOG_LABELS - 2));
  return values.map((_, i) => i % every === 0 || i === values.length - 1);
}

/**
 * The y range for a linear axis whose finite data all sit at one value (chart.js would draw 0 as
 * -1..1): a range around the value that never goes below 0 for non-negative data nor above 0 for
 * non-positive data (an all-zero dead fraction reads 0..1). Null when the data vary (chart.js
 * picks the range) or there are none.
 */
export function constantRange(lo: number, hi: number): { min: number; max: number } | null {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo !== hi) return null;
  const v = lo;
  if (v === 0) return { min: 0, max: 1 };
  const pad = Math.abs(v) * 0.1;
  return v > 0 ? { min: Math.max(0, v - pad), max: v + pad } : { min: v - pad, max: Math.min(0, v + pad) };
}
