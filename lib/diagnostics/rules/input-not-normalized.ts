// input_not_normalized: from an `input_stats` event (per-feature mean and std of the inputs as
// fed to the network): features far from zero-centred, or on very different scales.

import { diagnosis, type Rule } from "../context";
import { fmt, median, round } from "../series";

const TYPES = new Set(["input_stats", "input_statistics", "data_stats"]);

/** The split an input_stats event describes: "train" unless it names another one (e.g. "val"). */
export function statsSplit(data: unknown): "train" | "val" | "other" {
  const raw = data && typeof data === "object" ? (data as Record<string, unknown>).split : undefined;
  if (raw === undefined || raw === null) return "train";
  // free-form JSON: an object's String() can throw ({"toString": 1}); only a name is a split
  if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") return "other";
  const s = String(raw).trim().toLowerCase();
  if (s === "" || s === "train" || s === "training") return "train";
  if (s === "val" || s === "valid" || s === "validation" || s === "eval" || s === "dev" || s === "test") return "val";
  return "other";
}

/** The latest input_stats event (or its aliases) of a split. */
export function latestInputStats(events: readonly { type: string; step: number | null; data: any }[], split: "train" | "val") {
  let ev = null;
  for (const e of events) if (TYPES.has(e.type) && statsSplit(e.data) === split) ev = e;
  return ev;
}

export function numberList(v: unknown): number[] | null {
  return numbers(v);
}

/** One logged statistic as a number: JSON has no NaN/Infinity, so the SDKs send them as strings (or null). */
function statValue(x: unknown): number {
  if (typeof x === "number") return x;
  if (x === "NaN" || x === null) return Number.NaN;
  if (x === "Infinity" || x === "+Infinity" || x === "inf") return Number.POSITIVE_INFINITY;
  if (x === "-Infinity" || x === "-inf") return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}

/**
 * A per-feature list of statistics, each value in its feature's place: a NaN or infinite entry stays a
 * (non-finite) number so that feature i of the mean, the std and the other split's lists still line up
 * (dropping it shifted every later feature by one, and 784 features read as 783).
 */
function numbers(v: unknown): number[] | null {
  if (typeof v === "number") return [v];
  if (typeof v === "string") return [statValue(v)];
  if (Array.isArray(v)) {
    const flat = (v as unknown[]).flat(3).map(statValue);
    return flat.some(Number.isFinite) ? flat : null;
  }
  return null;
}

/** How many features have a non-finite mean or std: NaN/Inf in the inputs themselves. */
export function nonFiniteFeatures(mean: readonly number[], std: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < mean.length; i++) if (!Number.isFinite(mean[i]) || !Number.isFinite(std[i])) n++;
  return n;
}

export const inputNotNormalized: Rule = {
  code: "input_not_normalized",
  evaluate(ctx) {
    const { t } = ctx;
    // the training data's statistics: validation statistics are train_val_mismatch's to compare
    const ev = latestInputStats(ctx.run.events, "train");
    if (!ev) return null;
    const mean = numbers(ev.data?.mean);
    const std = numbers(ev.data?.std);
    if (!mean || !std || mean.length !== std.length) return null;
    const maxStd = Math.max(...std.filter(Number.isFinite));
    // Constant features (std 0, e.g. always-black border pixels) carry no information: ignore them.
    const feats: { m: number; s: number }[] = [];
    for (let i = 0; i < mean.length; i++) {
      if (Number.isFinite(mean[i]) && Number.isFinite(std[i]) && std[i] > 1e-8 * maxStd) feats.push({ m: mean[i], s: std[i] });
    }
    if (feats.length === 0) return null;
    const nonFinite = nonFiniteFeatures(mean, std);
    const mAbs = median(feats.map((f) => Math.abs(f.m)));
    const sMed = median(feats.map((f) => f.s));
    const sMax = Math.max(...feats.map((f) => f.s));
    const reasons: string[] = [];
    if (mAbs > t.input_mean_max && mAbs > t.input_mean_std_ratio * sMed) {
      reasons.push(`features are not zero-centred (typical |mean| ${fmt(mAbs)} vs typical std ${fmt(sMed)})`);
    }
    if (sMed > t.input_std_max) reasons.push(`features have a large scale (typical std ${fmt(sMed)})`);
    if (sMed < t.input_std_min) reasons.push(`features have a tiny scale (typical std ${fmt(sMed)})`);
    if (feats.length >= 2 && sMax / sMed > t.input_scale_ratio_max) {
      reasons.push(`features are on very different scales (largest std ${fmt(sMax)} is ${fmt(sMax / sMed)}x the typical ${fmt(sMed)})`);
    }
    if (reasons.length === 0) return null;
    if (nonFinite > 0) {
      reasons.push(`${nonFinite} feature${nonFinite === 1 ? " has" : "s have"} a NaN or infinite mean or std: the inputs themselves hold NaN/Inf`);
    }
    return diagnosis(
      "input_not_normalized",
      "warning",
      ev.step ?? 0,
      "Inputs are not normalized",
      `The inputs as fed to the network are not normalized: ${reasons.join("; ")}. Un-centred, large or ` +
        `unevenly scaled inputs make the first layer's pre-activations large (saturating tanh/sigmoid ` +
        `units), make gradients for all weights of a unit share one sign (zig-zag updates), and let a few ` +
        `features dominate. Standardize each feature with the training set's mean and std ` +
        `(x - mean) / std (for images: per channel), and apply the same transform to validation and test data.`,
      {
        features: mean.length,
        constant_features: mean.length - feats.length - nonFinite,
        non_finite_features: nonFinite,
        median_abs_mean: round(mAbs),
        median_std: round(sMed),
        max_std: round(sMax),
        input_mean_max: t.input_mean_max,
        input_scale_ratio_max: t.input_scale_ratio_max,
      },
    );
  },
};
