import { constantRange, pointRadii, xAscending, xExtent } from "./chart-geometry";
import { withAlpha } from "./color";
import { type EmaState, chartUnit, emaFold, lineSpacing, smooth } from "./ema";
import { MARKER_STYLES, NONPOSITIVE_STYLE, type NonFiniteKind, markerStyle, nonFiniteKinds } from "./nonfinite-markers";
import { type Bucket, type NonFiniteCounts, isExact, nonFiniteCounts } from "./series";
import { type XContext, type XMode, xOf } from "./x-axis";

// What one chart draws, as chart.js datasets, from the buckets it holds: per line a faint min/max
// band (downsampled buckets), the mean, the smoothed mean, and a marker per kind of non-finite
// value; plus what the card reports about it (counts, ranges, fallbacks). No React, no canvas.
// On a log axis a value <= 0 has no place: it is marked at the bottom edge (and counted), never
// drawn at a made-up height. Finite values whose range overflows a double (1e308 and -1e308) are
// drawn at a tenth of their height (yDiv) so that chart.js can span them; ticks and tooltips
// multiply back.

export interface LineSpec {
  id: string;
  runId: string;
  key: string;
  label: string;
  color: string;
}

/** A marker's kind: a non-finite value, or (on a log axis) a value <= 0. */
export type MarkKind = NonFiniteKind | "nonPositive";

/** A drawn point: x, y (null: a gap), its bucket, its marker kind, its line's label; v: the value when y is scaled. */
export interface Pt {
  x: number;
  y: number | null;
  b: Bucket;
  kind?: MarkKind;
  line: string;
  v?: number | null;
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
  /** a log y axis: values <= 0 are marked, not drawn */
  log?: boolean;
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
  /** the y range when every finite value is one value (so the axis has a span), in drawn (scaled) units */
  yFlat: { min: number; max: number } | null;
  /** on a log axis: the positive values' range (the axis spans it), null without any */
  yLog: { min: number; max: number } | null;
  /** drawn y = value / yDiv: 1, or 10 where the values' range overflows a double */
  yDiv: number;
  /** on a log axis, values <= 0 marked at the bottom edge: exact points, and buckets whose min is <= 0 */
  nonPositive: { values: number; buckets: number };
  /** stretches of two or more consecutive buckets marked with one kind, drawn as a span too */
  markerRuns: number;
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

export function buildChartView({ lines, series, seeds, hidden, xMode, ema, xContexts, log = false }: ChartViewInput): ChartView {
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
  const nonPositive = { values: 0, buckets: 0 };
  let markerRunCount = 0;
  const ext = valueExtent(lines, series, hidden);
  // the values' span overflows a double (1e308 - -1e308), or the axis' padding and rounding to nice
  // ticks would (values near 1.8e308): draw at a tenth of the height
  const yDiv = !log && (!Number.isFinite(ext.max - ext.min) || Math.max(Math.abs(ext.min), Math.abs(ext.max)) > HUGE) ? 10 : 1;
  const drawY = (y: number | null) => (y === null || (log && y <= 0) ? null : y / yDiv);
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
      mean.push({ x, y: drawY(b.mean), b, line: line.label });
      if (!isExact(b)) {
        banded = true;
        exact = false;
      }
      lo.push({ x, y: drawY(b.min), b, line: line.label });
      hi.push({ x, y: drawY(b.max), b, line: line.label });
      for (const kind of nonFiniteKinds(b)) {
        marks.push({ x, y: markerStyle(kind).y, b, kind, line: line.label });
        markerKinds[kind]++;
      }
      if (log && b.min !== null && b.min <= 0) {
        marks.push({ x, y: NONPOSITIVE_STYLE.y, b, kind: "nonPositive", line: line.label });
        if (isExact(b)) nonPositive.values++;
        else nonPositive.buckets++;
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
      const sm = smoothedDataset(line, mean, seeds.get(line.id), ema, unit, spacings.get(line.id) ?? null, drawY);
      datasets.push(sm.dataset);
      smoothBreaks += sm.breaks;
    }
    for (const st of [...MARKER_STYLES, { ...NONPOSITIVE_STYLE, kind: "nonPositive" as const }]) {
      const data = marks.filter((m) => m.kind === st.kind);
      if (!data.length) continue;
      const runs = markerRuns(data, bs);
      markerRunCount += runs.length;
      // a run of markers is also a span in the kind's colour: it reads as one stretch of NaN
      // (or ±Inf, or <= 0), whatever the markers' spacing
      if (runs.length)
        datasets.push({
          type: "line",
          label: `${line.label} ${st.name} run`,
          data: runs.flatMap((r, i) => [...(i ? [{ ...r[0], y: null }] : []), r[0], r[1]]),
          yAxisID: "yMarker",
          borderColor: withAlpha(st.color, 0.35),
          borderWidth: 10,
          borderCapStyle: "round",
          pointRadius: 0,
          pointHoverRadius: 0,
          spanGaps: false,
          order: 0.5,
        });
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
        // outlined in white, not the line's colour: a dense run of markers must read as the
        // kind's colour, not as a bar of the line's colour at a level no value had
        borderColor: "#ffffff",
        borderWidth: 1,
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
    yFlat: log ? null : constantRange(ext.min / yDiv, ext.max / yDiv),
    yLog: log ? logRange(ext.posMin, ext.posMax) : null,
    yDiv,
    nonPositive,
    markerRuns: markerRunCount,
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

/** Markers of one kind on consecutive buckets, two or more: [first, last] of each run. */
function markerRuns(marks: readonly Pt[], bs: readonly Bucket[]): [Pt, Pt][] {
  const index = new Map(bs.map((b, i) => [b, i]));
  const runs: [Pt, Pt][] = [];
  let start = 0;
  for (let i = 1; i <= marks.length; i++) {
    if (i < marks.length && index.get(marks[i].b) === (index.get(marks[i - 1].b) ?? -2) + 1) continue;
    if (i - 1 > start) runs.push([marks[start], marks[i - 1]]);
    start = i;
  }
  return runs;
}

/** Values beyond this (in size) are drawn scaled down: chart.js' axis arithmetic would overflow near them. */
const HUGE = 1e306;

/** The finite values' extent over the shown lines, and the positive values' (a log axis spans those). */
function valueExtent(lines: readonly LineSpec[], series: ReadonlyMap<string, Bucket[]>, hidden: ReadonlySet<string>) {
  let min = Infinity;
  let max = -Infinity;
  let posMin = Infinity;
  let posMax = -Infinity;
  for (const line of lines) {
    if (hidden.has(line.id)) continue;
    for (const b of series.get(line.id) ?? []) {
      for (const y of [b.min, b.max, b.mean]) {
        if (y === null || !Number.isFinite(y)) continue;
        if (y < min) min = y;
        if (y > max) max = y;
        if (y > 0 && y < posMin) posMin = y;
        if (y > 0 && y > posMax) posMax = y;
      }
    }
  }
  return { min, max, posMin, posMax };
}

/** A log axis over the positive values (a single value: half a decade either side), null without any. */
export function logRange(min: number, max: number): { min: number; max: number } | null {
  if (!(min > 0) || !Number.isFinite(max)) return null;
  if (min === max) return { min: min / Math.SQRT2 / 2.2360679, max: max * Math.SQRT2 * 2.2360679 };
  return { min, max };
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
  drawY: (y: number | null) => number | null,
): { dataset: Record<string, unknown>; breaks: number } {
  // values near the largest double overflow the average's sums: average them scaled down (by a
  // power of two: exact) and scale the result back
  const huge = (b: Bucket) => b.mean !== null && Math.abs(b.mean) > 2 ** 1000;
  const k = mean.some((p) => huge(p.b)) || seed?.some(huge) ? 2 ** -24 : 1;
  const scaled = (b: Bucket): Bucket => (k === 1 || b.mean === null ? b : { ...b, mean: b.mean * k });
  const bs = mean.map((p) => scaled(p.b));
  const spacing = own ?? (seed ? lineSpacing(seed) : null);
  const from: EmaState | undefined = seed ? emaFold(seed.map(scaled), weight, { unit, spacing }) : undefined;
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
    const v = values[i] === null ? null : (values[i] as number) / k;
    data.push({ ...p, y: drawY(v), v });
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

/** The header's note on values <= 0 a log axis cannot place: "12 values ≤ 0 not drawable on a log axis" ("" for none). */
export function nonPositiveNote({ values, buckets }: { values: number; buckets: number }): string {
  if (!values && !buckets) return "";
  const parts = [
    values ? (values === 1 ? "1 value" : `${values} values`) : "",
    buckets ? (buckets === 1 ? "1 bucket with values" : `${buckets} buckets with values`) : "",
  ];
  return `${parts.filter(Boolean).join(" and ")} \u2264 0 not drawable on a log axis`;
}
