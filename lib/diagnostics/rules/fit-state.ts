// How far the run is from what it can reach, read from the run itself: rules whose finding only
// matters while the model falls short (dead units wasting capacity, a loss that stopped improving)
// ask this before they speak. Not a rule.

import type { Context } from "../context";
import { finiteSample, median } from "../series";
import { chanceCeiling, classesOf } from "./no-learning";

export interface FitState {
  /** "fits": the model fits its training data (train error <= fit_err_frac of an untrained model's, or
   * the loss <= fit_loss_frac of its start); "chance": it learned nothing (accuracy at chance, or a
   * classifier's loss still near ln C); "learning": in between, the loss still falling fast (too early to
   * say); "short": in between and no longer falling fast; "unknown": nothing to judge from */
  state: "fits" | "chance" | "learning" | "short" | "unknown";
  /** what the verdict was read from, for evidence */
  reading: string;
  /** how far from fitting: the train error as a share of an untrained model's (1 - 1/C), or without
   * accuracy the recent loss as a share of its start; null when unknown */
  shortfall: number | null;
  /** what `shortfall` measures */
  from: "accuracy" | "loss" | null;
}

function recentAcc(ctx: Context, role: "train_acc" | "val_acc"): number | null {
  const named = ctx.keys.scalars[role];
  if (!named || named.s.values.length < ctx.t.min_evals) return null;
  const n = named.s.values.length;
  const v = median(finiteSample(named.s.values, Math.max(0, n - 3), n)) * ctx.accScale(role);
  return Number.isFinite(v) ? v : null;
}

export function fitState(ctx: Context): FitState {
  return ctx.memo("fitState", () => computeFitState(ctx));
}

function computeFitState(ctx: Context): FitState {
  const { t } = ctx;
  const cls = classesOf(ctx);
  const train = recentAcc(ctx, "train_acc");
  const val = recentAcc(ctx, "val_acc");
  if (cls && (train !== null || val !== null)) {
    const { C } = cls;
    const chanceErr = 1 - 1 / C;
    // validation first for "chance": a net can memorize shuffled labels, never generalize them
    const judged = val ?? train!;
    const fit = train ?? val!;
    const shortfall = (1 - fit) / chanceErr;
    if (judged <= chanceCeiling(ctx, C))
      return { state: "chance", reading: `accuracy ${judged.toFixed(3)} at chance (1/${C})`, shortfall, from: "accuracy" };
    const reading = `${train !== null ? "train" : "val"} accuracy ${fit.toFixed(3)}`;
    return { state: shortfall <= t.fit_err_frac ? "fits" : "short", reading, shortfall, from: "accuracy" };
  }
  const lp = ctx.loss();
  if (!lp || lp.n < t.min_points || !(lp.initial > 0) || !Number.isFinite(lp.recent))
    return { state: "unknown", reading: "", shortfall: null, from: null };
  const shortfall = lp.recent / lp.initial;
  if (lp.recent <= t.fit_loss_frac * lp.initial)
    return { state: "fits", reading: `loss ${lp.recent.toPrecision(3)} from ${lp.initial.toPrecision(3)}`, shortfall, from: "loss" };
  if (cls && lp.recent >= t.no_learning_loss_frac * Math.log(cls.C))
    return { state: "chance", reading: `loss ${lp.recent.toPrecision(3)} near ln ${cls.C}`, shortfall, from: "loss" };
  // still falling fast: the last recent window's level >= fit_progress_rel below the window before it
  const s = ctx.keys.scalars.train_loss!.s;
  const len = lp.recentPoints;
  const before = median(finiteSample(s.values, Math.max(0, lp.recentFromIdx - len), lp.recentFromIdx));
  const reading = `loss ${lp.recent.toPrecision(3)} from ${lp.initial.toPrecision(3)}`;
  // (fewer points before the recent window than in it: too early to say it stopped)
  if (lp.recentFromIdx < len || lp.recent < (1 - t.fit_progress_rel) * before) return { state: "learning", reading, shortfall, from: "loss" };
  return { state: "short", reading, shortfall, from: "loss" };
}
