"use client";

import type { ChartConfiguration, Plugin } from "chart.js";
import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import type { ParamSpec, Space } from "@/lib/sweeps/types";
import { axisTickFormat, formatValue, plural } from "@/lib/ui/format";
import {
  type ParamScale,
  type SweepTrialView,
  categories,
  isDistribution,
  objectiveNumber,
  paramOf,
  paramRange,
  paramScale,
  scalarText,
  specOf,
  specText,
} from "@/lib/ui/sweep-view";
import { Chart } from "../chart-setup";

// The sweep page's charts: objective against each hyperparameter (log x for scale parameters, the
// searched range and the suggested next range drawn as bands, failed trials as red crosses on the
// bottom axis, apart from the values), and every trial's objective curve overlaid. A click on a
// point opens its trial's run.

const BEST = "#f28e2b";
const TRIAL = "#4e79a7";
const FAILED = "#dc2626";
const CURVE_GREY = "rgba(120, 130, 145, 0.45)";

interface Point {
  x: number;
  y: number;
  runId: string;
  name: string;
}

interface Bands {
  range: { low: number; high: number } | null;
  next: { low: number; high: number } | null;
  /** failed trials' x positions, drawn as crosses on the bottom axis */
  failed: number[];
}

// the searched range (grey dashed edges) and the suggested next one (green band), then the crosses
const bandsPlugin: Plugin<"scatter"> = {
  id: "sweepBands",
  beforeDatasetsDraw(chart) {
    const b = (chart.options.plugins as { sweepBands?: Bands }).sweepBands;
    const x = chart.scales.x;
    if (!b || !x) return;
    const { top, bottom, left, right } = chart.chartArea;
    const ctx = chart.ctx;
    const px = (v: number) => Math.min(right, Math.max(left, x.getPixelForValue(v)));
    ctx.save();
    if (b.next) {
      ctx.fillStyle = "rgba(89, 161, 79, 0.12)";
      ctx.fillRect(px(b.next.low), top, px(b.next.high) - px(b.next.low), bottom - top);
    }
    if (b.range) {
      ctx.strokeStyle = "rgba(90, 100, 115, 0.75)";
      ctx.setLineDash([5, 4]);
      ctx.lineWidth = 1;
      for (const v of [b.range.low, b.range.high]) {
        const p = x.getPixelForValue(v);
        if (p < left - 0.5 || p > right + 0.5) continue;
        ctx.beginPath();
        ctx.moveTo(p, top);
        ctx.lineTo(p, bottom);
        ctx.stroke();
      }
    }
    ctx.restore();
  },
  afterDatasetsDraw(chart) {
    const b = (chart.options.plugins as { sweepBands?: Bands }).sweepBands;
    const x = chart.scales.x;
    if (!b || !x || !b.failed.length) return;
    const { bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = FAILED;
    ctx.lineWidth = 2;
    for (const v of b.failed) {
      const p = x.getPixelForValue(v);
      const y = bottom - 6;
      ctx.beginPath();
      ctx.moveTo(p - 4, y - 4);
      ctx.lineTo(p + 4, y + 4);
      ctx.moveTo(p + 4, y - 4);
      ctx.lineTo(p - 4, y + 4);
      ctx.stroke();
    }
    ctx.restore();
  },
};

/** A chart.js chart on a canvas, made again whenever `config` changes (at most ~1/s: the page throttles). */
function useChart(config: () => ChartConfiguration, sig: string) {
  const ref = useRef<HTMLCanvasElement>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: sig is the identity of what config() reads
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const chart = new Chart(canvas, config());
    // the scale chart.js actually built (tests read it: a "log" label on a linear axis would lie)
    canvas.dataset.xScale = chart.scales.x?.type ?? "";
    return () => chart.destroy();
  }, [sig]);
  return ref;
}

export function ParamScatter({
  name,
  spec,
  next,
  trials,
  best,
  goal,
  metric,
}: {
  name: string;
  spec: ParamSpec | undefined;
  next: ParamSpec | undefined;
  trials: SweepTrialView[];
  best: ReadonlySet<string>;
  goal: "max" | "min";
  metric: string;
}) {
  const router = useRouter();
  const values = trials.map((t) => paramOf(t, name)).filter((v) => v !== undefined);
  const scale: ParamScale = paramScale(spec, values);
  const cats = scale === "category" ? categories(spec, values) : [];
  const range = scale === "category" ? null : paramRange(spec, values);
  const nextRange = scale !== "category" && isDistribution(next) && next.distribution !== "choice" ? { low: next.low, high: next.high } : null;
  const xOf = (t: SweepTrialView): number | null => {
    const v = paramOf(t, name);
    if (v === undefined) return null;
    if (scale === "category") return cats.indexOf(scalarText(v));
    return typeof v === "number" && Number.isFinite(v) && (scale !== "log" || v > 0) ? v : null;
  };
  const good: Point[] = [];
  const top: Point[] = [];
  const failed: number[] = [];
  for (const t of trials) {
    const x = xOf(t);
    if (x === null) continue;
    const y = objectiveNumber(t.objective);
    if (t.failed || y === null || !Number.isFinite(y)) {
      // a failure (or a NaN/Inf objective) is not a bad value: marked apart, never drawn as a number
      if (t.failed || y !== null) failed.push(x);
      continue;
    }
    (best.has(t.runId) ? top : good).push({ x, y, runId: t.runId, name: t.name });
  }
  const sig = JSON.stringify([name, scale, cats, range, nextRange, good, top, failed]);
  const canvas = useChart(() => {
    const all = [...good, ...top].map((p) => p.x);
    const ext = [...all, ...(range ? [range.low, range.high] : []), ...(nextRange ? [nextRange.low, nextRange.high] : []), ...failed];
    let min: number | undefined;
    let max: number | undefined;
    if (scale === "category") {
      min = -0.5;
      max = Math.max(0, cats.length - 1) + 0.5;
    } else if (ext.length) {
      const lo = Math.min(...ext);
      const hi = Math.max(...ext);
      if (scale === "log") {
        const pad = Math.max(Math.log10(hi / lo) * 0.06, 0.05);
        min = lo / 10 ** pad;
        max = hi * 10 ** pad;
      } else {
        const pad = (hi - lo || Math.abs(hi) || 1) * 0.06;
        min = lo - pad;
        max = hi + pad;
      }
    }
    return {
      type: "scatter",
      data: {
        datasets: [
          { label: "trials", data: good, pointRadius: 4, pointHoverRadius: 6, backgroundColor: TRIAL, borderColor: TRIAL },
          { label: "best", data: top, pointRadius: 6, pointHoverRadius: 8, backgroundColor: BEST, borderColor: "#9a4a00", borderWidth: 1.5 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: {
            type: scale === "log" ? "logarithmic" : "linear",
            min,
            max,
            title: { display: true, text: name },
            ticks:
              scale === "category"
                ? { stepSize: 1, callback: (v) => (Number.isInteger(v) ? (cats[v as number] ?? "") : "") }
                : { maxTicksLimit: 7, includeBounds: false, callback: (v) => formatValue(Number(v)) },
          },
          y: {
            title: { display: true, text: `${metric} (${goal})` },
            ticks: {
              callback: function (v) {
                return axisTickFormat(this.ticks.map((t) => t.value))(Number(v));
              },
            },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => {
                const p = item.raw as Point;
                const xv = scale === "category" ? cats[p.x] : formatValue(p.x);
                return `${p.name}: ${name}=${xv}, ${metric}=${formatValue(p.y)}`;
              },
            },
          },
          ...({ sweepBands: { range, next: nextRange, failed } satisfies Bands } as object),
        },
        onClick: (_e, els, chart) => {
          const el = els[0];
          if (!el) return;
          const p = chart.data.datasets[el.datasetIndex].data[el.index] as unknown as Point;
          router.push(`/runs/${encodeURIComponent(p.runId)}`);
        },
      },
      plugins: [bandsPlugin as Plugin],
    } as ChartConfiguration;
  }, sig);

  const fmt = (v: number) => formatValue(v);
  return (
    <figure
      className="chart-card sweep-scatter"
      data-chart={`param:${name}`}
      data-param={name}
      data-scale={scale}
      data-points={good.length + top.length}
      data-failed={failed.length}
    >
      <div className="chart-head">
        <h3 title={name}>
          <bdi>{name}</bdi>
        </h3>
        <span className="muted small">{scale === "log" ? "log scale" : scale === "category" ? "choices" : "linear"}</span>
      </div>
      <div className="chart-canvas sweep-canvas">
        <canvas ref={canvas} role="img" aria-label={`${metric} against ${name}`} />
      </div>
      <figcaption className="chart-foot">
        {spec !== undefined ? (
          <span>searched: {specText(spec, fmt)}</span>
        ) : range ? (
          <span>
            tried {fmt(range.low)} … {fmt(range.high)}
          </span>
        ) : null}
        {nextRange && <span className="next-range"> · next: {specText(next, fmt)}</span>}
        {failed.length > 0 && (
          <span className="failed-note">
            {" "}
            · <span className="cross">✕</span> {plural(failed.length, "failed trial")} (diverged or no {metric}), on the axis
          </span>
        )}
      </figcaption>
    </figure>
  );
}

/** Every trial's objective curve, overlaid; the best trials coloured, the rest grey; NaN/Inf as gaps, counted. */
export function ObjectiveCurves({ trials, best, metric }: { trials: SweepTrialView[]; best: string[]; metric: string }) {
  const rank = new Map(best.map((id, i) => [id, i]));
  const lines = trials.filter((t) => t.curve.length > 0);
  const nonFinite = lines.filter((t) => t.curve.some(([, v]) => !Number.isFinite(objectiveNumber(v)))).length;
  const sig = JSON.stringify([lines.map((t) => [t.runId, t.curve.length, t.curve[t.curve.length - 1]]), best]);
  const canvas = useChart(
    () =>
      ({
        type: "line",
        data: {
          datasets: [...lines]
            // best drawn last, on top
            .sort((a, b) => (rank.get(b.runId) ?? 1e9) - (rank.get(a.runId) ?? 1e9))
            .map((t) => {
              const r = rank.get(t.runId);
              // the best trials in the page's one colour for "best" (table, scatters, parallel coordinates)
              const color = r === undefined ? CURVE_GREY : BEST;
              return {
                label: t.name,
                data: t.curve.map(([x, v]) => {
                  const y = objectiveNumber(v);
                  return { x, y: y !== null && Number.isFinite(y) ? y : null };
                }),
                borderColor: color,
                backgroundColor: color,
                borderWidth: r === undefined ? 1.2 : 2.2,
                pointRadius: 0,
                spanGaps: false,
              };
            }),
        },
        options: {
          animation: false,
          maintainAspectRatio: false,
          parsing: false,
          interaction: { mode: "nearest", intersect: false },
          scales: {
            x: { type: "linear", title: { display: true, text: "step" } },
            y: {
              title: { display: true, text: metric },
              ticks: {
                callback: function (v) {
                  return axisTickFormat(this.ticks.map((t) => t.value))(Number(v));
                },
              },
            },
          },
          plugins: { legend: { display: false }, tooltip: { callbacks: { label: (i) => `${i.dataset.label}: ${formatValue(i.parsed.y)}` } } },
        },
      }) as ChartConfiguration,
    sig,
  );
  return (
    <figure className="chart-card sweep-curves" data-chart="curves" data-lines={lines.length}>
      <div className="chart-head">
        <h3>
          <bdi>{metric}</bdi> of every trial
        </h3>
        <span className="muted small">per step (thinned) · best trials in orange</span>
      </div>
      <div className="chart-canvas sweep-canvas wide">
        <canvas ref={canvas} role="img" aria-label={`${metric} curves of every trial`} />
      </div>
      <figcaption className="chart-foot">
        {lines.length === 0 ? `no trial has logged ${metric} yet` : plural(lines.length, "trial")}
        {nonFinite > 0 && <span className="failed-note"> · {plural(nonFinite, "trial")} logged NaN/Inf (gaps in the lines)</span>}
      </figcaption>
    </figure>
  );
}

export function nextSpec(suggestion: Space | null, name: string): ParamSpec | undefined {
  return specOf(suggestion, name);
}
