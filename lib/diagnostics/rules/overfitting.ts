// overfitting: the train metric keeps improving while the validation metric has stopped
// improving (or got worse) for a while, and the train/val gap is large and not closing.

import { diagnosis, type Context, type Rule } from "../context";
import { accEvals, accStdErr, lossEvals } from "../evals";
import { fmt, lastN, median, round, upperBound, type EvalTable } from "../series";
import type { Diagnosis } from "../types";
import { chanceCeiling, classesOf } from "./no-learning";
import { isOverfitSanityRun } from "./overfit-sanity-failed";

const ADVICE =
  "Add regularization (weight decay / L2, dropout, data augmentation), get more training data, " +
  "or use a smaller model; keep the checkpoint with the best validation score (early stopping).";

/** The best validation point is old enough: patience in evaluations and in share of the run. */
function longAgo(ctx: Context, e: EvalTable, iBest: number): boolean {
  const m = e.steps.length;
  const span = e.steps[m - 1] - e.steps[0];
  return m - 1 - iBest >= ctx.t.overfit_patience_evals && span > 0 && (e.steps[m - 1] - e.steps[iBest]) / span >= ctx.t.overfit_patience_frac;
}

function byAccuracy(ctx: Context): Diagnosis | null {
  const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
  if (!va || !ta) return null;
  const e = accEvals(ctx)!;
  const m = e.steps.length;
  if (m < ctx.t.min_evals) return null;
  let iBest = 0;
  for (let i = 1; i < m; i++) if (e.val[i] > e.val[iBest]) iBest = i;
  if (!longAgo(ctx, e, iBest)) return null;
  const vNow = median(lastN(e.val, 3));
  const tNow = median(lastN(e.train, 3));
  const gap = tNow - vNow;
  const gapAtBest = e.train[iBest] - e.val[iBest];
  const trainImproving = tNow > e.train[iBest] + 0.005 || tNow >= 0.99;
  if (gap < ctx.t.overfit_gap_acc || gap < gapAtBest - 0.005 || !trainImproving) return null;
  // On a small set an accuracy is a coarse, noisy count (38 validation samples: steps of 0.026, a
  // standard error of ~0.066 at 0.8): a gap within overfit_gap_se standard errors of the difference
  // is what two sets of that size show by chance (3, since the test is repeated at every evaluation).
  const se = Math.hypot(accStdErr(ctx, "val_acc", vNow), accStdErr(ctx, "train_acc", tNow));
  if (gap <= ctx.t.overfit_gap_se * se) return null;
  // ... and above overfit_gap_acc by a standard error: a gap read as 0.103 +- 0.02 (500 validation
  // samples) is not shown to be past the line, and validation flat at its best while training creeps
  // up by as much as the sets' noise is no memorization yet
  if (gap - se < ctx.t.overfit_gap_acc) return null;
  return diagnosis(
    "overfitting",
    "warning",
    e.steps[iBest],
    "Overfitting: validation accuracy stalls while training accuracy climbs",
    `Validation accuracy peaked at ${fmt(e.val[iBest])} (step ${e.steps[iBest]}) and is now ${fmt(vNow)}, ` +
      `while training accuracy went on to ${fmt(tNow)}: a gap of ${fmt(gap * 100, 3)} points that is not ` +
      `closing. The model is memorizing the training set instead of learning what generalizes, so more ` +
      `training will not help the validation score. ${ADVICE}`,
    {
      train_key: ta.key,
      val_key: va.key,
      best_val_acc: round(e.val[iBest]),
      best_val_step: e.steps[iBest],
      val_acc: round(vNow),
      train_acc: round(tNow),
      gap: round(gap, 3),
      gap_at_best: round(gapAtBest, 3),
      gap_std_err: se > 0 ? round(se, 3) : null,
      overfit_gap_acc: ctx.t.overfit_gap_acc,
    },
  );
}

function byLoss(ctx: Context): Diagnosis | null {
  const { val_loss: vl, train_loss: tl } = ctx.keys.scalars;
  if (!vl || !tl) return null;
  const e = lossEvals(ctx)!;
  const m = e.steps.length;
  if (m < ctx.t.min_evals) return null;
  // The lowest level, read as the current one is (a median of 3 consecutive evaluations): the single
  // lowest of many evaluations of a small set is low by chance (wine, 45 samples: 0.0793 once among
  // 0.082-0.087), and "10% above it" would be that chance.
  const level = (i: number) => median(e.val.slice(Math.max(0, i - 1), Math.min(m, i + 2)));
  let iMin = 0;
  for (let i = 1; i < m; i++) if (level(i) < level(iMin)) iMin = i;
  const vMin = level(iMin);
  if (!(vMin > 0) || !longAgo(ctx, e, iMin)) return null;
  const vNow = median(lastN(e.val, 3));
  const tNow = median(lastN(e.train, 3));
  // risen for the last 3 evaluations, each of them (one spiky evaluation of a small set lifts a median
  // of 3: 0.083, 0.105, 0.093 on wine's 45 samples, back at 0.087 next)
  if (Math.min(...lastN(e.val, 3)) < vMin * (1 + ctx.t.overfit_val_loss_rise)) return null;
  if (!(tNow < e.train[iMin])) return null; // train loss still improving
  if (!(tNow >= 0) || vNow < ctx.t.overfit_loss_gap_ratio * tNow) return null;
  // Val loss creeping up while val accuracy still sets clear new highs, or while val accuracy is
  // about as good as train accuracy, is over-confidence rather than overfitting that matters.
  const ea = accEvals(ctx);
  if (ea && ea.steps.length >= 3) {
    const taNow = median(lastN(ea.train, 3));
    const vaNow = median(lastN(ea.val, 3));
    const accGap = taNow - vaNow;
    if (accGap < ctx.t.overfit_gap_acc / 2) return null;
    // ... or a gap the set sizes cannot tell from chance (as byAccuracy reads it)
    if (accGap <= ctx.t.overfit_gap_se * Math.hypot(accStdErr(ctx, "val_acc", vaNow), accStdErr(ctx, "train_acc", taNow))) return null;
    const n = ea.val.length;
    let iBest = 0;
    for (let i = 1; i < n; i++) if (ea.val[i] > ea.val[iBest]) iBest = i;
    const atMin = ea.val[Math.max(0, upperBound(ea.steps, e.steps[iMin]) - 1)];
    if (iBest >= n - 2 && ea.val[iBest] - atMin >= ctx.t.plateau_delta_acc) return null;
  } else if (ctx.keys.scalars.val_acc && !ctx.keys.scalars.train_acc) {
    // Only the validation accuracy logged (most console logs print no training accuracy): the gap
    // cannot exceed 1 - val accuracy. Where even that is small, as above, the rising validation loss is
    // over-confidence on a few examples (a wide MLP on breast cancer: val loss 0.12 -> 0.16 at val
    // accuracy 0.95, printed by a loop without its training accuracy).
    const va = ctx.keys.scalars.val_acc.s;
    const vaNow = median(lastN(va.values, 3).map((x) => x * ctx.accScale("val_acc")));
    const maxGap = 1 - vaNow;
    if (maxGap < ctx.t.overfit_gap_acc / 2 || maxGap <= ctx.t.overfit_gap_se * accStdErr(ctx, "val_acc", vaNow)) return null;
  }
  return diagnosis(
    "overfitting",
    "warning",
    e.steps[iMin],
    "Overfitting: validation loss rises while training loss keeps falling",
    `Validation loss bottomed out at ${fmt(vMin)} (step ${e.steps[iMin]}) and has risen to ${fmt(vNow)} ` +
      `(+${fmt(((vNow - vMin) / vMin) * 100, 2)}%), while training loss kept falling to ${fmt(tNow)}. ` +
      `The model is fitting noise in the training set, and each further step makes it generalize worse. ${ADVICE}`,
    {
      train_key: tl.key,
      val_key: vl.key,
      min_val_loss: round(vMin),
      min_val_step: e.steps[iMin],
      val_loss: round(vNow),
      train_loss: round(tNow),
      overfit_val_loss_rise: ctx.t.overfit_val_loss_rise,
    },
  );
}

/**
 * Validation accuracy never left chance (every evaluation at or under no_learning's chance ceiling):
 * nothing that generalizes was learned, so there is nothing to lose by memorizing; a widening gap is
 * memorized noise (no_learning's finding, or underfitting's for a linear model that no_learning leaves
 * alone: a linear classifier on raw signals, validation 0.21-0.25 for 4 classes while training crept to
 * 0.39).
 */
function valNeverLeftChance(ctx: Context): boolean {
  const cls = classesOf(ctx);
  const e = accEvals(ctx);
  if (!cls || !e || e.val.length < ctx.t.min_evals) return false;
  const ceiling = chanceCeiling(ctx, cls.C);
  return e.val.every((v) => v <= ceiling);
}

export const overfitting: Rule = {
  code: "overfitting",
  evaluate(ctx) {
    // Memorizing a tiny subset is the whole point of the overfit sanity check.
    if (isOverfitSanityRun(ctx.run.config)) return null;
    if (valNeverLeftChance(ctx)) return null;
    return byAccuracy(ctx) ?? byLoss(ctx);
  },
};
