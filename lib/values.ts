// Non-finite numbers are data (they are how divergence shows). JSON cannot carry them, so on the
// wire they are the strings "NaN", "Infinity" and "-Infinity".

export type WireNumber = number | "NaN" | "Infinity" | "-Infinity";

export function encodeValue(v: number): WireNumber {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return "NaN";
  return v > 0 ? "Infinity" : "-Infinity";
}

export function decodeValue(v: WireNumber): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  return v === "Infinity" ? Infinity : -Infinity;
}

export function encodeNullable(v: number | null): WireNumber | null {
  return v === null ? null : encodeValue(v);
}
