import { constantRange, pointRadii, xAscending, xExtent } from "./chart-geometry";
import { withAlpha } from "./color";
import { type EmaState, chartUnit, emaFold, lineSpacing, smooth } from "./ema";
import { MARKER_STYLES, type NonFiniteKind, markerStyle, nonFiniteKinds } from "./nonfinite-markers";
import { type Bucket, type NonFiniteCounts, isExact, nonFiniteCounts } from "./series";
import { type XContext, type XMode, xOf } from "./x-axis";

// What one chart draws, as chart.js datasets, from the buckets it holds: per line a faint min/max
// band (downsampled buckets), the mean, the smoothed mean, and a marker per kind of non-finite
// value; plus what the card reports about it (counts, ranges, fallbacks). No React, no canvas.

export interface LineSpec {
  id: string;
  runId: string;
  key: string;
  label: string;
  color: string;
}

/** A drawn point: x, y (null: a gap), its bucket, its marker kind, its line's label. */
export interface Pt {
  x: number;
  y: number | null;
  b: Bucket;
  kind?: NonFiniteKind;
  line: string;
}

/** Where a point sits on the x axis, for alert markers and drag-to-zoom. */
export interface Hit {
  x: number;
  step: number;
  lastStep: number;
}

export interface ChartViewInput {
  lines: readonly LineSpec[];
  /** by line id */
  series: ReadonlyMap<string, Bucket[]>;
  /** by line id: when zoomed, the run's buckets before the range (the smoothing's start) */
  seeds: ReadonlyMap<string, Bucket[]>;
  hidden: ReadonlySet<string>;
  xMode: XMode;
  /** the smoothing weight, 0 for none */
  ema: number;
  /** by run id */
  xContexts: ReadonlyMap<string, XContext>;
}

export interface ChartView {
  datasets: Record<string, unknown>[];
  hits: Hit[];
  /** buckets drawn */
  drawn: number;
  /** finite values drawn as a dot (no line reaches them) */
  dots: number;
  markers: number;
  markerKinds: NonFiniteCounts;
  nonFinite: NonFiniteCounts;
  /** the y range when every finite value is one value (so the axis has a span) */
  yFlat: { min: number; max: number } | null;
  /** some point had no x in the chosen mode and was drawn by step */
  fallback: boolean;
  epochUnavailable: boolean;
  first: number;
  last: number;
  exact: boolean;
  xRange: string;
  ascending: boolean;
  /** the smoothing's unit in steps (null: not smoothed), and where a gap broke a smoothed line */
  smoothUnit: number | null;
  smoothBreaks: number;
}

/** Which datasets the tooltip lists (not the min/max band). */
const role = (r: "raw" | "smooth" | "marker") => ({ role: r });

export const round3 = (v: number) => Number(v.toFixed(3));

export function buildChartView({ lines, series, seeds, hidden, xMode, ema, xContexts }: ChartViewInput): ChartView {
  const datasets: Record<string, unknown>[] = [];
  const hits: Hit[] = [];
  let drawn = 0;
  let markers = 0;
  let fallback = false;
  let first = Infinity;
  let last = -Infinity;
  let exact = true;
  let ascending = true;
  let dots = 0;
  let epochUnavailable = false;
  const nonFinite = { nan: 0, posInf: 0, negInf: 0 };
  const markerKinds = { nan: 0, posInf: 0, negInf: 0 };
  let yMin = Infinity;
  let yMax = -Infinity;
  let smoothBreaks = 0;
  // the smoothing's unit is the finest logging interval of the chart's lines (hidden or not) and of
  // their runs: a validation line averages over the same steps as the run's train line (lib/ui/ema.ts)
  const spacings = new Map(ema > 0 ? lines.map((l) => [l.id, lineSpacing(series.get(l.id) ?? [])]) : []);
  const runUnits = lines.map((l) => xContexts.get(l.runId)?.stepUnit ?? null);
  const unit = ema > 0 ? chartUnit([...spacings.values(), ...runUnits]) : null;
  for (const line of lines) {
    if (hidden.has(line.id)) continue;
    const bs = series.get(line.id) ?? [];
    const ctx = xContexts.get(line.runId);
    if (ctx?.epochUnavailable) epochUnavailable = true;
    const mean: Pt[] = [];
    const lo: Pt[] = [];
    const hi: Pt[] = [];
    const marks: Pt[] = [];
    let banded = false;
    for (const b of bs) {
      let x = xOf(xMode, b.step, b.time, ctx);
      if (x === null) {
        fallback = true;
        x = b.step;
      }
      hits.push({ x, step: b.step, lastStep: b.lastStep });
      mean.push({ x, y: b.mean, b, line: line.label });
      if (!isExact(b)) {
        banded = true;
        exact = false;
      }
      for (const y of [b.min, b.max, b.mean]) {
        if (y !== null && Number.isFinite(y)) {
          yMin = Math.min(yMin, y);
          yMax = Math.max(yMax, y);
        }
      }
      lo.push({ x, y: b.min, b, line: line.label });
      hi.push({ x, y: b.max, b, line: line.label });
      for (const kind of nonFiniteKinds(b)) {
        marks.push({ x, y: markerStyle(kind).y, b, kind, line: line.label });
        markerKinds[kind]++;
      }
      first = Math.min(first, b.step);
      last = Math.max(last, b.lastStep);
    }
    drawn += bs.length;
    markers += marks.length;
    const c = nonFiniteCounts(bs);
    nonFinite.nan += c.nan;
    nonFinite.posInf += c.posInf;
    nonFinite.negInf += c.negInf;
    if (ascending && !xAscending(mean.map((p) => p.x))) ascending = false;
    const radii = pointRadii(
      mean.map((p) => p.y),
      bs.length <= 40,
    );
    for (const r of radii) if (r > 0) dots++;
    if (banded) datasets.push(...bandDatasets(line, lo, hi));
    const smoothed = ema > 0;
    datasets.push({
      type: "line",
      label: line.label,
      data: mean,
      borderColor: smoothed ? withAlpha(line.color, 0.32) : line.color,
      backgroundColor: line.color,
      borderWidth: smoothed ? 1 : 1.6,
      // a finite value between two gaps (NaN, ±Inf) has no segment: a dot, or it is not drawn
      pointRadius: radii,
      pointHoverRadius: 3,
      spanGaps: false,
      order: 2,
      ...role("raw"),
    });
    if (smoothed) {
      const sm = smoothedDataset(line, mean, seeds.get(line.id), ema, unit, spacings.get(line.id) ?? null);
      datasets.push(sm.dataset);
      smoothBreaks += sm.breaks;
    }
    for (const st of MARKER_STYLES) {
      const data = marks.filter((m) => m.kind === st.kind);
      if (!data.length) continue;
      datasets.push({
        type: "scatter",
        label: `${line.label} ${st.name}`,
        data,
        yAxisID: "yMarker",
        pointStyle: st.shape,
        rotation: st.rotation,
        pointRadius: 6,
        pointHoverRadius: 8,
        backgroundColor: st.color,
        borderColor: line.color,
        borderWidth: 1.5,
        order: 0,
        ...role("marker"),
      });
    }
  }
  // chart.js takes unparsed data as sorted by x and reads its range off the first and last
  // points: where x goes back (a client clock that steps back, an epoch that goes back at
  // validation rows), let it parse the points so the axis spans them all
  if (!ascending) for (const d of datasets) d.parsing = true;
  const extent = xExtent(hits.map((h) => h.x));
  return {
    datasets,
    hits,
    drawn,
    dots,
    markers,
    markerKinds,
    yFlat: constantRange(yMin, yMax),
    nonFinite,
    fallback,
    first,
    last,
    exact,
    xRange: extent ? `${round3(extent.min)}..${round3(extent.max)}` : "",
    ascending,
    epochUnavailable,
    smoothUnit: unit,
    smoothBreaks,
  };
}

/** The band's edges are drawn too (thin, faint): a one-bucket spike is a line, not an invisible sliver. */
function bandDatasets(line: LineSpec, lo: Pt[], hi: Pt[]): Record<string, unknown>[] {
  const edge = withAlpha(line.color, 0.4);
  const common = { type: "line", borderColor: edge, borderWidth: 0.75, pointRadius: 0, spanGaps: false, order: 3 };
  return [
    { ...common, label: `${line.label} min`, data: lo, fill: false },
    { ...common, label: `${line.label} max`, data: hi, fill: "-1", backgroundColor: withAlpha(line.color, 0.16) },
  ];
}

/**
 * The smoothed mean: each bucket weighs as many raw points as it holds, decaying by steps in the
 * chart's unit, seeded by the run's points before a zoomed range, broken where a gap restarts it.
 */
function smoothedDataset(
  line: LineSpec,
  mean: Pt[],
  seed: Bucket[] | undefined,
  weight: number,
  unit: number | null,
  own: number | null,
): { dataset: Record<string, unknown>; breaks: number } {
  const bs = mean.map((p) => p.b);
  const spacing = own ?? (seed ? lineSpacing(seed) : null);
  const from: EmaState | undefined = seed ? emaFold(seed, weight, { unit, spacing }) : undefined;
  const { values, breaks } = smooth(bs, weight, { unit, spacing, from });
  const data: Pt[] = [];
  let next = 0;
  mean.forEach((p, i) => {
    if (breaks[next] === i) {
      // no segment across the gap: a point with no value halfway
      const before = mean[i - 1];
      data.push({ ...before, x: (before.x + p.x) / 2, y: null });
      next++;
    }
    data.push({ ...p, y: values[i] });
  });
  const dataset = {
    type: "line",
    label: `${line.label} (smoothed)`,
    data,
    borderColor: line.color,
    backgroundColor: line.color,
    borderWidth: 2,
    pointRadius: pointRadii(
      data.map((p) => p.y),
      false,
    ),
    pointHoverRadius: 3,
    spanGaps: false,
    order: 1,
    ...role("smooth"),
  };
  return { dataset, breaks: breaks.length };
}

/** The header's note on non-finite values: one entry per kind present, "3 NaN". */
export function nonFiniteNotes(nf: NonFiniteCounts) {
  return MARKER_STYLES.filter((st) => nf[st.kind] > 0).map((st) => ({ kind: st.kind, style: st, text: `${nf[st.kind]} ${st.name}` }));
}
