"use client";

import Link from "next/link";
import type { Space } from "@/lib/sweeps/types";
import { formatValue } from "@/lib/ui/format";
import { type SweepTrialView, axisPosition, categories, objectiveNumber, paramOf, paramRange, paramScale, specOf } from "@/lib/ui/sweep-view";

// Parallel coordinates: one vertical axis per hyperparameter and one for the objective (better at
// the top whatever the goal), one line per trial. Lines are coloured by objective, the best trials
// thick and orange; failed trials (diverged, NaN/Inf or no objective) end in a "failed" slot below
// the objective axis, dashed. SVG drawn here (no chart library has it); every name is SVG text.

const W_AXIS = 150;
const MIN_WIDTH = 1000;
const H = 300;
const TOP = 34;
const BOTTOM = 44; // room below the axes for the failed slot and the range labels
const PLOT = H - TOP - BOTTOM;
const FAILED_Y = H - 16;

interface Axis {
  name: string;
  label: string;
  pos: (t: SweepTrialView) => number | null;
  lowText: string;
  highText: string;
  scale: string;
}

function colorFor(f: number): string {
  // light to dark blue as the objective gets better
  const a = [199, 210, 254];
  const b = [30, 58, 138];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

export default function ParallelCoords({
  names,
  space,
  trials,
  best,
  metric,
  goal,
}: {
  names: string[];
  space: Space;
  trials: SweepTrialView[];
  best: ReadonlySet<string>;
  metric: string;
  goal: "max" | "min";
}) {
  const axes: Axis[] = names.map((name) => {
    const spec = specOf(space, name);
    const values = trials.map((t) => paramOf(t, name)).filter((v) => v !== undefined);
    const scale = paramScale(spec, values);
    const cats = scale === "category" ? categories(spec, values) : [];
    const range = scale === "category" ? null : paramRange(spec, values);
    return {
      name,
      label: name,
      scale,
      pos: (t) => axisPosition(paramOf(t, name), scale, range, cats),
      lowText: scale === "category" ? (cats[0] ?? "") : range ? formatValue(range.low) : "",
      highText: scale === "category" ? (cats.length > 1 ? cats[cats.length - 1] : "") : range ? formatValue(range.high) : "",
    };
  });
  const finite = trials
    .filter((t) => !t.failed)
    .map((t) => objectiveNumber(t.objective))
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  // better at the top: for "min" the lowest value is at the top
  const quality = (v: number) => (hi === lo ? 0.5 : goal === "max" ? (v - lo) / (hi - lo) : (hi - v) / (hi - lo));
  const objOf = (t: SweepTrialView): number | null => {
    const v = objectiveNumber(t.objective);
    return t.failed || v === null || !Number.isFinite(v) ? null : v;
  };
  axes.push({
    name: "\u0000objective",
    label: `${metric} (${goal})`,
    scale: "objective",
    pos: (t) => {
      const v = objOf(t);
      return v === null ? null : quality(v);
    },
    lowText: finite.length ? formatValue(goal === "max" ? lo : hi) : "",
    highText: finite.length ? formatValue(goal === "max" ? hi : lo) : "",
  });
  // the card's width for a few axes, more room (a scroll) for many
  const gap = Math.max(W_AXIS, MIN_WIDTH / Math.max(2, axes.length));
  const width = Math.max(2, axes.length) * gap;
  const xOf = (i: number) => gap / 2 + i * gap;
  const yOf = (p: number) => TOP + (1 - p) * PLOT;

  // best drawn last (on top), failed first
  const ordered = [...trials].sort((a, b) => rankOf(a) - rankOf(b));
  function rankOf(t: SweepTrialView): number {
    if (best.has(t.runId)) return 2;
    return objOf(t) === null ? 0 : 1;
  }

  return (
    <figure className="chart-card parallel" data-chart="parallel" data-testid="parallel-coords" data-axes={axes.length} data-lines={trials.length}>
      <div className="chart-head">
        <h3>All parameters and {metric}</h3>
        <span className="muted small">a line per trial · best in orange · failed dashed red · click a line to open its run</span>
      </div>
      <div className="parallel-scroll">
        <svg
          viewBox={`0 0 ${width} ${H}`}
          width={width}
          height={H}
          role="img"
          aria-label={`parallel coordinates of ${axes.length - 1} parameters and ${metric}`}
        >
          {ordered.map((t) => {
            const obj = objOf(t);
            const isBest = best.has(t.runId);
            const pts: string[] = [];
            axes.forEach((a, i) => {
              const p = a.pos(t);
              // a trial without a value on an axis (or a failure on the objective's) goes to the failed slot there
              pts.push(`${xOf(i)},${p === null ? FAILED_Y : yOf(p)}`);
            });
            const color = obj === null ? "#dc2626" : isBest ? "#f28e2b" : colorFor(quality(obj));
            return (
              <Link key={t.runId} href={`/runs/${encodeURIComponent(t.runId)}`} data-trial={t.runId}>
                <polyline
                  points={pts.join(" ")}
                  fill="none"
                  stroke={color}
                  strokeWidth={isBest ? 3 : 1.5}
                  strokeDasharray={obj === null ? "4 3" : undefined}
                  strokeOpacity={obj === null ? 0.6 : 0.85}
                  data-failed={obj === null ? "" : undefined}
                  data-best={isBest ? "" : undefined}
                >
                  <title>{`${t.name}: ${metric} = ${t.failed ? (typeof t.objectiveRaw === "string" ? `${formatValue(t.objectiveRaw)} (${t.failure ?? "failed"})` : (t.failure ?? "failed")) : formatValue(t.objective)}`}</title>
                </polyline>
              </Link>
            );
          })}
          {axes.map((a, i) => (
            <g key={a.name} data-axis={a.name === "\u0000objective" ? "objective" : a.name} data-scale={a.scale}>
              <line x1={xOf(i)} x2={xOf(i)} y1={TOP} y2={TOP + PLOT} stroke="#5b6472" strokeWidth={1} />
              <text x={xOf(i)} y={14} textAnchor="middle" className="pc-label">
                <title>{a.label}</title>
                {a.label.length > 22 ? `${a.label.slice(0, 21)}…` : a.label}
              </text>
              {a.scale === "log" && (
                <text x={xOf(i)} y={27} textAnchor="middle" className="pc-tick">
                  log
                </text>
              )}
              <text x={xOf(i) + 5} y={TOP + 4} className="pc-tick">
                {cut(a.highText)}
              </text>
              <text x={xOf(i) + 5} y={TOP + PLOT} className="pc-tick">
                {cut(a.lowText)}
              </text>
            </g>
          ))}
          {trials.some((t) => axes.some((a) => a.pos(t) === null)) && (
            <text x={xOf(axes.length - 1) + 6} y={FAILED_Y + 4} className="pc-tick pc-failed">
              failed / none
            </text>
          )}
        </svg>
      </div>
    </figure>
  );
}

const cut = (s: string) => (s.length > 16 ? `${s.slice(0, 15)}…` : s);
