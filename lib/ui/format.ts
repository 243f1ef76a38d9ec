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
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** True for the wire strings and numbers that are not finite. */
export function isNonFinite(v: number | string | null | undefined): boolean {
  return typeof v === "string" || (typeof v === "number" && !Number.isFinite(v));
}
