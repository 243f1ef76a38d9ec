"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Plugin, TooltipItem } from "chart.js";
import { Chart, withAlpha } from "./chart-setup";
import { drawQueue, seriesLoader, useNear } from "./lazy";
import LayerHeatmap from "./LayerHeatmap";
import { type LiveBus, liveReady, trackCatchUp } from "./live";
import { useRunAccess } from "./run-access";
import { attr, reveal } from "./reveal";
import { alertLabel, markerStep, severityColor } from "@/lib/ui/alert-charts";
import type { Alert } from "@/lib/ui/api-types";
import { type EmaState, emaFold, emaPoints, finiteCount } from "@/lib/ui/ema";
import { constantRange, logTickLabelled, pointRadii, xAscending } from "@/lib/ui/chart-geometry";
import { axisTickFormat, formatValue } from "@/lib/ui/format";
import { MARKER_STYLES, type NonFiniteKind, markerStyle, markerText, nonFiniteKinds } from "@/lib/ui/nonfinite-markers";
import { type Bucket, type LivePoint, appendLive, decodeBucket, isExact, nonFiniteCounts } from "@/lib/ui/series";
import { type XContext, type XMode, formatX, stepRangeOf, xAtStep, xOf } from "@/lib/ui/x-axis";

// One chart of one or more lines (keys of one run, or one key of several runs). It fetches its own
// downsampled buckets (about one per pixel), draws min/max as a faint band under the mean so no
// spike hides, pins NaN, +Inf and -Inf as markers of their own (lib/ui/nonfinite-markers), appends live points, and
// zooms by dragging: the selected step range is fetched again at full resolution. The run's alerts
// that concern this chart stand at the step they were raised: a line in the severity's colour on the
// canvas, a labelled flag above it (resolved ones faded) that leads to the alert's explanation.

export interface LineSpec {
  id: string;
  runId: string;
  key: string;
  label: string;
  color: string;
}

export interface ChartSettings {
  ema: number;
  log: boolean;
  xMode: XMode;
}

interface Props {
  chartId: string;
  title: string;
  lines: LineSpec[];
  settings: ChartSettings;
  /** By run id. */
  xContexts: ReadonlyMap<string, XContext>;
  bus: LiveBus;
  /** Bumped by the page after a reconnect: refetch. */
  reloadToken?: number;
  logDefault?: boolean;
  refLine?: number;
  height?: number;
  /** Alerts whose evidence this chart shows. */
  alerts?: readonly ChartAlert[];
}

export type ChartAlert = Pick<Alert, "code" | "severity" | "status" | "title" | "step" | "firstStep">;

/** A flag over the plot: its line's pixel x, the side it extends to, its row in the flag band. */
interface Flag {
  code: string;
  left: number;
  side: "left" | "right";
  row: number;
  /** pixel top of the flag */
  top: number;
}

type Range = { from: number; to: number };
type Pt = { x: number; y: number | null; b: Bucket; kind?: NonFiniteKind; line: string };

const REFETCH_DEBOUNCE_MS = 800;
const FLAG_ROW = 19;
const FLAG_FONT = "600 11px ui-sans-serif, system-ui, -apple-system, 'Segoe UI', sans-serif";
const MAX_FLAG_ROWS = 3;
const NO_ALERTS: readonly ChartAlert[] = [];
/** A chart of this many lines or more (a family of layers) can be shown as a heat map. */
const HEAT_MIN_LINES = 8;

export default function MetricChart(props: Props) {
  const { chartId, title, lines, settings, xContexts, bus, reloadToken = 0, logDefault = false, refLine, height = 240, alerts = NO_ALERTS } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const cardRef = useRef<HTMLElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart | null>(null);
  // by line id: metric keys are data, never object members (a key may be named `constructor`)
  const [series, setSeries] = useState<ReadonlyMap<string, Bucket[]>>(new Map());
  // when zoomed, the smoothing's state at the start of the range (the run's points before it)
  const [seeds, setSeeds] = useState<ReadonlyMap<string, Bucket[]>>(new Map());
  const [state, setState] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState("");
  const [zoom, setZoom] = useState<Range | null>(null);
  const [logOverride, setLogOverride] = useState<boolean | null>(null);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const [flags, setFlags] = useState<Flag[]>([]);
  const [flagRows, setFlagRows] = useState(0);
  const [heat, setHeat] = useState(false);

  const zoomRef = useRef<Range | null>(null);
  const genRef = useRef(0);
  const inFlightRef = useRef(false);
  const pendingRef = useRef(new Map<string, LivePoint[]>());
  const appendedRef = useRef(0);
  const budgetRef = useRef(600);
  const timerRef = useRef<ReturnType<typeof setTimeout> | null>(null);
  /** A fetch was asked for: until then live points are left to it. */
  const startedRef = useRef(false);
  // charts load as they come near the viewport (half a screen ahead), then keep their data
  const near = useNear(cardRef, "50% 0px", true);

  const access = useRunAccess();
  const linesKey = lines.map((l) => `${l.id}\u0000${l.runId}\u0000${l.key}`).join("\u0001");
  const linesRef = useRef(lines);
  linesRef.current = lines;

  const load = useCallback(async (range: Range | null) => {
    const gen = ++genRef.current;
    inFlightRef.current = true;
    startedRef.current = true;
    pendingRef.current = new Map();
    await liveReady();
    if (gen !== genRef.current) return;
    const width = wrapRef.current?.clientWidth || 600;
    const points = Math.round(Math.min(1000, Math.max(200, width)));
    budgetRef.current = points;
    const ls = linesRef.current;
    try {
      const out = new Map<string, Bucket[]>();
      const before = new Map<string, Bucket[]>();
      const byRun = new Map<string, LineSpec[]>();
      for (const l of ls) byRun.set(l.runId, [...(byRun.get(l.runId) ?? []), l]);
      await Promise.all(
        [...byRun].map(async ([runId, rl]) => {
          const keys = rl.map((l) => l.key);
          const [got, prefix] = await Promise.all([
            seriesLoader.load(access.api(runId), keys, points, range),
            // zoomed: what came before, coarsely, so the smoothed line reads as it does unzoomed
            range && range.from > 0 ? seriesLoader.load(access.api(runId), keys, 200, { from: 0, to: range.from - 1 }) : null,
          ]);
          rl.forEach((l, i) => {
            out.set(l.id, got[i] ? got[i].buckets.map(decodeBucket) : []);
            if (prefix?.[i]) before.set(l.id, prefix[i]!.buckets.map(decodeBucket));
          });
        }),
      );
      if (gen !== genRef.current) return;
      // live points that came in while the request was out: keep those past what it returned
      for (const l of ls) {
        const fetched = out.get(l.id) ?? [];
        const last = fetched.length ? fetched[fetched.length - 1].lastStep : -1;
        const newer = (pendingRef.current.get(l.id) ?? []).filter((p) => p[0] > last);
        if (newer.length && !range) out.set(l.id, appendLive(fetched, newer).buckets);
      }
      appendedRef.current = 0;
      setSeries(out);
      setSeeds(before);
      setState("ready");
    } catch (e) {
      if (gen !== genRef.current) return;
      setError((e as Error).message);
      setState("error");
    } finally {
      if (gen === genRef.current) inFlightRef.current = false;
    }
  }, []);

  // (re)fetch when the lines change, after a reconnect, or when zooming; not before the chart comes near
  useEffect(() => {
    if (!near) return;
    const p = load(zoomRef.current);
    if (reloadToken > 0) trackCatchUp(p); // after a reconnect the page is caught up once this is in
  }, [linesKey, reloadToken, load, near]);

  useEffect(
    () => () => {
      if (timerRef.current) clearTimeout(timerRef.current);
    },
    [],
  );

  // live points
  useEffect(() => {
    const offs = lines.map((l) =>
      bus.subscribe(l.runId, l.key, (pts) => {
        if (zoomRef.current || !startedRef.current) return;
        if (inFlightRef.current) {
          pendingRef.current.set(l.id, [...(pendingRef.current.get(l.id) ?? []), ...pts]);
          return;
        }
        setSeries((prev) => new Map(prev).set(l.id, appendLive(prev.get(l.id) ?? [], pts).buckets));
        appendedRef.current += pts.length;
        // too many raw points on top of the buckets: re-bucket (debounced)
        if (appendedRef.current > 2 * budgetRef.current && !timerRef.current) {
          timerRef.current = setTimeout(() => {
            timerRef.current = null;
            if (!zoomRef.current) void load(null);
          }, REFETCH_DEBOUNCE_MS);
        }
      }),
    );
    return () => offs.forEach((off) => off());
    // linesKey is the identity of lines
  }, [linesKey, bus, load]);

  const zoomTo = useCallback(
    (range: Range | null) => {
      zoomRef.current = range;
      setZoom(range);
      void load(range);
    },
    [load],
  );

  const log = logOverride ?? (settings.log || logDefault);
  const canHeat = lines.length >= HEAT_MIN_LINES;
  const heatLayers = useMemo(
    () => (heat && canHeat ? lines.filter((l) => !hidden.has(l.id)).map((l) => ({ label: l.label, buckets: series.get(l.id) ?? [] })) : []),
    [heat, canHeat, lines, hidden, series],
  );

  const view = useMemo(() => {
    const datasets: Record<string, unknown>[] = [];
    const hits: { x: number; step: number; lastStep: number }[] = [];
    let drawn = 0;
    let markers = 0;
    let fallback = false;
    let first = Infinity;
    let last = -Infinity;
    let xMin = Infinity;
    let xMax = -Infinity;
    let exact = true;
    let ascending = true;
    let dots = 0;
    let epochUnavailable = false;
    const nonFinite = { nan: 0, posInf: 0, negInf: 0 };
    const markerKinds = { nan: 0, posInf: 0, negInf: 0 };
    let yMin = Infinity;
    let yMax = -Infinity;
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
        let x = xOf(settings.xMode, b.step, b.time, ctx);
        if (x === null) {
          fallback = true;
          x = b.step;
        }
        hits.push({ x, step: b.step, lastStep: b.lastStep });
        xMin = Math.min(xMin, x);
        xMax = Math.max(xMax, x);
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
      const smooth = settings.ema > 0;
      const few = bs.length <= 40;
      if (ascending && !xAscending(mean.map((p) => p.x))) ascending = false;
      const radii = pointRadii(
        mean.map((p) => p.y),
        few,
      );
      for (const r of radii) if (r > 0) dots++;
      if (banded) {
        // the band's edges are drawn too (thin, faint): a one-bucket spike is a line, not an invisible sliver
        const edge = withAlpha(line.color, 0.4);
        datasets.push({
          type: "line",
          label: `${line.label} min`,
          data: lo,
          borderColor: edge,
          borderWidth: 0.75,
          pointRadius: 0,
          fill: false,
          spanGaps: false,
          order: 3,
        });
        datasets.push({
          type: "line",
          label: `${line.label} max`,
          data: hi,
          borderColor: edge,
          borderWidth: 0.75,
          pointRadius: 0,
          fill: "-1",
          backgroundColor: withAlpha(line.color, 0.16),
          spanGaps: false,
          order: 3,
        });
      }
      datasets.push({
        type: "line",
        label: line.label,
        data: mean,
        borderColor: smooth ? withAlpha(line.color, 0.32) : line.color,
        backgroundColor: line.color,
        borderWidth: smooth ? 1 : 1.6,
        // a finite value between two gaps (NaN, ±Inf) has no segment: a dot, or it is not drawn
        pointRadius: radii,
        pointHoverRadius: 3,
        spanGaps: false,
        order: 2,
        ...role("raw"),
      });
      if (smooth) {
        // each bucket weighs as many raw points as it holds: the same line at any length or zoom
        const seed = seeds.get(line.id);
        const start: EmaState | undefined = seed ? emaFold(seed.map(smoothIn), settings.ema) : undefined;
        const sm = emaPoints(bs.map(smoothIn), settings.ema, start);
        datasets.push({
          type: "line",
          label: `${line.label} (smoothed)`,
          data: mean.map((p, i) => ({ ...p, y: sm[i] })),
          borderColor: line.color,
          backgroundColor: line.color,
          borderWidth: 2,
          pointRadius: pointRadii(sm, false),
          pointHoverRadius: 3,
          spanGaps: false,
          order: 1,
          ...role("smooth"),
        });
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
    const xRange = Number.isFinite(xMin) ? `${round(xMin)}..${round(xMax)}` : "";
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
      xRange,
      ascending,
      epochUnavailable,
    };
  }, [lines, series, seeds, hidden, settings.xMode, settings.ema, xContexts]);

  // a chart drawn by step for want of an x (no epoch logged, no first point yet for relative time) is labelled by step
  const xMode = view.fallback ? "step" : settings.xMode;

  // alert markers: at the step each alert was first raised, on whatever x axis is shown
  const markers = useMemo(() => {
    if (!view.hits.length) return [];
    const byStep = xMode === "step" ? [] : [...view.hits].sort((a, b) => a.step - b.step);
    const out: AlertMarker[] = [];
    for (const a of alerts) {
      const step = markerStep(a);
      const x = xMode === "step" ? step : xAtStep(byStep, step);
      if (x === null) continue;
      out.push({ code: a.code, label: alertLabel(a.code), color: severityColor(a.severity), resolved: a.status === "resolved", x });
    }
    // resolved first, so active lines are drawn over them
    return out.sort((a, b) => Number(b.resolved) - Number(a.resolved));
  }, [alerts, view.hits, xMode]);
  const markerKey = markers
    .map((m) => m.code)
    .sort()
    .join(",");

  // the flag band keeps its height while the same alerts are shown (no jumping while data arrives)
  const placeFlags = useRef<(f: Flag[], rows: number) => void>(() => {});
  placeFlags.current = (f, rows) => {
    setFlags((prev) => (JSON.stringify(prev) === JSON.stringify(f) ? prev : f));
    setFlagRows((r) => Math.max(r, rows));
  };
  useEffect(() => setFlagRows(0), [markerKey]);

  // create the chart once, destroy on unmount. Creating and drawing go through the page's draw
  // queue: a hundred charts whose data comes in one response are drawn over several short tasks.
  useEffect(() => {
    const canvas = canvasRef.current!;
    let chart: Chart | null = null;
    drawQueue.schedule(canvas, () => {
      chart = new Chart(canvas, {
        type: "line",
        data: { datasets: [] },
        options: baseOptions(),
        plugins: [refLinePlugin, alertMarkerPlugin],
      });
      chartRef.current = chart;
      drawRef.current();
    });
    return () => {
      drawQueue.cancel(canvas);
      drawQueue.cancel(drawRef);
      chart?.destroy();
      chartRef.current = null;
    };
  }, []);

  const drawRef = useRef(() => {});
  drawRef.current = () => {
    const chart = chartRef.current;
    if (!chart) return;
    chart.data.datasets = view.datasets as never;
    const o = chart.options as ReturnType<typeof baseOptions>;
    o.normalized = view.ascending;
    o.scales.x.ticks.callback = (v: number | string) => formatX(xMode, Number(v));
    // steps are whole numbers: no tick at step 0.5
    o.scales.x.ticks.precision = xMode === "step" ? 0 : undefined;
    o.scales.y = yScale(log, view.yFlat);
    o.plugins.refLine = { value: refLine };
    o.plugins.tooltip.callbacks.title = (items: TooltipItem<"line">[]) => tooltipTitle(items, xMode);
    markerState.set(chart, { items: markers, place: (f, rows) => placeFlags.current(f, rows) });
    o.layout.padding.top = 8 + (markers.length ? Math.max(1, flagRows) * FLAG_ROW : 0);
    chart.update("none");
    // what the x axis really covers, for whoever checks that every point is on it
    const x = chart.scales.x;
    const card = wrapRef.current?.closest("[data-chart]");
    card?.setAttribute("data-x-axis", x && view.drawn ? `${round(x.min)}..${round(x.max)}` : "");
    const y = chart.scales.y;
    card?.setAttribute("data-y-axis", y && view.drawn ? `${round(y.min)}..${round(y.max)}` : "");
    // the tick labels as drawn, for whoever checks that an axis reads in one format
    const labels = (sc: typeof x) =>
      sc && view.drawn
        ? sc.ticks
            .map((t) => String(t.label ?? ""))
            .filter(Boolean)
            .join("|")
        : "";
    card?.setAttribute("data-x-ticks", labels(x));
    card?.setAttribute("data-y-ticks", labels(y));
  };
  useEffect(() => drawQueue.schedule(drawRef, () => drawRef.current()), [view, log, xMode, refLine, markers, flagRows]);

  // drag to zoom
  const onMouseDown = (e: React.MouseEvent) => {
    const chart = chartRef.current;
    if (e.button !== 0 || !chart) return;
    const rect = canvasRef.current!.getBoundingClientRect();
    const area = chart.chartArea;
    const px = e.clientX - rect.left;
    if (px < area.left || px > area.right) return;
    e.preventDefault();
    const clamp = (v: number) => Math.min(area.right, Math.max(area.left, v));
    let current = { x0: px, x1: px };
    setDrag(current);
    const move = (ev: MouseEvent) => {
      current = { x0: px, x1: clamp(ev.clientX - rect.left) };
      setDrag(current);
    };
    const up = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      setDrag(null);
      if (Math.abs(current.x1 - current.x0) < 5) return;
      const scale = chart.scales.x;
      const range = stepRangeOf(view.hits, scale.getValueForPixel(current.x0)!, scale.getValueForPixel(current.x1)!);
      if (range) zoomTo(range);
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
  };

  const activeCodes = alerts.filter((a) => a.status !== "resolved").map((a) => a.code);
  const resolvedCodes = alerts.filter((a) => a.status === "resolved").map((a) => a.code);
  const nf = view.nonFinite;
  const notes = MARKER_STYLES.filter((st) => nf[st.kind] > 0).map((st) => ({ kind: st.kind, style: st, text: `${nf[st.kind]} ${st.name}` }));

  return (
    <section
      ref={cardRef}
      className="chart-card"
      data-chart={chartId}
      data-state={state}
      data-points={view.drawn}
      data-markers={view.markers}
      data-nan-markers={view.markerKinds.nan}
      data-posinf-markers={view.markerKinds.posInf}
      data-neginf-markers={view.markerKinds.negInf}
      data-dots={view.dots}
      data-exact={String(view.exact)}
      data-zoomed={zoom ? `${zoom.from}-${zoom.to}` : ""}
      data-first-step={Number.isFinite(view.first) ? view.first : ""}
      data-last-step={Number.isFinite(view.last) ? view.last : ""}
      data-x-range={view.xRange}
      data-alerts={activeCodes.join(",")}
      data-resolved-alerts={resolvedCodes.join(",")}
      data-view={heat && canHeat ? "heatmap" : "lines"}
    >
      <header className="chart-head">
        <h3 title={title}>
          <bdi>{title}</bdi>
        </h3>
        {notes.length > 0 && (
          <span className="nonfinite-note" title="non-finite values, each with its own marker on the chart">
            {notes.map((n, i) => (
              <span key={n.kind} className="nf" data-kind={n.kind} data-shape={n.style.shape} data-color={n.style.color} data-y={n.style.y}>
                {i > 0 && " · "}
                <i className={`nf-mark nf-${n.kind}`} style={{ ["--nf" as string]: n.style.color }} aria-hidden="true" />
                {n.text}
              </span>
            ))}
          </span>
        )}
        <span className="chart-tools">
          {zoom && (
            <button type="button" className="link-button" onClick={() => zoomTo(null)} title="or double-click the chart">
              reset zoom
            </button>
          )}
          {canHeat && (
            <button
              type="button"
              className={`toggle ${heat ? "on" : ""}`}
              aria-pressed={heat}
              onClick={() => setHeat(!heat)}
              title="layers x steps heat map"
            >
              heat map
            </button>
          )}
          <button
            type="button"
            className={`toggle ${log ? "on" : ""}`}
            aria-pressed={log}
            onClick={() => setLogOverride(!log)}
            title="logarithmic y axis for this chart"
          >
            log
          </button>
        </span>
      </header>
      {lines.length > 1 && (
        // in the heat map a layer is a row, not a coloured line: the legend only lists and toggles layers
        <ul className={`legend ${heat && canHeat ? "rows" : ""}`}>
          {lines.map((l) => (
            <li key={l.id}>
              <button
                type="button"
                className={hidden.has(l.id) ? "off" : ""}
                onClick={() =>
                  setHidden((h) => {
                    const n = new Set(h);
                    if (n.has(l.id)) n.delete(l.id);
                    else n.add(l.id);
                    return n;
                  })
                }
              >
                <i style={{ background: l.color }} />
                {l.label}
              </button>
            </li>
          ))}
        </ul>
      )}
      {/* biome-ignore lint/a11y/noStaticElementInteractions: drag-to-zoom and double-click are pointer gestures; "reset zoom" is the button */}
      <div
        ref={wrapRef}
        className="chart-canvas"
        style={{ height, display: heat && canHeat ? "none" : undefined }}
        onMouseDown={onMouseDown}
        onDoubleClick={() => zoom && zoomTo(null)}
      >
        <canvas ref={canvasRef} role="img" aria-label={`chart of ${title}`} />
        {drag && <div className="drag-band" style={{ left: Math.min(drag.x0, drag.x1), width: Math.abs(drag.x1 - drag.x0) }} />}
        {flags.map((f) => {
          const a = alerts.find((x) => x.code === f.code);
          const m = markers.find((x) => x.code === f.code);
          if (!a || !m) return null;
          const resolved = a.status === "resolved";
          return (
            <button
              key={f.code}
              type="button"
              className={`alert-flag sev-${a.severity} ${resolved ? "resolved" : ""} ${f.side}`}
              data-alert={a.code}
              style={{ left: f.left, top: f.top, ["--sev" as string]: m.color }}
              title={`${a.severity}${resolved ? ", resolved" : ""} · step ${markerStep(a)}\n${a.title}`}
              aria-label={`${a.severity} alert at step ${markerStep(a)}: ${a.title}`}
              onMouseDown={(e) => e.stopPropagation()}
              onDoubleClick={(e) => e.stopPropagation()}
              onClick={() => reveal(`.alerts article${attr("data-code", a.code)}`, m.color)}
            >
              {m.label}
            </button>
          );
        })}
        {state === "loading" && view.drawn === 0 && <div className="chart-overlay">loading…</div>}
        {state === "error" && (
          <div className="chart-overlay error" role="alert">
            could not load: {error}
            <button
              type="button"
              className="retry"
              onMouseDown={(e) => e.stopPropagation()}
              onClick={() => {
                setState("loading");
                void load(zoomRef.current);
              }}
            >
              retry
            </button>
          </div>
        )}
      </div>
      {heat && canHeat && <LayerHeatmap layers={heatLayers} log={log} height={height} />}
      <footer className="chart-foot">
        {zoom
          ? `steps ${zoom.from}–${zoom.to}`
          : view.drawn
            ? view.exact
              ? plural(view.drawn, "point")
              : `${plural(view.drawn, "bucket")} (min/max band)`
            : "\u00a0"}
        {view.fallback &&
          settings.xMode === "epoch" &&
          (view.epochUnavailable ? " · epoch series unavailable: by step" : " · no epoch logged: by step")}
        {view.fallback && settings.xMode === "relative" && " · start time not known yet: by step"}
      </footer>
    </section>
  );
}

const round = (v: number) => Number(v.toFixed(3));
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

const smoothIn = (b: Bucket) => ({ y: b.mean, n: finiteCount(b) });

/** Which datasets the tooltip lists (not the min/max band). */
function role(r: "raw" | "smooth" | "marker") {
  return { role: r };
}

const GRID = "#eceff3";

function yScale(log: boolean, flat: { min: number; max: number } | null = null) {
  return {
    type: log ? ("logarithmic" as const) : ("linear" as const),
    ...(flat && !log ? { min: flat.min, max: flat.max } : {}),
    grid: { color: GRID },
    border: { display: false },
    ticks: {
      maxTicksLimit: 7,
      callback: (v: number | string, i: number, ticks: { value: number }[]) => {
        // log axes tick every 1-9 x 10^k: when crowded, label some (at least two, even within a decade)
        const values = ticks.map((t) => t.value);
        if (log && !logTickLabelled(values)[i]) return "";
        return axisTickFormat(values)(Number(v));
      },
    },
  };
}

function baseOptions() {
  return {
    animation: false as const,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false as const,
    normalized: true as boolean,
    interaction: { mode: "nearest" as const, axis: "x" as const, intersect: false },
    layout: { padding: { top: 8, right: 8 } },
    scales: {
      x: {
        type: "linear" as const,
        grid: { color: GRID },
        border: { display: false },
        ticks: { maxRotation: 0, autoSkipPadding: 16, precision: undefined as number | undefined, callback: (v: number | string) => String(v) },
      },
      y: yScale(false) as ReturnType<typeof yScale>,
      yMarker: { type: "linear" as const, min: 0, max: 1, display: false },
    },
    plugins: {
      legend: { display: false },
      refLine: { value: undefined as number | undefined },
      tooltip: {
        filter: (item: TooltipItem<"line">) => "role" in item.dataset,
        callbacks: {
          title: (items: TooltipItem<"line">[]) => tooltipTitle(items, "step"),
          label: tooltipLabel,
        },
      },
    },
  };
}

function tooltipTitle(items: TooltipItem<"line">[], mode: XMode): string {
  const p = items[0]?.raw as Pt | undefined;
  if (!p) return "";
  const steps = p.b.step === p.b.lastStep ? `step ${p.b.step}` : `steps ${p.b.step}–${p.b.lastStep}`;
  return mode === "step" ? steps : `${steps} · ${mode === "epoch" ? "epoch " : ""}${formatX(mode, p.x)}`;
}

function tooltipLabel(item: TooltipItem<"line">): string {
  const p = item.raw as Pt;
  const r = (item.dataset as { role?: string }).role;
  if (r === "marker") return `${p.line}: ${markerText(p.b, p.kind ?? "nan")}`;
  if (r === "smooth") return `${p.line} smoothed: ${formatValue(p.y)}`;
  const b = p.b;
  if (isExact(b)) return `${p.line}: ${formatValue(b.mean ?? b.last)}`;
  return `${p.line}: mean ${formatValue(b.mean)} (min ${formatValue(b.min)}, max ${formatValue(b.max)}, ${plural(b.count, "point")})`;
}

/** A faint dashed horizontal line at options.plugins.refLine.value (e.g. 1e-3 for update ratios). */
const refLinePlugin: Plugin<"line"> = {
  id: "refLine",
  afterDatasetsDraw(chart) {
    const value = (chart.options.plugins as { refLine?: { value?: number } }).refLine?.value;
    const y = chart.scales.y;
    if (value === undefined || !y || value < y.min || value > y.max) return;
    const py = y.getPixelForValue(value);
    const { left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = "rgba(90, 100, 115, 0.55)";
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(left, py);
    ctx.lineTo(right, py);
    ctx.stroke();
    ctx.fillStyle = "rgba(90, 100, 115, 0.8)";
    ctx.font = "10px system-ui, sans-serif";
    ctx.fillText(formatValue(value), left + 4, py - 3);
    ctx.restore();
  },
};

interface AlertMarker {
  code: string;
  label: string;
  color: string;
  resolved: boolean;
  x: number;
}

/**
 * Alert markers: a vertical line per alert at its x (dashed and faint once resolved), drawn under
 * the data; after each draw, reports where the HTML flags go: rows in the band above the plot so
 * that flags of nearby steps do not cover each other.
 */
const alertMarkerPlugin: Plugin<"line"> = {
  id: "alertMarkers",
  beforeDatasetsDraw(chart) {
    const { items } = markerOptions(chart);
    const x = chart.scales.x;
    if (!items.length || !x) return;
    const { top, bottom, left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    for (const m of items) {
      const px = x.getPixelForValue(m.x);
      if (!(px >= left - 0.5 && px <= right + 0.5)) continue;
      ctx.strokeStyle = withAlpha(m.color, m.resolved ? 0.45 : 0.9);
      ctx.lineWidth = m.resolved ? 1 : 1.5;
      ctx.setLineDash(m.resolved ? [3, 3] : []);
      ctx.beginPath();
      ctx.moveTo(Math.round(px) + 0.5, top - 4);
      ctx.lineTo(Math.round(px) + 0.5, bottom);
      ctx.stroke();
    }
    ctx.restore();
  },
  afterDraw(chart) {
    const { items, place } = markerOptions(chart);
    const x = chart.scales.x;
    if (!place) return;
    if (!items.length || !x) return place([], 0);
    const { left, right, top } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = FLAG_FONT;
    const placed: (Flag & { from: number; to: number })[] = [];
    const visible = items
      .map((m) => ({ m, px: x.getPixelForValue(m.x) }))
      .filter(({ px }) => px >= left - 0.5 && px <= right + 0.5)
      .sort((a, b) => a.px - b.px || Number(a.m.resolved) - Number(b.m.resolved));
    for (const { m, px } of visible) {
      const width = ctx.measureText(m.label).width + 16;
      // extend to the right, or to the left where that would leave the plot (a marker at the last step)
      const side = px + width > right + 4 && px - width >= 0 ? "left" : "right";
      const from = side === "left" ? px - width : px;
      const to = from + width;
      let row = 0;
      while (row < MAX_FLAG_ROWS - 1 && placed.some((p) => p.row === row && p.from < to + 3 && from < p.to + 3)) row++;
      placed.push({ code: m.code, left: Math.round(px), side, row, top: Math.round(top - 2 - (row + 1) * (FLAG_ROW - 1)), from, to });
    }
    ctx.restore();
    place(
      placed.map(({ code, left, side, row, top }) => ({ code, left, side, row, top })),
      placed.length ? Math.max(...placed.map((p) => p.row)) + 1 : 0,
    );
  },
};

// Held beside the chart, not in its options: chart.js would take `place` for a scriptable option.
const markerState = new WeakMap<object, { items: AlertMarker[]; place: (f: Flag[], rows: number) => void }>();
function markerOptions(chart: object): { items: AlertMarker[]; place?: (f: Flag[], rows: number) => void } {
  return markerState.get(chart) ?? { items: [] };
}
