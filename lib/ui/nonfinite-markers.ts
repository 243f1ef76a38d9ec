import type { Bucket } from "./series";

// How a chart marks values it cannot draw as a point. NaN, +Inf and -Inf each have their own
// shape, colour and height on the plot, so one look tells which it is; the chart's legend, tooltip
// and the heat map's cells use the same names and colours.

export type NonFiniteKind = "nan" | "posInf" | "negInf";

export interface MarkerStyle {
  kind: NonFiniteKind;
  /** as the pages write it */
  name: string;
  /** a chart.js pointStyle */
  shape: "rectRot" | "triangle" | "rect";
  /** degrees */
  rotation: number;
  color: string;
  /** height on the plot, 0 (bottom) .. 1 (top) */
  y: number;
}

export const MARKER_STYLES: readonly MarkerStyle[] = [
  // NaN is no value at all: a diamond a little below the top edge, red
  { kind: "nan", name: "NaN", shape: "rectRot", rotation: 0, color: "#dc2626", y: 0.88 },
  // +Inf is off the top: an up-pointing triangle at the top edge, near-black
  { kind: "posInf", name: "+Inf", shape: "triangle", rotation: 0, color: "#111827", y: 0.97 },
  // -Inf is off the bottom: a down-pointing triangle at the bottom edge, pink
  { kind: "negInf", name: "-Inf", shape: "triangle", rotation: 180, color: "#db2777", y: 0.03 },
];

export const markerStyle = (kind: NonFiniteKind): MarkerStyle => MARKER_STYLES.find((s) => s.kind === kind)!;

/** The kinds of non-finite value a bucket holds, in MARKER_STYLES order. */
export function nonFiniteKinds(b: Bucket): NonFiniteKind[] {
  return MARKER_STYLES.filter((s) => b[s.kind] > 0).map((s) => s.kind);
}

/** "NaN at step 1234", or for a bucket "2 NaN in steps 1200–1263". */
export function markerText(b: Bucket, kind: NonFiniteKind): string {
  const n = b[kind];
  const name = markerStyle(kind).name;
  if (b.step === b.lastStep && n <= 1) return `${name} at step ${b.step}`;
  if (b.step === b.lastStep) return `${n} ${name} at step ${b.step}`;
  return `${n} ${name} in steps ${b.step}–${b.lastStep}`;
}

/**
 * A value <= 0 on a log axis has no place on it: it is not drawn as a value (chart.js would put it
 * at the axis' floor, a made-up level) but marked at the bottom edge, a slate square, apart from
 * -Inf's triangle.
 */
export const NONPOSITIVE_STYLE = { name: "≤ 0", shape: "rect" as const, rotation: 0, color: "#475569", y: 0.06 };

/** The value(s) <= 0 a bucket holds, as a log chart's tooltip says it: "0 at step 260", "min -2 in steps 10–19". */
export function nonPositiveText(b: Bucket, fmt: (v: number | null) => string): string {
  if (b.step === b.lastStep && b.count <= 1) return `${fmt(b.min)} at step ${b.step} (≤ 0: not on a log axis)`;
  return `min ${fmt(b.min)} in steps ${b.step}–${b.lastStep} (≤ 0: not on a log axis)`;
}
