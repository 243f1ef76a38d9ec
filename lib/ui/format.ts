// Number formatting that is the same on the server and in the browser (no locale), so server
// rendered pages hydrate without mismatches. NaN and ±Infinity are shown as such.

export function formatValue(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "string") return v === "Infinity" ? "+Inf" : v === "-Infinity" ? "-Inf" : v;
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3)
    return v
      .toExponential(2)
      .replace(/\.?0+e/, "e")
      .replace("e+", "e");
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** True for the wire strings and numbers that are not finite. */
export function isNonFinite(v: number | string | null | undefined): boolean {
  return typeof v === "string" || (typeof v === "number" && !Number.isFinite(v));
}

/**
 * One number format for all the tick labels of an axis (never "0.00106" next to "9.8e-4"): fixed
 * decimals, or exponents when the axis's largest tick is under 1e-3 or from 1e5 or the ticks span
 * decades below 1e-3 (a log axis), with as few digits as tell every tick apart and show each one's value
 * to a hundredth of the tick spacing.
 */
export function axisTickFormat(ticks: readonly number[]): (v: number) => string {
  const vs = ticks.filter((v) => Number.isFinite(v));
  const m = vs.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  if (m === 0) return (v) => formatValue(v);
  const least = vs.reduce((a, v) => (v !== 0 ? Math.min(a, Math.abs(v)) : a), Infinity);
  const exp = m >= 1e5 || m < 1e-3 || (least < 1e-3 && m / least >= 100);
  const fmt = (v: number, d: number) => (v === 0 ? "0" : exp ? v.toExponential(d).replace("e+", "e") : v.toFixed(d));
  // a label is close enough within a hundredth of the axis' smallest tick spacing: a bound that is a
  // data value (a chart of one point: 0.974074078 beside 0.95) reads 0.974, not to the ninth digit
  const sorted = [...new Set(vs)].sort((a, b) => a - b);
  let gap = m;
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, sorted[i] - sorted[i - 1]);
  const tol = Math.max(m * 1e-9, gap * 0.01);
  const fits = (d: number) => {
    const seen = new Set<string>();
    for (const v of vs) {
      const s = fmt(v, d);
      if (Math.abs(Number(s) - v) > (exp ? Math.max(Math.abs(v) * 1e-9, gap * 0.01) : tol)) return false;
      seen.add(s);
    }
    return seen.size === new Set(vs).size;
  };
  let d = 0;
  while (d < (exp ? 6 : 10) && !fits(d)) d++;
  return (v) => (Number.isFinite(v) ? fmt(v, d) : formatValue(v));
}

/** "1 point", "3 points". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
