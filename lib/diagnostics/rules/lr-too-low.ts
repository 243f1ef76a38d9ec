// lr_too_low: weights barely move (update/weight ratio far below ~1e-3) while the run has not
// learned, or — without per-layer stats — a loss (and accuracy) that barely moves at all.

import { diagnosis, type Context, type Rule } from "../context";
import { layerRecent, listLayers } from "../layers";
import { finiteSample, fmt, lowerBound, median, noise, recentRange, round, streakStart, stridedIndices } from "../series";
import type { Diagnosis, SeriesPoints } from "../types";
import { orderUndecided } from "./unshuffled-data";
import { fitState } from "./fit-state";

const ADVICE =
  "Raise the learning rate, e.g. by 10x at a time, until the loss drops clearly in the first few " +
  "hundred steps (cs231n: search it on a log scale). If raising it does not help, check that " +
  "gradients actually reach the weights (detached tensors, frozen layers, zero gradients).";

/** The learning rate is still ramping up (warmup): small steps and a flat start are expected. */
export function inWarmup(ctx: Context): boolean {
  const lr = ctx.keys.scalars.lr;
  if (!lr) return false;
  const n = lr.s.values.length;
  const early = median(finiteSample(lr.s.values, 0, Math.max(1, Math.ceil(n * 0.1))));
  const late = median(finiteSample(lr.s.values, recentRange(n, ctx.t.recent_frac, 1).from, n));
  return late > 1.5 * early;
}

/** Train accuracy gained over the run (last - first), or null without enough evaluations. */
export function trainAccGain(ctx: Context): number | null {
  const acc = ctx.keys.scalars.train_acc;
  if (!acc || acc.s.values.length < ctx.t.min_evals) return null;
  const n = acc.s.values.length;
  const scale = ctx.accScale("train_acc");
  const first = median(finiteSample(acc.s.values, 0, Math.min(n, 2))) * scale;
  const last = median(finiteSample(acc.s.values, recentRange(n, ctx.t.recent_frac, 3).from, n)) * scale;
  return Number.isFinite(first) && Number.isFinite(last) ? last - first : null;
}

/** Robust start of the loss: median of the first max(5, 5%) points (the very first is noisy). */
function startLevel(ctx: Context): number {
  const s = ctx.keys.scalars.train_loss!.s;
  const n = s.values.length;
  return median(finiteSample(s.values, 0, Math.min(n, Math.max(5, Math.ceil(0.05 * n)))));
}

export interface LrCollapse {
  key: string;
  peak: number;
  peakStep: number;
  /** median of the last points */
  now: number;
  /** step where the lr fell below lr_collapse_factor x its peak (for good) */
  since: number;
  /** share of the logged lr points since then */
  share: number;
  /** step where the lr fell below half its peak (for good) */
  fallFrom: number;
  lossAtFall: number;
  lossAtCollapse: number;
  lossNow: number;
}

/** Median of the loss in the `w` points around `step` (ending there when `before`). */
function lossNear(ctx: Context, step: number, w: number, before: boolean): number {
  const s = ctx.keys.scalars.train_loss!.s;
  const i = lowerBound(s.steps, step);
  const from = before ? Math.max(0, i - w) : Math.max(0, Math.min(i, s.values.length - w));
  return median(finiteSample(s.values, from, Math.min(s.values.length, from + w)));
}

/** The logged learning rate's highest value (sampled) and its step; null unless positive and finite. */
function lrPeak(s: SeriesPoints): { peak: number; peakStep: number } | null {
  let peak = -Infinity;
  let peakStep = s.steps[0];
  for (const i of stridedIndices(0, s.values.length)) {
    if (s.values[i] > peak) {
      peak = s.values[i];
      peakStep = s.steps[i];
    }
  }
  return peak > 0 && Number.isFinite(peak) ? { peak, peakStep } : null;
}

/**
 * The logged lr now (median of its last min_points) over its peak, when the lr was logged and fell
 * below its peak; null otherwise. Updates scale with the lr, so this is how much smaller the recent
 * steps are than the ones the chosen lr makes.
 */
function lrCutRatio(ctx: Context): number | null {
  const named = ctx.keys.scalars.lr;
  if (!named || named.s.values.length < ctx.t.min_points) return null;
  const top = lrPeak(named.s);
  if (!top) return null;
  const n = named.s.values.length;
  const now = median(finiteSample(named.s.values, Math.max(0, n - ctx.t.min_points), n));
  return now > 0 && now < top.peak ? now / top.peak : null;
}

/**
 * A learning rate that a scheduler drove to ~0 while the run was still learning, leaving it frozen
 * for a good part of the run (typically a per-epoch schedule stepped every batch: StepLR /
 * ExponentialLR then decay hundreds of times faster than intended). Null when the logged lr did
 * not collapse, collapsed only at the end (a cosine schedule), after the loss had already
 * levelled off (ReduceLROnPlateau on a converged run), or the loss still moves.
 */
export function lrCollapse(ctx: Context): LrCollapse | null {
  return ctx.memo("lrCollapse", () => {
    const { t } = ctx;
    const named = ctx.keys.scalars.lr;
    const lp = ctx.loss();
    if (!named || !lp || !Number.isFinite(lp.recent)) return null;
    const s = named.s;
    const n = s.values.length;
    if (n < t.min_points) return null;
    const top = lrPeak(s);
    if (!top) return null;
    const { peak, peakStep } = top;
    const limit = t.lr_collapse_factor * peak;
    const now = median(finiteSample(s.values, Math.max(0, n - t.min_points), n));
    if (!(now < limit)) return null;
    const since = streakStart(s, (v) => v < limit);
    if (since === null || since <= peakStep) return null;
    const share = (n - lowerBound(s.steps, since)) / n;
    if (share < t.lr_collapse_frac) return null;
    // where the decay began: the lr left the neighbourhood of its peak for good
    const fallFrom = streakStart(s, (v) => v < 0.5 * peak) ?? since;
    // minibatch losses are noisy: compare medians of windows of 10% of the points
    const w = Math.max(t.min_points, Math.ceil(lp.n * 0.1));
    const lossAtFall = lossNear(ctx, fallFrom, w, true);
    const lossAtCollapse = lossNear(ctx, since, w, false);
    const lossNow = lp.recent;
    if (!(lossAtCollapse > 0) || !(lossAtFall > 0)) return null;
    // frozen since: the loss moved by less than lr_collapse_loss_rel of its level (beyond the
    // uncertainty of the window medians); a logged val loss, free of minibatch noise, is used too
    const nz = noise(ctx.keys.scalars.train_loss!.s.values, lp.recentFromIdx, lp.n);
    const slack = Number.isFinite(nz.sigma) ? (2 * nz.sigma) / Math.sqrt(w) : 0;
    if (Math.abs(lossNow - lossAtCollapse) >= t.lr_collapse_loss_rel * lossAtCollapse + slack) return null;
    const vl = ctx.keys.scalars.val_loss?.s;
    if (vl) {
      const after = lowerBound(vl.steps, since);
      if (vl.values.length - after >= 2) {
        const first = vl.values[after];
        const last = median(finiteSample(vl.values, Math.max(after, vl.values.length - 3), vl.values.length));
        if (!(Math.abs(last - first) < t.lr_collapse_loss_rel * Math.abs(first))) return null;
      }
    }
    // a run that had already converged when the lr ran out (an aggressive MultiStepLR) lost nothing
    if (lp.first > 0 && lossAtCollapse <= t.lr_collapse_done_frac * lp.first) return null;
    // and either still learning while the lr fell (a schedule that cuts the lr on a plateau does not
    // count), or the lr fell from half its peak to ~0 within lr_collapse_fast_frac of the run: a
    // per-epoch schedule stepped every batch runs batches-per-epoch times too fast
    const learning = lossAtFall - lossAtCollapse >= 2 * t.lr_collapse_loss_rel * lossAtFall;
    const span = s.steps[n - 1] - s.steps[0];
    let fast = span > 0 && (since - fallFrom) / span <= t.lr_collapse_fast_frac;
    // evaluations are usually once an epoch: a per-epoch schedule needs dozens of them to fall 500x
    const ev = (ctx.keys.scalars.val_loss ?? ctx.keys.scalars.val_acc)?.s;
    if (!fast && ev && ev.steps.length >= 3) {
      const gaps: number[] = [];
      for (let i = 1; i < ev.steps.length; i++) gaps.push(ev.steps[i] - ev.steps[i - 1]);
      const interval = median(gaps);
      fast = interval > 0 && since - fallFrom <= t.lr_collapse_fast_evals * interval;
    }
    if (!learning && !fast) return null;
    return { key: named.key, peak, peakStep, now, since, share, fallFrom, lossAtFall, lossAtCollapse, lossNow };
  });
}

function collapseDiagnosis(ctx: Context, c: LrCollapse): Diagnosis {
  const ur = layerRecent(ctx, "update_ratio", ctx.t.min_points);
  const medUr = ur.length > 0 ? median(ur.map((x) => x.recent)) : null;
  return diagnosis(
    "lr_too_low",
    "warning",
    c.since,
    "Learning rate collapsed to ~0: the run stopped learning",
    `The logged learning rate "${c.key}" fell from ${fmt(c.peak)} to ${fmt(c.now)} (below ` +
      `${fmt(ctx.t.lr_collapse_factor)}x its peak since step ${c.since}, ${fmt(c.share * 100, 2)}% of the run)` +
      (medUr !== null ? `, the weights no longer move (update/weight ratio ${fmt(medUr)})` : "") +
      ` and the training loss has been frozen at ${fmt(c.lossNow)} since then, although it was still ` +
      `falling (${fmt(c.lossAtFall)} -> ${fmt(c.lossAtCollapse)}) while the rate dropped. A learning-rate ` +
      `schedule meant per epoch (StepLR, ExponentialLR, MultiStepLR) that is stepped every batch decays ` +
      `hundreds of times too fast. Call scheduler.step() once per epoch (or size the schedule in ` +
      `batches), and check the schedule's final rate (eta_min / min_lr).`,
    {
      key: c.key,
      peak_lr: round(c.peak, 3),
      peak_step: c.peakStep,
      lr_now: round(c.now, 3),
      collapsed_since_step: c.since,
      collapsed_share: round(c.share, 3),
      lr_collapse_factor: ctx.t.lr_collapse_factor,
      loss_when_lr_fell: round(c.lossAtFall),
      loss_at_collapse: round(c.lossAtCollapse),
      recent_loss: round(c.lossNow),
      median_update_ratio: medUr !== null ? round(medUr, 3) : null,
    },
  );
}

export interface LrEarlyCut {
  key: string;
  peak: number;
  now: number;
  /** step where the lr fell below lr_cut_factor x its peak, for good */
  since: number;
  /** how the window it fell within was measured */
  within: string;
  reading: string;
}

/**
 * A schedule that cut the logged lr to <= lr_cut_factor x its peak at the very start of the run
 * (within lr_cut_evals evaluation intervals, or lr_collapse_fast_frac of the run without
 * evaluations) and kept it there, while the model still falls short of its data: a per-epoch
 * schedule (MultiStepLR, StepLR, ExponentialLR) stepped every batch runs batches-per-epoch times too
 * fast, so the whole run trains at its final, small rate. A milder cut than lrCollapse's ~0: the loss
 * still creeps down, too slowly to get anywhere.
 */
export function lrEarlyCut(ctx: Context): LrEarlyCut | null {
  const { t } = ctx;
  const named = ctx.keys.scalars.lr;
  if (!named) return null;
  const s = named.s;
  const n = s.values.length;
  if (n < t.min_points) return null;
  const top = lrPeak(s);
  if (!top) return null;
  const { peak, peakStep } = top;
  const limit = t.lr_cut_factor * peak;
  const now = median(finiteSample(s.values, Math.max(0, n - t.min_points), n));
  if (!(now <= limit)) return null;
  const since = streakStart(s, (v) => v <= limit);
  if (since === null || since <= peakStep) return null;
  const span = s.steps[n - 1] - s.steps[0];
  const ev = (ctx.keys.scalars.val_loss ?? ctx.keys.scalars.val_acc ?? ctx.keys.scalars.train_acc)?.s;
  let window: number;
  let within: string;
  if (ev && ev.steps.length >= 3) {
    const gaps: number[] = [];
    for (let i = 1; i < ev.steps.length; i++) gaps.push(ev.steps[i] - ev.steps[i - 1]);
    window = t.lr_cut_evals * median(gaps);
    within = `${t.lr_cut_evals} evaluation intervals`;
  } else {
    window = t.lr_collapse_fast_frac * span;
    within = `${fmt(t.lr_collapse_fast_frac * 100, 2)}% of the run`;
  }
  // the run went on well past the cut: most of it trained at the small rate
  if (!(since - s.steps[0] <= window) || !(span >= 4 * window)) return null;
  const fit = fitState(ctx);
  if (fit.state !== "short" && fit.state !== "chance") return null;
  return { key: named.key, peak, now, since, within, reading: fit.reading };
}

function earlyCutDiagnosis(ctx: Context, c: LrEarlyCut): Diagnosis {
  return diagnosis(
    "lr_too_low",
    "warning",
    c.since,
    "Learning rate cut at the start: the run trains at a rate too small to get anywhere",
    `The logged learning rate "${c.key}" fell from ${fmt(c.peak)} to ${fmt(c.now)} (at most ` +
      `${fmt(ctx.t.lr_cut_factor)}x its peak) by step ${c.since}, within the first ${c.within}, and stayed ` +
      `there, while the model still falls well short of its data (${c.reading}). A schedule meant per ` +
      `epoch (MultiStepLR, StepLR, ExponentialLR) that is stepped every batch reaches its final rate ` +
      `batches-per-epoch times too early. Call scheduler.step() once per epoch (or size the schedule in ` +
      `batches), or raise the rate.`,
    {
      key: c.key,
      peak_lr: round(c.peak, 3),
      lr_now: round(c.now, 3),
      cut_since_step: c.since,
      lr_cut_factor: ctx.t.lr_cut_factor,
      fit: c.reading,
    },
  );
}

export const lrTooLow: Rule = {
  code: "lr_too_low",
  evaluate(ctx) {
    const { t } = ctx;
    const lp = ctx.loss();
    const collapsed = lrCollapse(ctx);
    if (collapsed) return collapseDiagnosis(ctx, collapsed);
    const cut = lrEarlyCut(ctx);
    if (cut) return earlyCutDiagnosis(ctx, cut);
    // shuffle=False declared and too few epochs to judge the order: ratios frozen at ~0 may be units the
    // sorted batches killed (dead_relu waits for the same reason, and would hide this)
    if (orderUndecided(ctx)) return null;
    if (inWarmup(ctx)) return null;
    const accGain = trainAccGain(ctx);
    const C = ctx.numClasses;

    const hasRatios = [...ctx.keys.layers.values()].some((f) => f.update_ratio);
    if (hasRatios) {
      // Layers that do not move at all are symmetric_init's / dead_relu's business.
      const ur = layerRecent(ctx, "update_ratio", t.min_points).filter((x) => x.recent > t.zero_grad_eps);
      if (ur.length === 0) return null;
      const med = median(ur.map((x) => x.recent));
      const lossHigh = !lp || !(lp.initial > 0) || lp.recent >= t.lr_low_progress_frac * lp.initial;
      const strong = med < t.update_ratio_low && lossHigh;
      // Moderately small ratios count only when the run has visibly not learned anything
      // (a fine-tuning run with a small learning rate has a loss far below chance).
      let loose = false;
      if (!strong && med < t.update_ratio_low_loose && lp && lp.n >= t.flat_loss_min_points && lp.initial > 0) {
        const drop = (startLevel(ctx) - lp.recent) / startLevel(ctx);
        const nearChance = C !== null ? lp.recent >= 0.5 * Math.log(C) : null;
        const accFlat = accGain !== null ? accGain < t.slow_acc_gain : null;
        // a loss that rose well above its start moved: whatever moved it, the steps were not too small
        loose = drop < t.slow_loss_rel && drop > -t.slow_loss_rel && (nearChance ?? accFlat ?? false) && accFlat !== false;
      }
      if (!strong && !loose) return null;
      const limit = strong ? t.update_ratio_low : t.update_ratio_low_loose;
      // The run's own schedule cut the logged lr (ReduceLROnPlateau after the loss stopped improving, a
      // step or cosine decay) and at the lr it set the same steps were not small: an update scales with
      // the lr, so the recent ratios x peak / current lr are what the chosen lr moves. Small steps at the
      // end of an annealed run are the schedule's, not a learning rate chosen too low (noisy moons at
      // batch 16, lr cut 3e-3 -> 2.7e-4 by five plateau cuts: ratios 6e-5, 7e-4 at the set lr). A cut to
      // ~0 is lrCollapse's, read above.
      const lrNow = lrCutRatio(ctx);
      if (lrNow !== null && lrNow <= 0.5 && med / lrNow >= limit) return null;
      const low = ur.filter((x) => x.recent < limit);
      const worst = low.reduce((a, b) => (b.recent < a.recent ? b : a), low[0]);
      return diagnosis(
        "lr_too_low",
        "warning",
        streakStart(worst.s, (v) => v < limit),
        "Learning rate too low: the weights barely move",
        `Each update changes the weights by only ${listLayers(low.map((x) => ({ layer: x.layer, value: x.recent })))} ` +
          `of their size (update/weight ratio; ~1e-3 is healthy, below ${fmt(limit)} is far too small)` +
          (lp ? `, and the training loss is still ${fmt(lp.recent)} (started at ${fmt(lp.initial)})` : "") +
          `. At this pace training takes forever or stalls. ${ADVICE}`,
        {
          median_update_ratio: round(med, 3),
          low_layers: low.map((x) => x.layer).join(", "),
          threshold: limit,
          recent_loss: lp ? round(lp.recent) : null,
          initial_loss: lp ? round(lp.initial) : null,
          train_acc_gain: accGain !== null ? round(accGain, 3) : null,
        },
      );
    }

    // No per-layer stats: fall back to "the loss barely moves". Per-step logs need many points
    // (a slow start is not a verdict); per-epoch logs (Keras) need enough accuracy evaluations.
    if (!lp || !Number.isFinite(lp.recent)) return null;
    const acc = ctx.keys.scalars.train_acc;
    if (acc && accGain === null) return null; // accuracy is logged but too rarely yet: wait for it
    const enough = lp.n >= t.flat_loss_min_points || (accGain !== null && acc!.s.values.length >= 2 * t.min_evals);
    if (!enough) return null;
    const start = startLevel(ctx);
    if (!(start > 0)) return null;
    const drop = (start - lp.recent) / start;
    const bestDrop = (start - lp.best) / start;
    // A too-small learning rate moves a full-set validation loss smoothly (if at all); a net that
    // died at chance level (learning rate too high) makes it jitter.
    const vl = ctx.keys.scalars.val_loss;
    if (vl && vl.s.values.length >= t.min_evals) {
      const nz = noise(vl.s.values, 0, vl.s.values.length);
      if (!(nz.sigma <= t.flat_val_cv * Math.abs(nz.level))) return null;
    }
    // "Barely moves" both ways: a loss now well ABOVE where it started (data sorted by class: the first
    // batches, all of one class, are learned at once and the next class undoes it, 0.15 -> 0.71) was
    // moved by the updates, so they are not too small; what moved it is another rule's finding.
    const tol = accGain !== null ? t.flat_loss_acc_rel : t.flat_loss_rel;
    const flat =
      drop > -tol &&
      (accGain !== null ? drop < t.flat_loss_acc_rel && accGain < t.flat_acc_gain : drop < t.flat_loss_rel && bestDrop < 3 * t.flat_loss_rel);
    if (!flat) return null;
    // The loss may be flat because it is already good (e.g. fine-tuning from a checkpoint).
    if (C !== null && lp.recent < 0.5 * Math.log(C)) return null;
    return diagnosis(
      "lr_too_low",
      "warning",
      lp.firstStep,
      "Learning rate too low: the loss barely moves",
      `After ${lp.n} logged points the training loss "${lp.key}" is ${fmt(lp.recent)}, practically where it ` +
        `started (${fmt(start)})` +
        (accGain !== null ? ` and training accuracy has gained only ${fmt(accGain * 100, 2)} points` : "") +
        `. When nothing moves, the updates are too small to matter; the most common cause is a learning ` +
        `rate that is too low. ${ADVICE}`,
      {
        key: lp.key,
        start_loss: round(start),
        recent_loss: round(lp.recent),
        relative_drop: round(drop, 3),
        train_acc_gain: accGain !== null ? round(accGain, 3) : null,
        points: lp.n,
      },
    );
  },
};
