// underfitting: train and validation have both stopped improving, track each other closely, and
// sit at a poor level — after the model demonstrably learned something (otherwise the problem is
// the learning rate or a bug, not capacity).

import { batchSizeOf, diagnosis, findNumber, linearModel, type Context, type Rule } from "../context";
import { accEvals, accStdErr, lossEvals } from "../evals";
import { finiteSample, fmt, lastN, lowerBound, median, round, type EvalTable } from "../series";
import type { Diagnosis } from "../types";
import { lossStillFalling } from "./dead-relu";
import { chanceCeiling, classesOf } from "./no-learning";
import { lossPenaltyOf, weightDecayOf } from "./over-regularization";
import { stepsPerEpoch } from "./unshuffled-data";

const ADVICE =
  "Give the model more capacity (wider / deeper layers), train longer or with a better learning-rate " +
  "schedule, and reduce regularization (weight decay, dropout) if you use a lot of it.";

/**
 * Where a rising accuracy curve is heading: the medians of its three thirds m0, m1, m2 give the gains
 * g1 = m1 - m0 and g2 = m2 - m1; an approach slowing by r = g2 / g1 per third adds g2 * r / (1 - r)
 * more. A plateau (g2 below `flat`) heads for its recent best; a curve not clearly slowing down
 * (r > slowdown) has no ceiling in sight yet (null): early in training every curve looks poor.
 */
export function heading(
  xs: number[],
  flat: number,
  slowdown: number,
  accSe = 0,
): { ceiling: number; g1: number; g2: number; plateau: boolean } | null {
  const m = xs.length;
  // three evaluations per third at least: a projection from fewer is noise
  if (m < 9) return null;
  const a = Math.floor(m / 3);
  const b = Math.floor((2 * m) / 3);
  const m0 = median(xs.slice(0, a));
  const m1 = median(xs.slice(a, b));
  const m2 = median(xs.slice(b));
  const g1 = m1 - m0;
  const g2 = m2 - m1;
  const recentBest = Math.max(...xs.slice(b));
  const bestBefore = Math.max(...xs.slice(0, b));
  if (g2 < flat && recentBest - bestBefore < flat) return { ceiling: Math.max(recentBest, bestBefore), g1, g2, plateau: true };
  // a projection is only as good as the slowdown is clear: gains must at least shrink by `slowdown`
  if (!(g1 > 0) || !(g2 <= slowdown * g1)) return null;
  // Each third's median of k accuracies measured on N samples is off by ~1.25 accSe / sqrt(k): the
  // later gain g2 is read one standard error high (accSe 0: the set size is unknown), so a slowdown
  // that measurement noise could fake projects no ceiling (an 85/15 problem at 0.847, 0.847, 0.863,
  // 0.892, 0.905, 0.91, 0.914, 0.916 on 1125 samples "heads for 0.93", then climbs on to 0.963).
  const k = Math.min(a, b - a, m - b);
  const g2Hi = Math.max(0, g2) + 1.25 * accSe * Math.sqrt(2 / k);
  if (!(g2Hi < g1)) return null;
  const r = g2Hi / g1;
  return { ceiling: Math.max(recentBest, m2 + (g2Hi * r) / (1 - r)), g1, g2, plateau: false };
}

/**
 * (val loss - train loss) / train loss at the latest evaluations, or null without both: the val loss the
 * median of its last 3 evaluations, the train loss the median of every training point logged over the
 * same stretch (from the 3rd-last evaluation on). A per-step loss is one minibatch's: the 3 points nearest
 * the evaluations alone swing by 5x on a noisy run (0.17 to 0.97 around a val loss of 0.83-1.3), and their
 * median reads a gap that the many points around them do not show.
 */
export function trainValLossGap(ctx: Context): number | null {
  const le = lossEvals(ctx);
  if (!le || le.steps.length < 3) return null;
  const vl = median(lastN(le.val, 3));
  let tl = median(lastN(le.train, 3));
  const s = ctx.keys.scalars.train_loss?.s;
  if (s) {
    const from = lowerBound(s.steps, le.steps[le.steps.length - 3]);
    const to = lowerBound(s.steps, le.steps[le.steps.length - 1] + 1);
    const pts = finiteSample(s.values, from, to, 4096);
    if (pts.length > 3) tl = median(pts);
  }
  return tl > 0 && Number.isFinite(vl) ? (vl - tl) / tl : null;
}

/** Split into [before, plateau window]; the window is the last third of the evals (>= 4). */
function split(e: EvalTable, minEvals: number): number | null {
  const m = e.steps.length;
  const k = Math.max(4, Math.ceil(m / 3));
  if (m < Math.max(minEvals, k + 2)) return null;
  return m - k;
}

const UNSAMPLED_HIST_MAX = 500_000;

/**
 * The narrowest hidden layer whose activation histograms say its width: a histogram of one minibatch
 * holds batch_size x units values (the last, smaller batch of an epoch aside: the median over records).
 * Null without config.batch_size or such histograms.
 */
export function narrowestLayer(ctx: Context): { layer: string; units: number } | null {
  const batch = batchSizeOf(ctx.run.config ?? {});
  if (batch === null) return null;
  let best: { layer: string; units: number } | null = null;
  for (const [layer, { records }] of ctx.keys.hists.act_hist) {
    const per = records
      .map((h) => h.counts.reduce((a, b) => a + b, 0))
      // the Python SDK histograms a strided sample of tensors over 1M values: such a count is not batch x units
      .filter((n) => n < UNSAMPLED_HIST_MAX)
      .map((n) => n / batch)
      .filter((u) => u >= 1 && Number.isInteger(u));
    if (per.length === 0) continue;
    const units = median(per);
    if (best === null || units < best.units) best = { layer, units };
  }
  return best;
}

/**
 * The model's parameters (the largest `params` of watch()'s `model` events) per training sample, when at
 * least underfit_capacity_ratio and no strong regularizer is named; else null. The training set's size
 * is the config's (train_size, ...) or, without it, what the run shows of it: steps per epoch x
 * batch_size. Read from the logged epoch that is the set; read from the spacing of evaluations it is the
 * set only for one evaluation an epoch, half of it for two (the other common habit), so there the model
 * must have the capacity for twice as many samples. Few runs log their training set's size: without
 * this, a noisy-label task's healthy fit (2-class moons at noise 0.35: 0.89 train and val, a 4.5k-
 * parameter MLP on 1200 samples) read as a capacity limit as soon as both accuracies were read.
 */
export function spareCapacity(ctx: Context): { params: number; samples: number } | null {
  const { t } = ctx;
  let params = 0;
  for (const ev of ctx.run.events) {
    const p = ev.type === "model" && ev.data && typeof ev.data === "object" ? (ev.data as Record<string, unknown>).params : null;
    if (typeof p === "number" && Number.isFinite(p) && p > params) params = p;
  }
  const config = ctx.run.config ?? {};
  let samples = findNumber(config, ["train_size", "n_train", "num_train", "train_samples", "num_train_samples"]);
  let margin = 1;
  if (samples === null && ctx.batchSize !== null) {
    const period = stepsPerEpoch(ctx);
    if (period !== null) {
      samples = period.steps * ctx.batchSize;
      if (period.source === "the spacing of evaluations") margin = 2;
    }
  }
  if (!(params > 0) || samples === null || !(samples > 0) || params < t.underfit_capacity_ratio * margin * samples) return null;
  const wd = weightDecayOf(config);
  if (lossPenaltyOf(config) !== null || (wd !== null && wd.value >= t.underfit_capacity_wd)) return null;
  return { params, samples };
}

const CLASS_WEIGHT_KEYS = ["class_weight", "class_weights", "pos_weight", "loss_weights", "balanced_sampler", "weighted_sampler"];

/**
 * Whether the config says the loss weighs the classes unequally (class weights, pos_weight, a balanced /
 * weighted sampler): such a model trades majority-class accuracy for minority recall by design (90/10
 * data with inverse-frequency weights: 0.86 accuracy while the majority share is 0.90), so its plain
 * accuracy is no measure of how well it fits.
 */
export function classWeighted(config: Record<string, any>): boolean {
  const names = [config?.loss, config?.criterion, config?.sampler, config?.hyperparams?.loss, config?.hyperparams?.criterion]
    .filter((x) => typeof x === "string")
    .join(" ")
    .toLowerCase();
  if (/weight|balanced|pos_weight/.test(names)) return true;
  for (const k of CLASS_WEIGHT_KEYS) {
    const v = config?.[k] ?? config?.hyperparams?.[k];
    if (v !== undefined && v !== null && v !== false && v !== "none" && v !== "None") return true;
  }
  return false;
}

function byAccuracy(ctx: Context): Diagnosis | null {
  const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
  if (!va || !ta) return null;
  if (classWeighted(ctx.run.config ?? {})) return null;
  const { t } = ctx;
  const e = accEvals(ctx)!;
  const w = split(e, t.min_evals);
  if (w === null) return null;
  const maxOf = (xs: number[]) => Math.max(...xs);
  const tBest = maxOf(e.train);
  // The model did learn: well above chance when C is known (a first evaluation logged after a whole
  // epoch is already far from chance), else above its first evaluation. Otherwise the problem is the
  // learning rate or a bug, not capacity.
  const cls = classesOf(ctx);
  const chance = cls ? 1 / cls.C : null;
  const baseline = chance !== null ? Math.min(chance, e.train[0]) : e.train[0];
  if (tBest - baseline < t.learned_delta_acc) return null;
  const tNow = median(lastN(e.train, 3));
  const vNow = median(lastN(e.val, 3));
  // Far from what the task allows: the model gets a sizeable share of its OWN training data wrong
  // (a net with capacity to spare fits it, and then its val error is mostly a generalization gap) ...
  const err = 1 - tNow;
  const untrainedErr = chance !== null ? 1 - chance : 1 - e.train[0];
  if (!(err >= t.underfit_err_frac * untrainedErr)) return null;
  // ... and validation tracks training closely: the val error is the training error
  const gap = tNow - vNow;
  // A hidden layer narrower than the classes it must tell apart is a capacity limit read from the run
  // (3 units for 10 digits): its training error is the model's, so a moderate generalization gap on
  // top (val error 18% over a train error of 13%) does not make it something else. It must still be
  // the smaller part of the val error.
  const narrow = narrowestLayer(ctx);
  const bottleneck = narrow !== null && cls !== null && narrow.units < cls.C ? narrow : null;
  if ((!bottleneck && Math.abs(gap) >= t.underfit_gap_acc) || Math.abs(gap) > t.underfit_gap_share * err) return null;
  // A model with capacity to spare (at least underfit_capacity_ratio parameters per training sample, as
  // watch() counts them) can fit its training set, memorize it even: when its training error stays high
  // with validation tracking, that error is the data's (flipped labels, overlapping classes: 195 noisy
  // samples under a 5k-parameter MLP at 0.85 / 0.86; census-like tabular data at 0.87 / 0.86), not a
  // capacity limit, unless a regularizer strong enough to hold it down is named (a penalty added to the
  // loss, a weight decay >= underfit_capacity_wd: 0.12 caps a digits MLP at 0.79) or a layer is
  // narrower than the classes.
  const spare = spareCapacity(ctx);
  if (spare && !bottleneck) return null;
  // ... in the loss too, where both are logged: a model with capacity to spare fits its training data
  // more confidently than it does unseen data even where the accuracies are equal (noisy labels:
  // the errors are the data's, not the model's), and its val loss opens a gap above the train loss
  const lossGap = trainValLossGap(ctx);
  if (!bottleneck && lossGap !== null && lossGap >= t.underfit_loss_gap_rel) return null;
  // While the run goes on, progress must be too slow to close it: where the accuracy curve is heading,
  // read from the gains of its last two thirds (an approach that slows by a factor r per third adds
  // g2 * r / (1 - r) more), still leaves that training error — in train and val accuracy alike. A
  // plateau heads nowhere; a curve still gaining about as much as before is not judged yet.
  const tHead = heading(e.train, t.plateau_delta_acc, t.underfit_slowdown, accStdErr(ctx, "train_acc", tNow));
  const vHead = heading(e.val, t.plateau_delta_acc, t.underfit_slowdown, accStdErr(ctx, "val_acc", vNow));
  const errFloor = t.underfit_err_frac * untrainedErr;
  // the projected error must clear that floor by 2 standard errors of the accuracy it is read from (set
  // sizes known): a noisy task's healthy fit heads for an error at the floor within measurement noise
  // (noisy shapes: val heading for 0.918 on 600 samples, error 0.082 against a floor of 0.075)
  const poorHead = (h: { ceiling: number }, role: "train_acc" | "val_acc") => 1 - h.ceiling >= errFloor + 2 * accStdErr(ctx, role, h.ceiling);
  const headingPoor = tHead !== null && vHead !== null && poorHead(tHead, "train_acc") && poorHead(vHead, "val_acc");
  // A run that ended while still heading well above that error (it stopped early: train longer) is
  // not short of capacity; one whose heading cannot be read is judged as it ended.
  const headingKnown = tHead !== null && vHead !== null;
  if (!headingPoor && (!ctx.run.finished || headingKnown)) return null;
  // While the run goes on, a training loss still falling by more than 2 standard errors from one window
  // to the next is a model still learning: accuracy read at a few evaluations moves in steps (a GRU that
  // learns to count sits at 0.64 for three evaluations while its loss falls 1.35 -> 0.86, then climbs to
  // 0.97), and an accuracy plateau beside a falling loss is not the model's ceiling yet.
  if (!ctx.run.finished && lossStillFalling(ctx)) return null;
  const plateau = tHead !== null && vHead !== null && tHead.plateau && vHead.plateau;
  const start = plateau ? e.train.findIndex((x) => x >= tBest - t.plateau_delta_acc) : w;
  return diagnosis(
    "underfitting",
    "warning",
    e.steps[start],
    plateau
      ? "Underfitting: training and validation accuracy plateau together well below what the data allow"
      : headingPoor
        ? "Underfitting: training and validation accuracy creep up together, far too slowly"
        : "Underfitting: the run ended with training and validation accuracy low together",
    `Training accuracy is ${fmt(tNow)} ` +
      (plateau
        ? `and has not improved since step ${e.steps[start]}`
        : headingPoor
          ? `and its gains shrink (${fmt(tHead!.g1)}, then ${fmt(tHead!.g2)} per third of the evaluations): it is heading for about ${fmt(tHead!.ceiling)}`
          : "at the end of the run") +
      `: the model gets ${fmt(err * 100, 2)}% of its own training data wrong, and validation accuracy (${fmt(vNow)}) tracks it ` +
      `closely (gap ${fmt(gap, 2)}). ` +
      (bottleneck
        ? `Layer ${bottleneck.layer} has ${bottleneck.units} units for ${cls!.C} classes: everything the model knows passes through ${bottleneck.units} numbers. `
        : "") +
      `A model with enough capacity fits its training data and then opens a gap to validation; ` +
      `here the validation error is the training error, so more epochs at this pace, or more regularization, will not help: ` +
      `it lacks capacity or is over-regularized. ${ADVICE}`,
    {
      train_key: ta.key,
      val_key: va.key,
      train_acc: round(tNow),
      val_acc: round(vNow),
      gap: round(gap, 3),
      train_error: round(err, 3),
      loss_gap_rel: lossGap !== null ? round(lossGap, 3) : null,
      recent_train_gain: tHead ? round(tHead.g2, 3) : null,
      projected_train_acc: tHead ? round(tHead.ceiling, 3) : null,
      projected_val_acc: vHead ? round(vHead.ceiling, 3) : null,
      at_finish: !headingPoor,
      plateau_since_step: plateau ? e.steps[start] : null,
      num_classes: cls ? cls.C : null,
      narrowest_layer: bottleneck ? bottleneck.layer : null,
      narrowest_units: bottleneck ? bottleneck.units : null,
      underfit_err_frac: t.underfit_err_frac,
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

/**
 * A linear model (context.ts linearModel) that cannot fit its data: its training error stays high and
 * validation tracks it. A linear model learns nothing but linear boundaries, so on data that need
 * more (rings, spirals, XOR, raw signals) it sits near chance from the start: there is no "learned
 * something first" to wait for (what byAccuracy asks of deeper nets, whose flat start is the learning
 * rate's or a bug's), and the capacity is what to fix first (no_learning leaves such a run to this rule).
 */
function byLinearModel(ctx: Context): Diagnosis | null {
  const lin = linearModel(ctx);
  if (!lin) return null;
  const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
  if (!va || !ta) return null;
  const { t } = ctx;
  const e = accEvals(ctx)!;
  if (e.steps.length < t.min_evals) return null;
  // judged once it stopped improving: at the finish, on a plateau, or at chance on both splits for
  // most of the evaluations so far (a curve that noisy has no readable plateau)
  const cls = classesOf(ctx);
  const tHead = heading(e.train, t.plateau_delta_acc, t.underfit_slowdown);
  const ceiling = cls ? chanceCeiling(ctx, cls.C) : null;
  const atChance = (xs: number[]) => ceiling !== null && xs.filter((x) => x <= ceiling).length >= t.no_learning_share * xs.length;
  if (!ctx.run.finished && !tHead?.plateau && !(atChance(e.train) && atChance(e.val))) return null;
  const chance = cls ? 1 / cls.C : null;
  const tNow = median(lastN(e.train, 3));
  const vNow = median(lastN(e.val, 3));
  const err = 1 - tNow;
  const untrainedErr = chance !== null ? 1 - chance : 1 - e.train[0];
  if (!(untrainedErr > 0) || !(err >= t.underfit_err_frac * untrainedErr)) return null;
  // validation tracks training: the errors are the model's, not a generalization gap
  const gap = tNow - vNow;
  if (Math.abs(gap) > t.underfit_gap_share * err) return null;
  return diagnosis(
    "underfitting",
    "warning",
    e.steps[0],
    "Underfitting: a linear model that cannot fit its data",
    `${lin.params !== null ? `Every one of the model's ${lin.params} trainable parameters sits in a single Linear layer` : `The config names a linear model ("${lin.named}")`}: ` +
      `it draws one straight boundary per class. Training accuracy ${ctx.run.finished ? "ended" : "sits"} at ${fmt(tNow)}` +
      `${chance !== null ? ` (chance ${fmt(chance)})` : ""}, ${fmt(err * 100, 2)}% of its own training data wrong, and ` +
      `validation accuracy (${fmt(vNow)}) tracks it: the classes need more than a linear boundary (rings, spirals or XOR ` +
      `have none). Add a hidden layer with a nonlinearity (e.g. Linear-ReLU-Linear), or features that make the classes ` +
      `separable. If a model with hidden layers also stays at chance, check that the labels belong to their inputs.`,
    {
      linear_model: true,
      params: lin.params,
      model: lin.named,
      train_key: ta.key,
      val_key: va.key,
      train_acc: round(tNow),
      val_acc: round(vNow),
      gap: round(gap, 3),
      train_error: round(err, 3),
      num_classes: cls ? cls.C : null,
      underfit_err_frac: t.underfit_err_frac,
      underfit_gap_share: t.underfit_gap_share,
    },
  );
}

export const underfitting: Rule = {
  code: "underfitting",
  evaluate(ctx) {
    return byLinearModel(ctx) ?? byAccuracy(ctx) ?? byLoss(ctx);
  },
};
