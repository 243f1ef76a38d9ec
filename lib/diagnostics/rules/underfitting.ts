// underfitting: train and validation have both stopped improving, track each other closely, and
// sit at a poor level — after the model demonstrably learned something (otherwise the problem is
// the learning rate or a bug, not capacity).

import { diagnosis, type Context, type Rule } from "../context";
import { accEvals, lossEvals } from "../evals";
import { fmt, lastN, median, round, type EvalTable } from "../series";
import type { Diagnosis } from "../types";

const ADVICE =
  "Give the model more capacity (wider / deeper layers), train longer or with a better learning-rate " +
  "schedule, and reduce regularization (weight decay, dropout) if you use a lot of it.";

/** Split into [before, plateau window]; the window is the last third of the evals (>= 4). */
function split(e: EvalTable, minEvals: number): number | null {
  const m = e.steps.length;
  const k = Math.max(4, Math.ceil(m / 3));
  if (m < Math.max(minEvals, k + 2)) return null;
  return m - k;
}

function byAccuracy(ctx: Context): Diagnosis | null {
  const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
  if (!va || !ta) return null;
  const { t } = ctx;
  const e = accEvals(ctx)!;
  const w = split(e, t.min_evals);
  if (w === null) return null;
  const maxOf = (xs: number[]) => Math.max(...xs);
  const tBest = maxOf(e.train);
  const trainGain = maxOf(e.train.slice(w)) - maxOf(e.train.slice(0, w));
  const valGain = maxOf(e.val.slice(w)) - maxOf(e.val.slice(0, w));
  // Plateau: no new high worth mentioning in the last third of the evaluations (a slow creep of
  // a few percent of what was gained so far still counts as stuck).
  const learned = tBest - e.train[0];
  if (learned < t.learned_delta_acc) return null;
  const stuck = Math.max(t.plateau_delta_acc, t.underfit_slow_frac * learned);
  if (trainGain >= stuck || valGain >= stuck) return null;
  const tNow = median(lastN(e.train, 3));
  const vNow = median(lastN(e.val, 3));
  if (tNow >= t.underfit_acc_max || Math.abs(tNow - vNow) >= t.underfit_gap_acc) return null;
  const start = e.train.findIndex((x) => x >= tBest - t.plateau_delta_acc);
  return diagnosis(
    "underfitting",
    "warning",
    e.steps[start],
    "Underfitting: training and validation accuracy plateau together at a low level",
    `Training accuracy has been stuck around ${fmt(tNow)} since step ${e.steps[start]} and validation ` +
      `accuracy (${fmt(vNow)}) tracks it closely, with no gap. When the model cannot even fit the training ` +
      `set well, more epochs or more regularization will not help: it lacks capacity (or is ` +
      `over-regularized). ${ADVICE}`,
    {
      train_key: ta.key,
      val_key: va.key,
      train_acc: round(tNow),
      val_acc: round(vNow),
      gap: round(tNow - vNow, 3),
      plateau_since_step: e.steps[start],
      underfit_acc_max: t.underfit_acc_max,
      underfit_gap_acc: t.underfit_gap_acc,
    },
  );
}

function byLoss(ctx: Context): Diagnosis | null {
  // Whether a loss value is "poor" is only knowable for classification, via ln C.
  const { val_loss: vl, train_loss: tl, train_acc, val_acc } = ctx.keys.scalars;
  const lp = ctx.loss();
  if (!vl || !tl || !lp || ctx.numClasses === null || train_acc || val_acc) return null;
  const { t } = ctx;
  const e = lossEvals(ctx)!;
  const w = split(e, t.min_evals);
  if (w === null) return null;
  const minOf = (xs: number[]) => Math.min(...xs);
  const gain = (xs: number[]) => {
    const before = minOf(xs.slice(0, w));
    return (before - minOf(xs.slice(w))) / Math.abs(before);
  };
  if (gain(e.train) >= t.plateau_rel || gain(e.val) >= t.plateau_rel) return null;
  const tNow = median(lastN(e.train, 3));
  const vNow = median(lastN(e.val, 3));
  if (!(lp.initial > 0) || tNow > t.learned_loss_frac * lp.initial) return null;
  const lnC = Math.log(ctx.numClasses);
  if (tNow < t.underfit_loss_frac_lnc * lnC || !(tNow > 0)) return null;
  if (Math.abs(vNow - tNow) / tNow >= t.underfit_loss_gap_rel) return null;
  const tBest = minOf(e.train);
  const start = e.train.findIndex((x) => x <= tBest * (1 + t.plateau_rel));
  return diagnosis(
    "underfitting",
    "warning",
    e.steps[start],
    "Underfitting: training and validation loss plateau together at a high level",
    `Training loss has been stuck around ${fmt(tNow)} since step ${e.steps[start]} (chance level for ` +
      `${ctx.numClasses} classes is ${fmt(lnC)}) and validation loss (${fmt(vNow)}) tracks it closely. The ` +
      `model cannot fit even the training data well: it lacks capacity or is over-regularized. ${ADVICE}`,
    {
      train_key: tl.key,
      val_key: vl.key,
      train_loss: round(tNow),
      val_loss: round(vNow),
      ln_num_classes: round(lnC),
      plateau_since_step: e.steps[start],
    },
  );
}

export const underfitting: Rule = {
  code: "underfitting",
  evaluate(ctx) {
    return byAccuracy(ctx) ?? byLoss(ctx);
  },
};
