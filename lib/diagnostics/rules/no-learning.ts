// no_learning: nothing is being learned although the updates are healthy. The loss stays near
// ln C (what uniform guessing over C classes costs) and the accuracy near chance for most of the
// run while the weights do move: the data carry no usable signal for the targets (labels shuffled
// apart from their inputs, constant or zeroed inputs, wrong target column). A learning rate that
// is too small or collapsed also leaves a run at chance; that is lr_too_low's business, and a
// net whose gradients vanish or whose units are dead has its own codes (they suppress this one).

import { diagnosis, linearModel, type Context, type Rule } from "../context";
import { accStdErr } from "../evals";
import { layerRecent } from "../layers";
import { finiteSample, fmt, median, recentRange, round, smoothed } from "../series";
import { lrCollapse, lrTooLow } from "./lr-too-low";

/** Loss points per accuracy point at or below which the loss is read as logged once per evaluation. */
const PER_EVAL_FACTOR = 2;

/** Whether the training loss is logged no more often than the accuracy (once an evaluation). */
export function perEvalLoss(ctx: Context): boolean {
  const lp = ctx.loss();
  const acc = ctx.keys.scalars.val_acc ?? ctx.keys.scalars.train_acc;
  return !!lp && !!acc && lp.n <= PER_EVAL_FACTOR * acc.s.values.length;
}

/** The number of classes: from the config, or inferred from a first loss of ~ln C (a loss logged more
 * often than the accuracy: per step or every few steps, whose first point the untrained model scored). */
export function classesOf(ctx: Context): { C: number; inferred: boolean } | null {
  if (ctx.numClasses !== null) return { C: ctx.numClasses, inferred: false };
  // only classification logs an accuracy; an untrained classifier's loss is ~ln C
  const lp = ctx.loss();
  const acc = ctx.keys.scalars.val_acc ?? ctx.keys.scalars.train_acc;
  if (!lp || !acc || !(lp.initial > 0)) return null;
  // A loss logged no more often than the accuracy (once an epoch, Keras-style) starts with the mean
  // over the first epoch, when the model has learned already: its exp() undercounts the classes (digits
  // after one epoch: 1.2, "3 classes"), and a chance level for 3 classes reads a learning net as stuck.
  if (perEvalLoss(ctx)) return null;
  const C = Math.round(Math.exp(lp.initial));
  return C >= 2 && C <= 100_000 ? { C, inferred: true } : null;
}

/** Highest accuracy that still reads as chance level for C classes. */
export function chanceCeiling(ctx: Context, C: number): number {
  const { t } = ctx;
  return Math.min(1 / C + 0.1, Math.max(t.no_learning_acc_rel / C, 1 / C + t.no_learning_acc_abs));
}

/**
 * Two classes, accuracy pinned at a level `a` above chance that a constant answer scores when a share
 * `a` of the examples is in one class: >= no_learning_share of the evaluations within
 * max(majority_tol_frac (1 - a), 0.02) of it, none above, `a` at most no_learning_prior_max (above,
 * majority_class's business). h: the entropy of such a prior, the loss of that constant answer.
 */
function priorLevel(ctx: Context, accs: number[], a: number): { ceiling: number; tol: number; h: number } | null {
  const { t } = ctx;
  if (!(a > 0.5 && a <= t.no_learning_prior_max)) return null;
  const tol = Math.max(t.majority_tol_frac * (1 - a), 0.02);
  const pinned = accs.filter((x) => Math.abs(x - a) <= tol).length / accs.length;
  if (pinned < t.no_learning_share || accs.some((x) => x > a + tol)) return null;
  return { ceiling: a + tol, tol, h: -a * Math.log(a) - (1 - a) * Math.log(1 - a) };
}

/**
 * Whether the validation loss fell at each of its latest no_learning_val_falls evaluations and ended
 * more than no_learning_val_margin below `base` (what a model without information about its inputs
 * scores on held-out data).
 */
export function valLossLearning(ctx: Context, base: number): boolean {
  const { t } = ctx;
  const vl = ctx.keys.scalars.val_loss?.s;
  if (!vl) return false;
  const xs = finiteSample(vl.values, 0, vl.values.length);
  const k = t.no_learning_val_falls;
  if (xs.length < k + 1) return false;
  const tail = xs.slice(-(k + 1));
  return tail.every((x, i) => i === 0 || x < tail[i - 1]) && tail[k] < (1 - t.no_learning_val_margin) * base;
}

export const noLearning: Rule = {
  code: "no_learning",
  evaluate(ctx) {
    const { t } = ctx;
    const cls = classesOf(ctx);
    if (!cls) return null;
    // a model the config names linear has no capacity to learn non-linear classes: underfitting's case
    if (linearModel(ctx)) return null;
    const { C } = cls;
    const lnC = Math.log(C);

    // accuracy: validation when logged (shuffled labels can still be memorized), else training
    const accNamed = ctx.keys.scalars.val_acc ?? ctx.keys.scalars.train_acc;
    if (!accNamed || accNamed.s.values.length < t.min_evals) return null;
    const scale = ctx.accScale(accNamed === ctx.keys.scalars.val_acc ? "val_acc" : "train_acc");
    const accs = finiteSample(accNamed.s.values, 0, accNamed.s.values.length).map((x) => x * scale);
    if (accs.length < t.min_evals) return null;
    const accNow = median(accs.slice(-3));
    // Chance for balanced classes is 1/C. With imbalanced classes a net that learns nothing from its
    // inputs still learns the prior: accuracy pinned at the majority share p, loss at the prior's
    // entropy h(p). Two classes only: with more, the loss of a model that learned something at that
    // accuracy overlaps the prior's (blobs at 0.82: 0.45 against h(0.82) = 0.47).
    const prior = accNow > chanceCeiling(ctx, C) && C === 2 ? priorLevel(ctx, accs, accNow) : null;
    const ceiling = prior ? prior.ceiling : chanceCeiling(ctx, C);
    const atChance = accs.filter((a) => a <= ceiling).length / accs.length;
    if (atChance < t.no_learning_share || !(accNow <= ceiling)) return null;
    // still at chance level but rising steadily (a hard task, a slow start) is learning: the last
    // third of the evaluations must not be above the first by half the chance band or more
    // (and by more than the accuracies' sampling error, where the set size is known: two medians of k
    // evaluations differ by ~1.25 s.e. sqrt(2 / k) by chance; overfit_gap_se of those, since this is
    // tested at every evaluation: digits with labels permuted, 450 validation samples, 0.091 -> 0.122)
    const third = Math.max(1, Math.floor(accs.length / 3));
    const rise = median(accs.slice(-third)) - median(accs.slice(0, third));
    const riseSe = 1.25 * accStdErr(ctx, accNamed === ctx.keys.scalars.val_acc ? "val_acc" : "train_acc", accNow) * Math.sqrt(2 / third);
    if (!prior && rise >= Math.max(0.5 * (ceiling - 1 / C), t.overfit_gap_se * riseSe)) return null;

    // loss of the same split as the accuracy (a net memorizing shuffled labels drives its training
    // loss down while validation stays at chance), else the other one
    const isVal = accNamed === ctx.keys.scalars.val_acc;
    const lossNamed = (isVal ? ctx.keys.scalars.val_loss : ctx.keys.scalars.train_loss) ?? ctx.keys.scalars.train_loss ?? ctx.keys.scalars.val_loss;
    if (!lossNamed || lossNamed.s.values.length < Math.min(t.min_points, t.min_evals)) return null;
    const curve = smoothed(lossNamed.s, 0, lossNamed.s.values.length, lossNamed.s.values.length >= 8 * t.min_points ? 8 : 1);
    const lossFloor = prior ? t.no_learning_prior_loss_frac * prior.h : t.no_learning_loss_frac * lnC;
    const nearLnC = curve.filter((p) => p.value >= lossFloor).length / curve.length;
    const n = lossNamed.s.values.length;
    const lossNow = median(finiteSample(lossNamed.s.values, recentRange(n, t.recent_frac, 3).from, n));
    if (nearLnC < t.no_learning_share || !(lossNow >= lossFloor)) return null;
    // above the prior's entropy by far is not "learned nothing" but a loss held up by something else
    // (a squashed output's floor, a blow-up)
    if (prior && !(lossNow <= t.no_learning_prior_loss_max * prior.h)) return null;
    // A validation loss (one number over a whole held-out set: smooth where a minibatch loss is not)
    // that fell at each of its latest evaluations to below what a model knowing nothing of its inputs
    // scores there (ln C, or the prior's entropy) by more than a skewed class prior explains (2%: a
    // GRU on token labels that carry nothing slides 1.389 -> 1.371 against ln 4 = 1.386 learning the
    // frequencies) has learned something that carries over, however little accuracy it shows yet: a
    // weak model creeping off chance (a depthwise CNN too small for its digits; 4 RBF centres on a 4x4
    // checkerboard: 0.692, 0.685, 0.678, 0.670, 0.664 at accuracy 0.50-0.55). Labels that carry no
    // signal cannot take a held-out loss there, let alone steadily; memorizing them raises it.
    if (valLossLearning(ctx, prior ? prior.h : lnC)) return null;

    // the updates are healthy: not a learning rate that is too small or collapsed ...
    if (lrCollapse(ctx) || lrTooLow.evaluate(ctx)) return null;
    const lr = ctx.keys.scalars.lr?.s;
    const lrNow = lr ? median(finiteSample(lr.values, recentRange(lr.values.length, t.recent_frac, 3).from, lr.values.length)) : null;
    if (lrNow !== null && !(lrNow > 0)) return null;
    // ... and, where update ratios are logged, weights that really move
    // (layers whose ratio is exactly 0 do not move at all: symmetric_init's / dead_relu's business)
    const urAll = layerRecent(ctx, "update_ratio", t.min_points);
    const ur = urAll.filter((x) => x.recent > t.zero_grad_eps);
    if (urAll.length > 0 && ur.length === 0) return null;
    const urMed = ur.length > 0 ? median(ur.map((x) => x.recent)) : null;
    if (urMed !== null && !(urMed >= t.update_ratio_low_loose)) return null;

    const accRole = accNamed === ctx.keys.scalars.val_acc ? "validation" : "training";
    return diagnosis(
      "no_learning",
      "warning",
      accNamed.s.steps[0],
      prior ? "Nothing is being learned beyond the class frequencies" : "Nothing is being learned: loss at ln C and accuracy at chance",
      (prior
        ? `For most of the run ${accRole} accuracy has stayed pinned at ${fmt(accNow)} (${fmt(atChance * 100, 2)}% of the ` +
          `evaluations within ${fmt(prior.tol)} of it, never above ${fmt(ceiling)}), what always answering the most frequent ` +
          `class scores if ${fmt(accNow * 100, 2)}% of the examples are in it, and the loss "${lossNamed.key}" at the entropy ` +
          `of such class frequencies (${fmt(lossNow)}; a constant answer that knows them scores ${fmt(prior.h)}), although ` +
          `the weights are being updated`
        : `For most of the run the loss "${lossNamed.key}" has stayed at or above ~${fmt(lnC)} = ln ${C} (now ${fmt(lossNow)}), ` +
          `the cost of guessing uniformly among ${C} classes${cls.inferred ? " (C inferred from the first loss)" : ""}, ` +
          `and ${accRole} accuracy near chance (${fmt(accNow)}; chance is ${fmt(1 / C)}, ${fmt(atChance * 100, 2)}% of ` +
          `the evaluations at or below ${fmt(ceiling)}), although the weights are being updated`) +
        (urMed !== null ? ` at a healthy rate (update/weight ratio ${fmt(urMed)})` : "") +
        `. When healthy steps learn nothing that carries over, the inputs hold no information about the targets ` +
        `(a training accuracy that still rises is the net memorizing noise): labels ` +
        `shuffled separately from their inputs, inputs that are constant or zeroed (a bad transform or ` +
        `normalization), or the wrong column / encoding used as the target. Check a few input/label pairs ` +
        `by eye, call log_input_stats(x) on a batch, and try to overfit a handful of examples: a correct ` +
        `pipeline reaches ~100% on them within a few hundred steps.`,
      {
        loss_key: lossNamed.key,
        acc_key: accNamed.key,
        recent_loss: round(lossNow),
        ln_num_classes: round(lnC),
        num_classes: C,
        num_classes_inferred: cls.inferred,
        recent_acc: round(accNow),
        chance_acc: round(1 / C),
        chance_ceiling: round(ceiling),
        share_evals_at_chance: round(atChance, 3),
        share_loss_near_lnc: round(nearLnC, 3),
        acc_rise: round(rise, 3),
        prior_entropy: prior ? round(prior.h) : null,
        median_update_ratio: urMed !== null ? round(urMed, 3) : null,
        lr: lrNow !== null ? round(lrNow, 3) : null,
      },
    );
  },
};
