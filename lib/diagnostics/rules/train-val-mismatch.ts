// train_val_mismatch: validation data processed differently from training data (another
// normalization, a missing transform, labels encoded differently). Unlike overfitting, which
// opens a gap gradually as the model memorizes, the mismatch is there from the first evaluation:
// the validation loss is orders of magnitude above what even an untrained model scores while the
// accuracies agree, or validation accuracy sits at chance while training accuracy is already high.

import { batchSizeOf, diagnosis, type Context, type Rule } from "../context";
import { accEvals, lossEvals } from "../evals";
import { fmt, lastN, median, round, type EvalTable } from "../series";
import type { Diagnosis } from "../types";
import { latestInputStats, numberList } from "./input-not-normalized";
import { declaredUnshuffled, unshuffledData } from "./unshuffled-data";
import { chanceCeiling, classesOf } from "./no-learning";

const ADVICE =
  "Run the validation data through exactly the same preprocessing as the training data: the same " +
  "normalization statistics (computed on the training set, with an epsilon that does not blow up " +
  "constant features), the same resizing / transforms, the same label encoding and dtype. Compare the " +
  "training and validation input statistics feature by feature in the Data section of the run page: " +
  "watch(model, optimizer) logs them for a training batch and for a validation batch evaluated after " +
  'model.eval(); without watch(), log_input_stats(x) and log_input_stats(x_val, split="val") send them.';

/** Whether `bad` holds at the first `first` evaluations, at the latest, and at >= `share` of them. */
function fromTheStart(e: EvalTable, bad: (i: number) => boolean, first: number, share: number): number | null {
  const m = e.steps.length;
  if (m < first + 1) return null;
  for (let i = 0; i < first; i++) if (!bad(i)) return null;
  if (!bad(m - 1)) return null;
  let count = 0;
  for (let i = 0; i < m; i++) if (bad(i)) count++;
  return count / m >= share ? count / m : null;
}

function byLoss(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const e = lossEvals(ctx);
  const lp = ctx.loss();
  if (!e || !lp || !(lp.initial > 0)) return null;
  const cls = classesOf(ctx);
  // what an untrained model scores: ln C for a classifier, the first training loss otherwise
  const ref = Math.max(lp.initial, cls ? Math.log(cls.C) : 0);
  const F = t.tv_loss_factor;
  const share = fromTheStart(e, (i) => e.val[i] >= F * ref && e.val[i] >= F * e.train[i], t.tv_first_evals, t.tv_share);
  if (share === null) return null;
  const a = accEvals(ctx);
  let gap: number | null = null;
  let valAtChance = false;
  if (a && a.steps.length > 0) {
    gap = median(lastN(a.train, 3)) - median(lastN(a.val, 3));
    // accuracies apart: overfitting's gap, unless validation sits at chance (its predictions are worth
    // nothing, as with inputs on another scale) while the loss is this far off from the start
    valAtChance = cls !== null && median(lastN(a.val, 3)) <= chanceCeiling(ctx, cls.C);
    if (!(Math.abs(gap) < t.tv_acc_gap) && !valAtChance) return null;
  }
  const vNow = median(lastN(e.val, 3));
  const tNow = median(lastN(e.train, 3));
  return diagnosis(
    "train_val_mismatch",
    "warning",
    e.steps[0],
    "Validation loss is orders of magnitude off: validation data look processed differently",
    `The validation loss was ${fmt(e.val[0])} at the first evaluation and is ${fmt(vNow)} now, more than ` +
      `${F}x what an untrained model scores (${fmt(ref)}) and ${F}x the training loss (${fmt(tNow)})` +
      (gap !== null
        ? valAtChance && !(Math.abs(gap) < t.tv_acc_gap)
          ? `, while validation accuracy sits at chance (${fmt(median(lastN(a!.val, 3)))}) however well training goes`
          : `, while training and validation accuracy agree (gap ${fmt(gap * 100, 2)} points)`
        : "") +
      `. Overfitting opens a gap gradually; a gap this large from the first evaluation means a few validation ` +
      `inputs get extreme values the model never saw in training (e.g. features divided by a near-zero ` +
      `std), so their predictions are confidently wrong by huge margins. ${ADVICE}`,
    {
      train_key: ctx.keys.scalars.train_loss!.key,
      val_key: ctx.keys.scalars.val_loss!.key,
      first_val_loss: round(e.val[0]),
      val_loss: round(vNow),
      train_loss: round(tNow),
      untrained_loss: round(ref),
      acc_gap: gap !== null ? round(gap, 3) : null,
      val_acc_at_chance: valAtChance,
      share_of_evals: round(share, 3),
      tv_loss_factor: F,
    },
  );
}

function byAccuracy(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const e = accEvals(ctx);
  const cls = classesOf(ctx);
  if (!e || !cls) return null;
  const chance = 1 / cls.C;
  const ceiling = chanceCeiling(ctx, cls.C);
  // "high": at least halfway from chance to perfect
  const high = chance + 0.5 * (1 - chance);
  const share = fromTheStart(e, (i) => e.val[i] <= ceiling && e.train[i] >= high, t.tv_first_evals, t.tv_share);
  if (share === null) return null;
  const tNow = median(lastN(e.train, 3));
  const vNow = median(lastN(e.val, 3));
  return diagnosis(
    "train_val_mismatch",
    "warning",
    e.steps[0],
    "Validation accuracy at chance while training accuracy is high from the start",
    `Training accuracy was ${fmt(e.train[0])} at the first evaluation (now ${fmt(tNow)}) but validation ` +
      `accuracy has stayed at chance level (${fmt(vNow)}; chance for ${cls.C} classes is ${fmt(chance)}) from ` +
      `the start. Memorizing the training set opens such a gap gradually; at the first evaluation it means ` +
      `the validation inputs or labels do not match the training ones. ${ADVICE}`,
    {
      train_key: ctx.keys.scalars.train_acc!.key,
      val_key: ctx.keys.scalars.val_acc!.key,
      first_train_acc: round(e.train[0]),
      first_val_acc: round(e.val[0]),
      train_acc: round(tNow),
      val_acc: round(vNow),
      chance_ceiling: round(ceiling),
      share_of_evals: round(share, 3),
    },
  );
}

/**
 * Without input statistics: validation behaves like another data set from the first evaluations on.
 * At >= tv_first_evals of the first 3 evaluations (before memorizing could open a gap), and at the
 * latest one, validation accuracy trails training by >= tv_early_acc_gap while the validation loss is
 * >= tv_early_loss_ratio x the training loss: the model is confidently wrong on validation inputs it
 * never saw the like of. Overfitting opens its gap gradually, and its validation loss stays near the
 * training loss while the accuracies first part (a model not yet confident is not far off in loss).
 */
function byEarlyGap(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const le = lossEvals(ctx);
  const ae = accEvals(ctx);
  if (!le || !ae || le.steps.length < 4) return null;
  const accGap = new Map<number, number>();
  for (let i = 0; i < ae.steps.length; i++) accGap.set(ae.steps[i], ae.train[i] - ae.val[i]);
  const gapAt = (i: number) => accGap.get(le.steps[i]) ?? NaN;
  const ratioAt = (i: number) => (le.train[i] > 0 ? le.val[i] / le.train[i] : NaN);
  const bad = (i: number) => gapAt(i) >= t.tv_early_acc_gap && ratioAt(i) >= t.tv_early_loss_ratio;
  const m = le.steps.length;
  let early = 0;
  for (let i = 0; i < 3; i++) if (bad(i)) early++;
  if (early < t.tv_first_evals || !bad(m - 1)) return null;
  let count = 0;
  for (let i = 0; i < m; i++) if (bad(i)) count++;
  if (count / m < t.tv_share) return null;
  const first = [0, 1, 2].find(bad)!;
  return diagnosis(
    "train_val_mismatch",
    "warning",
    le.steps[first],
    "Validation behaves like another data set from the first evaluations on",
    `Already at evaluation ${first + 1} validation accuracy trailed training by ${fmt(gapAt(first) * 100, 2)} points ` +
      `with a validation loss ${fmt(ratioAt(first))}x the training loss, and it still does at the latest ` +
      `(${fmt(gapAt(m - 1) * 100, 2)} points, ${fmt(ratioAt(m - 1))}x; ${count} of ${m} evaluations). Memorizing the ` +
      `training set opens such a gap gradually, with the validation loss near the training loss at first; a model ` +
      `confidently wrong on validation inputs from the start sees them on another scale or in another form than ` +
      `its training inputs. ${ADVICE}`,
    {
      train_key: ctx.keys.scalars.train_loss!.key,
      val_key: ctx.keys.scalars.val_loss!.key,
      first_acc_gap: round(gapAt(first), 3),
      first_loss_ratio: round(ratioAt(first), 3),
      acc_gap: round(gapAt(m - 1), 3),
      loss_ratio: round(ratioAt(m - 1), 3),
      share_of_evals: round(count / m, 3),
      tv_early_acc_gap: t.tv_early_acc_gap,
      tv_early_loss_ratio: t.tv_early_loss_ratio,
    },
  );
}

/** Whether input statistics describe one minibatch: sent by watch(), or over at most a batch of rows. */
function oneBatch(data: any, config: Record<string, any>): boolean {
  if (data?.source === "watch") return true;
  const batch = batchSizeOf(config);
  return typeof data?.n === "number" && batch !== null && data.n <= batch;
}

/**
 * From the inputs themselves: the latest input_stats of the training data and of the validation data
 * (`split: "val"`), feature by feature. A feature is off by the largest of its std ratio (either way)
 * and its mean shift in training stds. Each side's std of a feature is taken as at least that side's
 * typical feature std (the median): watch() sends the statistics of one batch of each, and in a batch of
 * 8..64 examples a rarely non-zero pixel is often constant (std 0, or tiny), which says nothing about its
 * scale — measured against it, the next batch's ordinary value of that pixel read as 100-1000x off on
 * every healthy digits run. A feature blown up by a near-zero std (1e6x) or a whole input on another
 * scale (every feature 5x or more either way) still stands out against the typical scale.
 */
function byInputs(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const tr = latestInputStats(ctx.run.events, "train");
  const va = latestInputStats(ctx.run.events, "val");
  if (!tr || !va) return null;
  const [tm, ts, vm, vs] = [numberList(tr.data?.mean), numberList(tr.data?.std), numberList(va.data?.mean), numberList(va.data?.std)];
  if (!tm || !ts || !vm || !vs || tm.length !== ts.length || vm.length !== vs.length || tm.length !== vm.length) return null;
  if (typeof va.data?.n === "number" && va.data.n < 2) return null;
  // Training statistics of one batch (watch() sends a batch) stand for the training set only when batches
  // are random draws of it. With the order fixed (shuffle off, or a run whose loss cycles with the epoch)
  // a batch is a slice of a sorted set: rows sorted by target give inputs from one end of their range
  // (an s-curve regression's first batch: feature 0 at mean 1.4, std 0.15, against the set's 0.0 and 1.0)
  // and the difference is the order's, which unshuffled_data names, not a second pipeline's.
  if (oneBatch(tr.data, ctx.run.config ?? {}) && (declaredUnshuffled(ctx.run.config ?? {}) || unshuffledData.evaluate(ctx) !== null)) return null;
  const finiteStds = ts.filter((x) => Number.isFinite(x) && x > 0);
  if (finiteStds.length === 0) return null;
  const floor = median(finiteStds);
  const valStds = vs.filter((x) => Number.isFinite(x) && x > 0);
  const valFloor = valStds.length > 0 ? median(valStds) : floor;
  let worst = { i: -1, off: 0 };
  let off5 = 0;
  let compared = 0;
  // a feature finite on one side and NaN/Inf on the other: one pipeline puts NaN/Inf into the inputs
  const nanSide: number[] = [];
  for (let i = 0; i < tm.length; i++) {
    const trFinite = Number.isFinite(tm[i]) && Number.isFinite(ts[i]);
    const vaFinite = Number.isFinite(vm[i]) && Number.isFinite(vs[i]);
    if (trFinite !== vaFinite) nanSide.push(i);
    if (!trFinite || !vaFinite) continue;
    compared++;
    const sRef = Math.max(ts[i], floor);
    const shift = Math.abs(vm[i] - tm[i]) / sRef;
    const ratio = Math.max(vs[i], valFloor) / sRef;
    const off = Math.max(shift, ratio, 1 / ratio);
    if (off >= t.tv_input_factor) off5++;
    if (off > worst.off) worst = { i, off };
  }
  if (compared === 0) return null;
  const share = off5 / compared;
  const scaleOff = worst.i >= 0 && (worst.off >= t.tv_input_extreme || share >= t.tv_input_share);
  if (!scaleOff && nanSide.length === 0) return null;
  const nanText = nanFeatureText(nanSide, tm, ts);
  if (!scaleOff) {
    const j = nanSide[0];
    return diagnosis(
      "train_val_mismatch",
      "warning",
      va.step ?? 0,
      "Validation and training inputs differ: NaN/Inf in one of them",
      `The input statistics logged for the validation data and the training data disagree: ${nanText} The ` +
        `inputs of one split hold NaN or infinite values the other's do not, so the two went through different ` +
        `preprocessing (a division by a zero std, a log of 0, a missing value not filled). ${ADVICE}`,
      {
        features: tm.length,
        features_nan_one_side: nanSide.length,
        first_nan_feature: j,
        train_mean: Number.isFinite(tm[j]) ? round(tm[j]) : String(tm[j]),
        val_mean: Number.isFinite(vm[j]) ? round(vm[j]) : String(vm[j]),
        features_off: off5,
        compared,
      },
    );
  }
  const i = worst.i;
  return diagnosis(
    "train_val_mismatch",
    "warning",
    va.step ?? 0,
    "Validation inputs are on another scale than training inputs",
    `The input statistics logged for the validation data differ from the training data's: ${off5} of ${compared} ` +
      `features are off by ${t.tv_input_factor}x or more (scale ratio, or mean shift in training stds), the worst ` +
      `(feature ${i}) by ${fmt(worst.off)}x: training mean ${fmt(tm[i])}, std ${fmt(ts[i])}; validation mean ` +
      `${fmt(vm[i])}, std ${fmt(vs[i])}. The model learned on one scale and is evaluated on another, so its ` +
      `validation numbers say little about it.${nanSide.length > 0 ? ` Besides: ${nanText}` : ""} ${ADVICE}`,
    {
      features: tm.length,
      features_nan_one_side: nanSide.length,
      features_off: off5,
      share_off: round(share, 3),
      worst_feature: i,
      worst_off: round(worst.off, 3),
      train_mean: round(tm[i]),
      train_std: round(ts[i]),
      val_mean: round(vm[i]),
      val_std: round(vs[i]),
      tv_input_factor: t.tv_input_factor,
      tv_input_extreme: t.tv_input_extreme,
      tv_input_share: t.tv_input_share,
    },
  );
}

/** Which features are NaN/Inf on one side only, in words (the first few by index). */
function nanFeatureText(idx: readonly number[], tm: readonly number[], ts: readonly number[]): string {
  if (idx.length === 0) return "";
  const side = (i: number) => (Number.isFinite(tm[i]) && Number.isFinite(ts[i]) ? "validation" : "training");
  const shown = idx.slice(0, 3).map((i) => `feature ${i} (NaN/Inf in the ${side(i)} inputs)`);
  const more = idx.length > 3 ? ` and ${idx.length - 3} more` : "";
  return `${idx.length} feature${idx.length === 1 ? " is" : "s are"} finite in one split and NaN/Inf in the other: ${shown.join(", ")}${more}.`;
}

export const trainValMismatch: Rule = {
  code: "train_val_mismatch",
  evaluate(ctx) {
    return byLoss(ctx) ?? byAccuracy(ctx) ?? byInputs(ctx) ?? byEarlyGap(ctx);
  },
};
