import { formatValue } from "./format";
import { markerStyle } from "./nonfinite-markers";
import { type Bucket, finiteCount } from "./series";

// A family of per-layer lines (48 update_ratio/* keys) as one layers x steps heat map: one row per
// layer, one column per logged step (the union of the layers' bucket steps), or when there are more
// of those than columns, equal runs of consecutive logged steps per column. Columns follow what was
// logged, not the step axis: a series logged every 10th step is a solid map, not 9 empty stripes in
// 10. Each cell is the mean of the layer's values in its column.
// A cell with a NaN or an infinity in it is that, not a colour: non-finite values are never
// averaged away, and a cell holding more than one kind (NaN and +Inf) shows and names each. Colours run over the finite values' range, on a log scale for ratios (values
// that cannot be drawn on it, 0 and negatives, get a cell kind of their own).

export const Cell = {
  Empty: 0,
  Finite: 1,
  NaN: 2,
  PosInf: 3,
  NegInf: 4,
  /** zero or negative on a log scale */
  OffScale: 5,
} as const;
export type Cell = (typeof Cell)[keyof typeof Cell];

export interface LayerHeat {
  layers: string[];
  cols: number;
  /** the first and last step each column covers (bucket ranges included) */
  colFrom: Float64Array;
  colTo: Float64Array;
  fromStep: number;
  toStep: number;
  /** kind[row * cols + col]: the cell's colour (the first of NaN, +Inf, -Inf it holds) */
  kind: Uint8Array;
  /** the non-finite kinds a cell holds: 1 NaN, 2 +Inf, 4 -Inf (see cellKinds) */
  nonFinite: Uint8Array;
  /** the cell's mean (finite cells), else NaN */
  value: Float64Array;
  /** the colour scale's ends, as values (not logs) */
  lo: number;
  hi: number;
  log: boolean;
}

export interface LayerSeries {
  label: string;
  buckets: readonly Bucket[];
}

/** The heat map of `layers` in at most `maxCols` columns (fewer when there are fewer steps). */
export function layerHeat(layers: readonly LayerSeries[], maxCols: number, log: boolean): LayerHeat {
  // the logged steps, by bucket start, over all layers
  const starts = new Set<number>();
  for (const l of layers) for (const b of l.buckets) starts.add(b.step);
  const steps = [...starts].sort((a, b) => a - b);
  const cols = Math.max(1, Math.min(Math.floor(maxCols), steps.length));
  const colOf = new Map<number, number>();
  steps.forEach((s, i) => colOf.set(s, Math.min(cols - 1, Math.floor((i * cols) / steps.length))));
  const colFrom = new Float64Array(cols).fill(Infinity);
  const colTo = new Float64Array(cols).fill(-Infinity);
  const rows = layers.length;
  const kind = new Uint8Array(rows * cols);
  const value = new Float64Array(rows * cols).fill(Number.NaN);
  const sum = new Float64Array(rows * cols);
  const n = new Float64Array(rows * cols);
  const flags = new Uint8Array(rows * cols); // 1 NaN, 2 +Inf, 4 -Inf
  layers.forEach((l, r) => {
    for (const b of l.buckets) {
      const c = colOf.get(b.step)!;
      colFrom[c] = Math.min(colFrom[c], b.step);
      colTo[c] = Math.max(colTo[c], b.lastStep, b.step);
      // a downsampled bucket covers every column that starts inside its steps: layers whose
      // buckets fall on different grids (one began later) leave no stripes in each other's rows
      const last = colOf.get(steps[lastAtOrBefore(steps, b.lastStep)])!;
      const finite = finiteCount(b);
      for (let cc = c; cc <= Math.max(c, last); cc++) {
        const i = r * cols + cc;
        if (b.nan) flags[i] |= 1;
        if (b.posInf) flags[i] |= 2;
        if (b.negInf) flags[i] |= 4;
        if (b.mean !== null && finite > 0) {
          sum[i] += b.mean * finite;
          n[i] += finite;
        }
      }
    }
  });
  if (!steps.length) colFrom[0] = colTo[0] = 0;
  const fromStep = colFrom[0];
  const toStep = Math.max(...colTo);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < kind.length; i++) {
    if (flags[i] & 1) kind[i] = Cell.NaN;
    else if (flags[i] & 2) kind[i] = Cell.PosInf;
    else if (flags[i] & 4) kind[i] = Cell.NegInf;
    else if (n[i] > 0) {
      const v = sum[i] / n[i];
      value[i] = v;
      if (log && !(v > 0)) kind[i] = Cell.OffScale;
      else {
        kind[i] = Cell.Finite;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (!Number.isFinite(lo)) lo = hi = log ? 1 : 0;
  return { layers: layers.map((l) => l.label), cols, colFrom, colTo, fromStep, toStep, kind, nonFinite: flags, value, lo, hi, log };
}

/** The index of the last of the ascending `steps` that is <= `step` (0 if none is). */
function lastAtOrBefore(steps: readonly number[], step: number): number {
  let lo = 0;
  let hi = steps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (steps[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The first and last step a column covers. */
export function colSteps(h: LayerHeat, col: number): { from: number; to: number } {
  return { from: h.colFrom[col], to: h.colTo[col] };
}

const NON_FINITE_BITS: readonly [number, Cell][] = [
  [1, Cell.NaN],
  [2, Cell.PosInf],
  [4, Cell.NegInf],
];

/** Every kind cell i holds: its non-finite kinds in legend order (NaN, +Inf, -Inf), else its one kind. */
export function cellKinds(h: LayerHeat, i: number): Cell[] {
  const bits = h.nonFinite[i];
  if (!bits) return [h.kind[i] as Cell];
  return NON_FINITE_BITS.filter(([bit]) => bits & bit).map(([, k]) => k);
}

/** What a cell holds, as its tooltip writes it: the value, or each kind of non-finite value ("NaN, +Inf"). */
export function cellText(h: LayerHeat, i: number): string {
  const k = h.kind[i] as Cell;
  if (k === Cell.Finite || k === Cell.OffScale) return formatValue(h.value[i]);
  return cellKinds(h, i)
    .map((c) => CELL_NAMES[c])
    .join(", ");
}

/** How many cells hold each kind (a cell holding NaN and +Inf counts for both). */
export function cellCounts(h: LayerHeat): Map<Cell, number> {
  const out = new Map<Cell, number>();
  for (let i = 0; i < h.kind.length; i++) for (const k of cellKinds(h, i)) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

/** The cell kinds a heat map holds, in legend order: its legend names these and no others. */
export function cellKindsPresent(h: LayerHeat): Cell[] {
  const counts = cellCounts(h);
  return [Cell.NaN, Cell.PosInf, Cell.NegInf, Cell.OffScale, Cell.Empty].filter((k) => counts.has(k));
}

/** Where a finite value sits on the colour scale, 0..1 (log10 of both ends and the value on a log scale). */
export function scaleOf(h: LayerHeat, v: number): number {
  const f = h.log ? Math.log10 : (x: number) => x;
  const a = f(h.lo);
  const b = f(h.hi);
  if (!(b > a)) return 0.5;
  return Math.min(1, Math.max(0, (f(v) - a) / (b - a)));
}

// Non-finite cells stand out from any colour of the ramp (viridis: purple to yellow), in the
// colours the line charts' markers use.
export const CELL_COLORS: Record<number, string> = {
  [Cell.NaN]: markerStyle("nan").color,
  [Cell.PosInf]: markerStyle("posInf").color,
  [Cell.NegInf]: markerStyle("negInf").color,
  [Cell.OffScale]: "#d1d5db",
};

export const CELL_NAMES: Record<number, string> = {
  [Cell.Empty]: "no value",
  [Cell.Finite]: "",
  [Cell.NaN]: "NaN",
  [Cell.PosInf]: "+Inf",
  [Cell.NegInf]: "-Inf",
  [Cell.OffScale]: "≤ 0 (off the log scale)",
};

/** The cell under a point of a heat map drawn `width` x `height`, or null outside it. */
export function cellAt(h: LayerHeat, x: number, y: number, width: number, height: number): { row: number; col: number } | null {
  if (!(x >= 0 && y >= 0 && x < width && y < height) || !h.layers.length) return null;
  return { row: Math.floor((y * h.layers.length) / height), col: Math.floor((x * h.cols) / width) };
}
