// A histogram-over-steps heat map: each logged histogram becomes one column, its counts spread
// over a shared grid of value rows (a bin spanning several rows gives each its overlapping share),
// so histograms with different edges line up. Colour is the count normalised per column.

export interface Histogram {
  step: number;
  edges: number[];
  counts: number[];
}

export interface HeatGrid {
  lo: number;
  hi: number;
  rows: number;
  cols: number;
  /** cells[col * rows + row], row 0 at `lo` */
  cells: Float64Array;
  /** the largest cell of each column */
  colMax: Float64Array;
}

export function heatGrid(hists: readonly Histogram[], rows: number): HeatGrid {
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of hists) {
    if (!h.edges.length) continue;
    lo = Math.min(lo, h.edges[0]);
    hi = Math.max(hi, h.edges[h.edges.length - 1]);
  }
  if (!Number.isFinite(lo)) lo = hi = 0;
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const cols = hists.length;
  const cells = new Float64Array(cols * rows);
  const colMax = new Float64Array(cols);
  const h = (hi - lo) / rows;
  hists.forEach((hist, c) => {
    for (let i = 0; i < hist.counts.length; i++) {
      const n = hist.counts[i];
      if (!(n > 0)) continue;
      const a = hist.edges[i];
      const b = hist.edges[i + 1];
      const r0 = Math.min(rows - 1, Math.max(0, Math.floor((a - lo) / h)));
      const r1 = Math.min(rows - 1, Math.max(0, Math.ceil((b - lo) / h) - 1));
      if (b <= a || r0 >= r1) {
        cells[c * rows + r0] += n;
        continue;
      }
      for (let r = r0; r <= r1; r++) {
        const overlap = Math.min(b, lo + (r + 1) * h) - Math.max(a, lo + r * h);
        if (overlap > 0) cells[c * rows + r] += (n * overlap) / (b - a);
      }
    }
    let m = 0;
    for (let r = 0; r < rows; r++) m = Math.max(m, cells[c * rows + r]);
    colMax[c] = m;
  });
  return { lo, hi, rows, cols, cells, colMax };
}

// A perceptual ramp (viridis-like), light background for empty cells.
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** RGB for t in [0, 1]. */
export function rampColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [STOPS[i], STOPS[i + 1]];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as [number, number, number];
}
