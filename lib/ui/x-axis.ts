// The x axis of a chart: step, epoch (the run's `epoch` series interpolated by step), or wall time,
// relative to the run's start or absolute. Buckets know their first step and first time.

export type XMode = "step" | "epoch" | "relative" | "absolute";
export const X_MODES: { value: XMode; label: string }[] = [
  { value: "step", label: "step" },
  { value: "epoch", label: "epoch" },
  { value: "relative", label: "relative time" },
  { value: "absolute", label: "wall time" },
];

/** The `epoch` series of a run as sorted steps and values (finite values only). */
export interface EpochSeries {
  steps: number[];
  values: number[];
}

export interface XContext {
  /**
   * Unix seconds of the run's own first point (relative time counts from here), on the clock of
   * whoever logged it, so a client clock that is off does not shift the axis; null until known.
   */
  t0: number | null;
  epoch: EpochSeries | null;
  /** The epoch series could not be read (e.g. a revoked link): not the same as "no epoch logged". */
  epochUnavailable?: boolean;
  /**
   * The run's finest logging interval in steps (runStepUnit): the smoothing's unit, so that a line
   * logged once an epoch is averaged over epochs' worth of training, not over its own points, even
   * alone on its chart (lib/ui/ema.ts). Null when no key has two points.
   */
  stepUnit?: number | null;
}

/**
 * The keys that hold a run's first point (the lowest first step), at most `max` of them: the time
 * of that point starts the relative-time axis.
 */
export function firstPointKeys(
  keys: readonly { key: string; firstStep: number; count?: number }[],
  max = 20,
): { step: number; keys: string[] } | null {
  let step = Infinity;
  for (const k of keys) if ((k.count ?? 1) > 0 && k.firstStep < step) step = k.firstStep;
  if (step === Infinity) return null;
  return {
    step,
    keys: keys
      .filter((k) => (k.count ?? 1) > 0 && k.firstStep === step)
      .slice(0, max)
      .map((k) => k.key),
  };
}

/** Epoch at `step`: linear between logged points, extended along the nearest segment outside them. */
export function epochAt(e: EpochSeries, step: number): number | null {
  const n = e.steps.length;
  if (n === 0) return null;
  if (n === 1) return e.values[0];
  let lo = 0;
  let hi = n - 1;
  if (step <= e.steps[0]) hi = 1;
  else if (step >= e.steps[n - 1]) lo = n - 2;
  else {
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (e.steps[mid] <= step) lo = mid;
      else hi = mid;
    }
  }
  const s0 = e.steps[lo];
  const s1 = e.steps[hi];
  if (s1 === s0) return e.values[hi];
  return e.values[lo] + ((e.values[hi] - e.values[lo]) * (step - s0)) / (s1 - s0);
}

/** x of a point logged at `step` and `time` (Unix seconds); null when the mode has no value for it. */
export function xOf(mode: XMode, step: number, time: number, ctx: XContext | undefined): number | null {
  switch (mode) {
    case "step":
      return step;
    case "epoch":
      return ctx?.epoch ? epochAt(ctx.epoch, step) : null;
    case "relative":
      return ctx && ctx.t0 !== null ? time - ctx.t0 : null;
    case "absolute":
      return time * 1000;
  }
}

/** Tick and tooltip text for an x value. */
export function formatX(mode: XMode, v: number): string {
  switch (mode) {
    case "step":
      return Number.isInteger(v) ? String(v) : v.toFixed(1);
    case "epoch":
      return String(Number(v.toFixed(2)));
    case "relative":
      return formatDuration(v);
    case "absolute": {
      const d = new Date(v);
      const pad = (n: number) => String(n).padStart(2, "0");
      return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    }
  }
}

/** 75 -> "1m15s", 3725 -> "1h02m", 0.5 -> "0.5s". */
export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? "-" : "";
  const s = Math.abs(seconds);
  if (s < 10) return `${sign}${Number(s.toFixed(1))}s`;
  if (s < 60) return `${sign}${Math.round(s)}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${pad(Math.floor(s % 60))}s`;
  if (s < 86400) return `${sign}${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${sign}${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
}

/**
 * The step range a horizontal selection [x0, x1] covers, from the drawn points' x values and their
 * buckets' [step, lastStep]; works for any x mode since x grows with step. A selection between two
 * points widens to them, so zooming always shows something.
 */
export function stepRangeOf(
  points: readonly { x: number; step: number; lastStep: number }[],
  x0: number,
  x1: number,
): { from: number; to: number } | null {
  if (!points.length) return null;
  const [a, b] = x0 <= x1 ? [x0, x1] : [x1, x0];
  let from = Infinity;
  let to = -Infinity;
  for (const p of points) {
    if (p.x >= a && p.x <= b) {
      from = Math.min(from, p.step);
      to = Math.max(to, p.lastStep);
    }
  }
  if (from === Infinity) {
    const before = points.filter((p) => p.x < a).at(-1);
    const after = points.find((p) => p.x > b);
    if (!before && !after) return null;
    from = (before ?? after)!.step;
    to = (after ?? before)!.lastStep;
  }
  return { from, to };
}

/**
 * The x of `step` on a chart, from its drawn points (x grows with step, whatever the mode):
 * linear between the two points around it, the nearest end outside them; null without points.
 * Places things known only by step (alert markers) on time and epoch axes.
 */
export function xAtStep(points: readonly { x: number; step: number }[], step: number): number | null {
  const n = points.length;
  if (n === 0) return null;
  if (step <= points[0].step) return points[0].x;
  if (step >= points[n - 1].step) return points[n - 1].x;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].step <= step) lo = mid;
    else hi = mid;
  }
  const a = points[lo];
  const b = points[hi];
  if (b.step === a.step) return b.x;
  return a.x + ((b.x - a.x) * (step - a.step)) / (b.step - a.step);
}
