// Train/val metric pairs at each evaluation point, shared (and computed once) by the rules that
// compare training with validation.

import { findNumber, type Context } from "./context";
import { alignEvals, finitePairs, finiteSample, type EvalTable } from "./series";

/** Accuracy (0..1) at each val-accuracy evaluation, or null without both series. */
export function accEvals(ctx: Context): EvalTable | null {
  return ctx.memo("accEvals", () => {
    const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
    if (!va || !ta) return null;
    return finitePairs(alignEvals(va.s, ta.s, ctx.accScale("val_acc"), ctx.accScale("train_acc")));
  });
}

/** Loss at each val-loss evaluation, or null without both series. */
export function lossEvals(ctx: Context): EvalTable | null {
  return ctx.memo("lossEvals", () => {
    const { val_loss: vl, train_loss: tl } = ctx.keys.scalars;
    if (!vl || !tl) return null;
    return finitePairs(alignEvals(vl.s, tl.s));
  });
}

const SIZE_NAMES = {
  val_acc: ["val_size", "n_val", "num_val", "val_samples", "valid_size", "validation_size", "n_valid", "num_val_samples", "eval_size"],
  train_acc: ["train_size", "n_train", "num_train", "train_samples", "num_train_samples"],
} as const;

/** Largest set size read from an accuracy's granularity: beyond it a set's sampling error is below what the rules compare. */
const GRANULARITY_MAX = 200;

/**
 * How many samples an accuracy is measured on: the config's set size (val_size, train_size, ...: a
 * whole number >= 2), or the accuracy's granularity when every logged value is a multiple of 1/N for
 * one N <= 200 (38 validation samples: 0.7105, 0.7368, 0.7895, ... = 27/38, 28/38, 30/38; at least 3
 * distinct values strictly between 0 and 1, each within 5e-5 of k/N as rounded logs allow), or null.
 */
export function accSampleSize(ctx: Context, role: "train_acc" | "val_acc"): number | null {
  return ctx.memo(`accSampleSize:${role}`, () => {
    const fromConfig = findNumber(ctx.run.config ?? {}, [...SIZE_NAMES[role]]);
    if (fromConfig !== null && Number.isInteger(fromConfig) && fromConfig >= 2) return fromConfig;
    const named = ctx.keys.scalars[role];
    if (!named) return null;
    const scale = ctx.accScale(role);
    const distinct = [...new Set(finiteSample(named.s.values, 0, named.s.values.length, 256).map((v) => v * scale))].filter((v) => v > 0 && v < 1);
    if (distinct.length < 3) return null;
    for (let n = 2; n <= GRANULARITY_MAX; n++) {
      const tol = 5e-5 * n + 1e-9;
      if (distinct.every((v) => Math.abs(v * n - Math.round(v * n)) <= tol)) return n;
    }
    return null;
  });
}

/** Standard error of an accuracy p measured on the role's samples (binomial), or 0 when the size is unknown. */
export function accStdErr(ctx: Context, role: "train_acc" | "val_acc", p: number): number {
  const n = accSampleSize(ctx, role);
  return n !== null && p > 0 && p < 1 ? Math.sqrt((p * (1 - p)) / n) : 0;
}
