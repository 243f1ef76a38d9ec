// The statistics events the diagnostics read, checked like the rest of a batch: `input_stats`
// (per-feature mean and std of the inputs, per split) and `output_stats` (the range of a
// regression model's predictions and of its targets). Other event types stay free-form.

import { LIMITS, nameProblem } from "../contract/limits";

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

/** A number on the wire: finite, or one of the strings "NaN", "Infinity", "-Infinity". */
function wireNumber(v: unknown): boolean {
  return (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && NON_FINITE.has(v));
}

function splitProblem(d: Record<string, unknown>): [string, string] | null {
  if (d.split === undefined) return null;
  if (typeof d.split !== "string") return ["split", 'must be a string such as "train" or "val"'];
  const p = nameProblem(d.split, LIMITS.statsSplitMaxLength, "split");
  return p ? ["split", p] : null;
}

function countProblem(d: Record<string, unknown>): [string, string] | null {
  if (d.n === undefined) return null;
  return typeof d.n === "number" && Number.isInteger(d.n) && d.n >= 0 && d.n <= Number.MAX_SAFE_INTEGER
    ? null
    : ["n", "must be a whole number from 0"];
}

/** Why an input_stats or output_stats event's data breaks the contract, as [field, reason], or null. */
export function statsEventProblem(type: string, d: Record<string, unknown>): [string, string] | null {
  if (type === "input_stats") {
    for (const f of ["mean", "std"] as const) {
      const v = d[f];
      if (!Array.isArray(v) || v.length < 1 || v.length > LIMITS.statsFeaturesMax.value) {
        return [f, `must be a list of 1 to ${LIMITS.statsFeaturesMax.value} numbers (one per feature)`];
      }
      for (let i = 0; i < v.length; i++) if (!wireNumber(v[i])) return [`${f}.${i}`, 'must be a number or "NaN", "Infinity", "-Infinity"'];
    }
    if ((d.mean as unknown[]).length !== (d.std as unknown[]).length) return ["std", "must have as many entries as mean"];
    const neg = (d.std as unknown[]).findIndex((x) => typeof x === "number" && x < 0);
    if (neg >= 0) return [`std.${neg}`, "must not be negative"];
    return splitProblem(d) ?? countProblem(d);
  }
  if (type === "output_stats") {
    for (const f of ["pred_min", "pred_max", "target_min", "target_max"] as const) {
      if (!wireNumber(d[f])) return [f, 'must be a number or "NaN", "Infinity", "-Infinity"'];
    }
    for (const f of ["pred_mean", "pred_std", "target_mean", "target_std"] as const) {
      if (d[f] !== undefined && !wireNumber(d[f])) return [f, 'must be a number or "NaN", "Infinity", "-Infinity" when given'];
    }
    for (const [lo, hi] of [
      ["pred_min", "pred_max"],
      ["target_min", "target_max"],
    ] as const) {
      if (typeof d[lo] === "number" && typeof d[hi] === "number" && (d[lo] as number) > (d[hi] as number)) return [lo, `must not exceed ${hi}`];
    }
    return splitProblem(d) ?? countProblem(d);
  }
  return null;
}
