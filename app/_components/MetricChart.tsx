"use client";

import { useEffect, useMemo, useRef, useState } from "react";
import type { TooltipItem } from "chart.js";
import type { Alert } from "@/lib/ui/api-types";
import { alertMarkers } from "@/lib/ui/alert-charts";
import { type ChartOptions, baseOptions, tooltipTitle, yScale } from "@/lib/ui/chart-options";
import { type LineSpec, buildChartView, round3 } from "@/lib/ui/chart-view";
import { plural } from "@/lib/ui/format";
import { type XContext, type XMode, formatX, stepRangeOf } from "@/lib/ui/x-axis";
import AlertFlags from "./AlertFlags";
import { ChartLegend, ChartTools } from "./ChartTools";
import { FLAG_ROW, type Flag, alertMarkerPlugin, refLinePlugin, setAlertMarkers } from "./chart-plugins";
import { Chart } from "./chart-setup";
import { drawQueue, useNear } from "./lazy";
import LayerHeatmap from "./LayerHeatmap";
import type { LiveBus } from "./live";
import NonFiniteNote from "./NonFiniteNote";
import { useChartSeries } from "./use-chart-series";

// One chart of one or more lines (keys of one run, or one key of several runs). It fetches its own
// downsampled buckets (about one per pixel; use-chart-series), draws min/max as a faint band under
// the mean so no spike hides, pins NaN, +Inf and -Inf as markers of their own (lib/ui/chart-view),
// appends live points, and zooms by dragging: the selected step range is fetched again at full
// resolution. The run's alerts that concern this chart stand at the step they were raised: a line in
// the severity's colour on the canvas, a labelled flag above it (resolved ones faded) that leads to
// the alert's explanation.

export type { LineSpec } from "@/lib/ui/chart-view";

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

const NO_ALERTS: readonly ChartAlert[] = [];
/** A chart of this many lines or more (a family of layers) can be shown as a heat map. */
const HEAT_MIN_LINES = 8;

export default function MetricChart(props: Props) {
  const { chartId, title, lines, settings, xContexts, bus, reloadToken = 0, logDefault = false, refLine, height = 240, alerts = NO_ALERTS } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const cardRef = useRef<HTMLElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart | null>(null);
  const [logOverride, setLogOverride] = useState<boolean | null>(null);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const [flags, setFlags] = useState<Flag[]>([]);
  const [flagRows, setFlagRows] = useState(0);
  const [heat, setHeat] = useState(false);
  // charts load as they come near the viewport (half a screen ahead), then keep their data
  const near = useNear(cardRef, "50% 0px", true);
  const { series, seeds, state, error, zoom, zoomTo, retry } = useChartSeries(lines, bus, reloadToken, near, wrapRef);

  const log = logOverride ?? (settings.log || logDefault);
  const canHeat = lines.length >= HEAT_MIN_LINES;
  const showHeat = heat && canHeat;
  const heatLayers = useMemo(
    () => (showHeat ? lines.filter((l) => !hidden.has(l.id)).map((l) => ({ label: l.label, buckets: series.get(l.id) ?? [] })) : []),
    [showHeat, lines, hidden, series],
  );

  const view = useMemo(
    () => buildChartView({ lines, series, seeds, hidden, xMode: settings.xMode, ema: settings.ema, xContexts, log }),
    [lines, series, seeds, hidden, settings.xMode, settings.ema, xContexts, log],
  );

  // a chart drawn by step for want of an x (no epoch logged, no first point yet for relative time) is labelled by step
  const xMode = view.fallback ? "step" : settings.xMode;
  const markers = useMemo(() => alertMarkers(alerts, view.hits, xMode), [alerts, view.hits, xMode]);
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
  // biome-ignore lint/correctness/useExhaustiveDependencies: markerKey is the identity of the alerts shown: a new set starts the band afresh
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
    const o = chart.options as ChartOptions;
    o.normalized = view.ascending;
    o.scales.x.ticks.callback = (v: number | string) => formatX(xMode, Number(v));
    // steps are whole numbers: no tick at step 0.5
    o.scales.x.ticks.precision = xMode === "step" ? 0 : undefined;
    o.scales.y = yScale(log, view.yFlat, view.yLog, view.yDiv);
    o.plugins.refLine = { value: refLine === undefined ? undefined : refLine / view.yDiv };
    o.plugins.tooltip.callbacks.title = (items: TooltipItem<"line">[]) => tooltipTitle(items, xMode);
    setAlertMarkers(chart, markers, (f, rows) => placeFlags.current(f, rows));
    o.layout.padding.top = 8 + (markers.length ? Math.max(1, flagRows) * FLAG_ROW : 0);
    chart.update("none");
    // what the x axis really covers, for whoever checks that every point is on it
    const x = chart.scales.x;
    const card = wrapRef.current?.closest("[data-chart]");
    card?.setAttribute("data-x-axis", x && view.drawn ? `${round3(x.min)}..${round3(x.max)}` : "");
    const y = chart.scales.y;
    const yAxis = y && view.drawn ? (log ? `${y.min}..${y.max}` : `${round3(y.min * view.yDiv)}..${round3(y.max * view.yDiv)}`) : "";
    card?.setAttribute("data-y-axis", yAxis);
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
  // biome-ignore lint/correctness/useExhaustiveDependencies: drawRef.current reads these; they are what a redraw is for
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

  const toggleLine = (id: string) =>
    setHidden((h) => {
      const n = new Set(h);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

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
      data-nonpositive-markers={view.nonPositive.values + view.nonPositive.buckets}
      data-y-div={view.yDiv}
      data-dots={view.dots}
      data-exact={String(view.exact)}
      data-zoomed={zoom ? `${zoom.from}-${zoom.to}` : ""}
      data-first-step={Number.isFinite(view.first) ? view.first : ""}
      data-last-step={Number.isFinite(view.last) ? view.last : ""}
      data-x-range={view.xRange}
      data-smooth-unit={view.smoothUnit ?? ""}
      data-smooth-breaks={view.smoothBreaks}
      data-alerts={alerts
        .filter((a) => a.status !== "resolved")
        .map((a) => a.code)
        .join(",")}
      data-resolved-alerts={alerts
        .filter((a) => a.status === "resolved")
        .map((a) => a.code)
        .join(",")}
      data-view={showHeat ? "heatmap" : "lines"}
    >
      <header className="chart-head">
        <h3 title={title}>
          <bdi>{title}</bdi>
        </h3>
        <NonFiniteNote counts={view.nonFinite} nonPositive={view.nonPositive} />
        <ChartTools
          zoomed={zoom !== null}
          onResetZoom={() => zoomTo(null)}
          canHeat={canHeat}
          heat={heat}
          onHeat={setHeat}
          log={log}
          onLog={setLogOverride}
        />
      </header>
      {lines.length > 1 && <ChartLegend lines={lines} hidden={hidden} onToggle={toggleLine} rows={showHeat} />}
      {/* biome-ignore lint/a11y/noStaticElementInteractions: drag-to-zoom and double-click are pointer gestures; "reset zoom" is the button */}
      <div
        ref={wrapRef}
        className="chart-canvas"
        style={{ height, display: showHeat ? "none" : undefined }}
        onMouseDown={onMouseDown}
        onDoubleClick={() => zoom && zoomTo(null)}
      >
        <canvas ref={canvasRef} role="img" aria-label={`chart of ${title}`} />
        {drag && <div className="drag-band" style={{ left: Math.min(drag.x0, drag.x1), width: Math.abs(drag.x1 - drag.x0) }} />}
        <AlertFlags flags={flags} alerts={alerts} markers={markers} />
        {state === "loading" && view.drawn === 0 && <div className="chart-overlay">loading…</div>}
        {state === "error" && (
          <div className="chart-overlay error" role="alert">
            could not load: {error}
            <button type="button" className="retry" onMouseDown={(e) => e.stopPropagation()} onClick={retry}>
              retry
            </button>
          </div>
        )}
      </div>
      {showHeat && <LayerHeatmap layers={heatLayers} log={log} height={height} />}
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
