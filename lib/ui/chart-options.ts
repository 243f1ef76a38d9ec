import type { TooltipItem } from "chart.js";
import type { Pt } from "./chart-view";
import { logTickLabelled } from "./chart-geometry";
import { axisTickFormat, formatValue, plural } from "./format";
import { markerText, nonPositiveText } from "./nonfinite-markers";
import { isExact } from "./series";
import { type XMode, formatX } from "./x-axis";

// A metric chart's chart.js options: axes, tooltip text. Plain data and functions of their
// arguments; the chart component sets the parts that change (x mode, log axis, reference line).

const GRID = "#eceff3";

type Range = { min: number; max: number } | null;

/**
 * The y axis. A log axis spans the positive values logged (logRange: chart.js would start it at 1
 * as soon as a value is 0); a linear one whose values are drawn divided by yDiv labels its ticks
 * with the values they stand for.
 */
export function yScale(log: boolean, flat: Range = null, logRange: Range = null, yDiv = 1) {
  const range = log ? logRange : flat;
  return {
    type: log ? ("logarithmic" as const) : ("linear" as const),
    ...(range ? { min: range.min, max: range.max } : {}),
    grid: { color: GRID },
    border: { display: false },
    ticks: {
      maxTicksLimit: 7,
      callback: (v: number | string, i: number, ticks: { value: number }[]) => {
        // log axes tick every 1-9 x 10^k: when crowded, label some (at least two, even within a decade)
        const values = ticks.map((t) => t.value * yDiv);
        if (!log) return axisTickFormat(values)(Number(v) * yDiv);
        // one format for the labels shown: an unlabelled tick at the axis' end (a log axis spans
        // the values logged, 1.58e-11..10) must not ask for six digits on every label
        const labelled = logTickLabelled(values);
        if (!labelled[i]) return "";
        return axisTickFormat(values.filter((_, j) => labelled[j]))(Number(v));
      },
    },
  };
}

export function baseOptions() {
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

export type ChartOptions = ReturnType<typeof baseOptions>;

/** "step 12", "steps 10–19 · epoch 1.5": the steps under the pointer, and x when it is not the step. */
export function tooltipTitle(items: Pick<TooltipItem<"line">, "raw">[], mode: XMode): string {
  const p = items[0]?.raw as Pt | undefined;
  if (!p) return "";
  const steps = p.b.step === p.b.lastStep ? `step ${p.b.step}` : `steps ${p.b.step}–${p.b.lastStep}`;
  return mode === "step" ? steps : `${steps} · ${mode === "epoch" ? "epoch " : ""}${formatX(mode, p.x)}`;
}

/** One line of the tooltip per line under the pointer: value, smoothed value, bucket summary or marker. */
export function tooltipLabel(item: Pick<TooltipItem<"line">, "raw" | "dataset">): string {
  const p = item.raw as Pt;
  const r = (item.dataset as { role?: string }).role;
  if (r === "marker") return `${p.line}: ${p.kind === "nonPositive" ? nonPositiveText(p.b, formatValue) : markerText(p.b, p.kind ?? "nan")}`;
  if (r === "smooth") return `${p.line} smoothed: ${formatValue(p.v ?? p.y)}`;
  const b = p.b;
  if (isExact(b)) return `${p.line}: ${formatValue(b.mean ?? b.last)}`;
  return `${p.line}: mean ${formatValue(b.mean)} (min ${formatValue(b.min)}, max ${formatValue(b.max)}, ${plural(b.count, "point")})`;
}
