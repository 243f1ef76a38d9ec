// loss_plateau: after real progress, the training loss has been flat for a long stretch at its best
// level so far, at a constant learning rate, while the model still falls short of its data: time to
// decay the learning rate. A run that fits its data has converged (not a plateau), and a loss that
// went back up (a restart from scratch, a blow-up) is not "stopped improving".

import { type Context, diagnosis, findNumber, type Rule } from "../context";
import { finiteSample, fmt, lowerBound, median, round, smoothed } from "../series";
import { lossNamesOf, unknownScaleLoss } from "./bad-initial-loss";
import { fitState } from "./fit-state";
import type { Diagnosis } from "../types";
import { stepsPerEpoch } from "./unshuffled-data";

export const lossPlateau: Rule = {
  code: "loss_plateau",
  evaluate(ctx) {
    return recentPlateau(ctx) ?? initialPlateau(ctx);
  },
};

/** A loss whose lowest reachable value is not ~0: named so in the config, or seen below 0. */
function lossFloorUnknown(ctx: Context): boolean {
  const config = ctx.run.config ?? {};
  if (unknownScaleLoss(config, lossNamesOf(config))) return true;
  // a Gaussian NLL, an ELBO: a likelihood of continuous data, not a classifier's NLLLoss
  if (/gaussian|likelihood|elbo|\bvae\b/.test(lossNamesOf(config))) return true;
  const lp = ctx.loss();
  return lp !== null && Number.isFinite(lp.best) && lp.best < 0;
}

function recentPlateau(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const lp = ctx.loss();
  if (!lp || !(lp.initial > 0)) return null;
  const s = ctx.keys.scalars.train_loss!.s;
  const n = s.values.length;
  const len = Math.max(t.plateau_min_points, Math.ceil(t.plateau_window_frac * n));
  if (n < len + t.min_points) return null;
  if (!(lp.recent <= t.plateau_progress_frac * lp.initial)) return null; // never made progress: lr_too_low's case
  if (lp.recent < t.plateau_min_level_frac * lp.initial) return null; // already ~0: converged
  const from = n - len;
  const third = Math.floor(len / 3);
  const a = median(finiteSample(s.values, from, from + third));
  const b = median(finiteSample(s.values, n - third, n));
  if (!(a - b < t.loss_plateau_rel * b)) return null;
  // "no better than a third of the window ago" means something only when the two medians are
  // precise: with per-point noise cv, a median of k points is off by ~1.25 cv / sqrt(k) of the level
  // (a noisy minibatch loss over a short window flips between "flat" and "falling" by chance)
  const spread = 1.25 * lp.recentCv * Math.sqrt(2 / Math.max(1, Math.min(third, 512 / 3)));
  if (!(spread <= t.plateau_noise_rel)) return null;
  // A flat stretch shorter than a couple of epochs is one pass or so over the data: early in a run
  // (the window is a share of what was logged so far) the loss often pauses that long before it
  // falls again. Where the epoch's length is known, the flat window spans plateau_min_epochs.
  const period = stepsPerEpoch(ctx);
  if (period && s.steps[n - 1] - s.steps[from] < t.plateau_min_epochs * period.steps) return null;
  // flat well above where it had been: the loss went up, not "stopped going down"
  if (Number.isFinite(lp.best) && lp.best > 0 && b > t.plateau_best_factor * lp.best) return null;
  // a model that fits its data (or is still falling fast) has nothing to gain from a decay
  const fit = fitState(ctx);
  if (fit.state === "fits" || fit.state === "learning") return null;
  // Without accuracy (a regression) the fit is read from the loss against its start (fit_loss_frac):
  // a flat level within its own precision (`spread`) of that line is not short of it; the line moves
  // across it from one window to the next (0.2004 of the start, then 0.198).
  if (fit.from === "loss" && b <= t.fit_loss_frac * lp.initial * (1 + spread)) return null;
  // ... and only for a loss whose floor is 0: a sum of terms (a VAE's reconstruction + KL), a KL, a
  // Gaussian NLL (it goes negative) sit at a floor set by the data's own entropy, so a level against its
  // start says nothing about what is left to gain (a digits VAE flat at 0.57 of its first loss is done)
  if (fit.from === "loss" && lossFloorUnknown(ctx)) return null;
  // A schedule already at work (the learning rate changed within the window) is the user's call.
  const lr = ctx.keys.scalars.lr;
  let lrNow: number | null = null;
  if (lr) {
    const ln = lr.s.values.length;
    const startIdx = Math.min(ln - 1, lowerBound(lr.s.steps, s.steps[from]));
    const lrFrom = median(finiteSample(lr.s.values, startIdx, Math.min(ln, startIdx + 3)));
    lrNow = lr.s.values[ln - 1];
    if (Number.isFinite(lrFrom) && Number.isFinite(lrNow) && Math.abs(lrNow - lrFrom) > 0.1 * Math.abs(lrFrom)) return null;
  }
  // The validation loss already well above the training loss (the flat level b, a median of many
  // points: one interval's few minibatch losses are too noisy to compare): the model fits its
  // training data better than it generalizes (a noisy target's floor, or the onset of overfitting).
  // A decay would lower the training loss further and widen that gap: the run is done, not stuck.
  const vl = ctx.keys.scalars.val_loss?.s;
  if (vl && vl.values.length >= t.min_evals && b > 0) {
    const valNow = median(finiteSample(vl.values, vl.values.length - 3, vl.values.length));
    if (valNow >= t.plateau_val_gap * b) return null;
    // The validation loss is measured on a whole set at once, not on one minibatch: where it has
    // >= 3 evaluations from the last one before the window on, and its latest is more than
    // loss_plateau_rel below the first of them, the model is still improving; the minibatch losses
    // are too noisy to show it (an MLP on an 85/15 problem: train medians 0.20 then 0.22 over 2.6
    // epochs while val goes 0.272, 0.248, 0.229).
    const inWindow = vl.values.slice(Math.max(0, lowerBound(vl.steps, s.steps[from]) - 1)).filter(Number.isFinite);
    if (inWindow.length >= 3 && inWindow[inWindow.length - 1] < (1 - t.loss_plateau_rel) * inWindow[0]) return null;
  }
  // where the flat stretch began: after the last smoothed point clearly above its level
  const curve = smoothed(s, 0, n);
  let since = s.steps[from];
  for (let k = curve.length - 1; k >= 0; k--) {
    if (curve[k].value > b * (1 + 10 * t.loss_plateau_rel)) break;
    since = curve[k].step;
  }
  return diagnosis(
    "loss_plateau",
    "info",
    since,
    "Loss plateau: the training loss has stopped improving",
    `The training loss "${lp.key}" has stayed around ${fmt(b)} for the last ${len} logged points ` +
      `(steps ${s.steps[from]}-${s.steps[n - 1]}), after falling from ${fmt(lp.initial)}. With a constant ` +
      `learning rate the optimizer bounces around the bottom of the valley instead of descending into it. ` +
      `Decay the learning rate (step decay by 10x on plateaus, or a cosine/ReduceLROnPlateau schedule); if ` +
      `the validation metrics have also stopped improving, the run may simply be done.`,
    {
      key: lp.key,
      level: round(b),
      earlier_level: round(a),
      initial_loss: round(lp.initial),
      window_points: len,
      lr: lrNow !== null ? round(lrNow) : null,
      loss_plateau_rel: t.loss_plateau_rel,
      best_loss: round(lp.best),
      median_noise_rel: round(spread, 3),
      fit: fit.state,
      window_epochs: period ? round((s.steps[n - 1] - s.steps[from]) / period.steps, 3) : null,
    },
  );
}

/**
 * The loss sat at its starting level for a long first stretch before it fell: a saddle point (weights
 * initialized too small, e.g. N(0, 0.05) in a deep tanh net: every unit near 0, the gradients tiny)
 * that cost that share of training. Raised once the loss has left it (while it is still flat,
 * no_learning and lr_too_low speak), and kept: the time was lost.
 */
function initialPlateau(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const lp = ctx.loss();
  if (!lp || !(lp.initial > 0)) return null;
  const s = ctx.keys.scalars.train_loss!.s;
  const n = s.values.length;
  if (n < 2 * t.plateau_min_points) return null;
  if (!(lp.recent <= t.plateau_progress_frac * lp.initial)) return null; // still there: not a finding of this kind
  // What the flat start cost is known once the steep descent that ended it has slowed: while the latest
  // loss is still less than half the window before (plateau_descent_rel = 1), the run may yet make the
  // time up (live, this waits; at finish the run says it)
  if (!ctx.run.finished && steepDescent(ctx) > t.plateau_descent_rel) return null;
  const curve = smoothed(s, 0, n);
  if (curve.length < 10) return null;
  // The flat stretch from the first smoothed point, or for a classifier from where it reached chance
  // (ln C) within the first few: an output layer initialized off (a first loss of 3.2 for 10 classes)
  // falls to chance within a few steps, then sits on the saddle there like a net that started at it.
  const C0 = ctx.numClasses;
  const flatFrom = (j: number) => {
    const level = curve[j].value;
    let k = j;
    while (k < curve.length && Math.abs(curve[k].value - level) <= t.plateau_start_rel * level) k++;
    return { j, k, level };
  };
  let run = flatFrom(0);
  if (C0 !== null && C0 > 1) {
    const lnC = Math.log(C0);
    for (let j = 1; j < Math.min(curve.length, 4); j++) {
      if (!(Math.abs(curve[j].value - lnC) <= t.plateau_start_rel * lnC)) continue;
      const r = flatFrom(j);
      if (r.k - r.j > run.k - run.j) run = r;
      break;
    }
  }
  const start = run.level;
  const k = run.k;
  if (!(start > 0)) return null;
  if (k >= curve.length) return null;
  const first = curve[run.j].step;
  const left = curve[k].step;
  // the share of the whole run: at finish, what was logged; live, the run's planned length (epochs x
  // steps per epoch) — a share of what was logged so far would make any early pause look long
  const period = stepsPerEpoch(ctx);
  const epochs = findNumber(ctx.run.config ?? {}, ["epochs", "num_epochs", "max_epochs", "n_epochs", "num_train_epochs"]);
  const planned = period && epochs !== null && epochs > 0 ? epochs * period.steps : null;
  const span = ctx.run.finished ? s.steps[n - 1] - s.steps[0] : planned;
  if (span === null || !(span > 0) || !((left - first) / span >= t.plateau_start_share)) return null;
  if (period && left - first < t.plateau_min_epochs * period.steps) return null;
  // a warmup (the logged learning rate rising through the stretch) holds the loss back on purpose
  const lr = ctx.keys.scalars.lr?.s;
  if (lr) {
    const lo = lowerBound(lr.steps, first);
    const hi = Math.min(lr.values.length, Math.max(lo + 1, lowerBound(lr.steps, left)));
    const xs = finiteSample(lr.values, lo, hi, 256);
    if (xs.length > 0 && Math.max(...xs) > 1.5 * Math.min(...xs)) return null;
  }
  // A saddle is tiny gradients and ~uniform outputs. Where the SDK logged per-layer gradient norms or
  // update ratios, they must have been well below what they became once the loss fell. Without them,
  // the loss itself: a net whose outputs are ~uniform scores ln C on every minibatch alike (spread
  // within saddle_noise_rel of its level), where a hard task's slow start (a 4x4 checkerboard: an MLP
  // carving its cells at 0.55-0.6 accuracy before its loss falls) has ordinary gradients and minibatch
  // losses that spread by several percent; or a flat start twice as long (plateau_start_share x 2).
  const share = (left - first) / span;
  // A run that went on to fit its data (the loss far below the plateau: <= plateau_recovered_frac of its
  // level) lost nothing it could see at the end: a small-init deep tanh net that sat at ln 2 for half its
  // epochs and ends at 0.01 is a slow start, not a fault; one that ends at 0.35 x its plateau still pays.
  if (lp.recent <= t.plateau_recovered_frac * start) return null;
  const saddle = saddleEvidence(ctx, first, left);
  const spread = saddle === null ? stretchSpread(s, first, left) : null;
  if (saddle !== null ? saddle.ratio < t.saddle_grad_factor : !(spread! <= t.saddle_noise_rel) && share < 2 * t.plateau_start_share) return null;
  const C = ctx.numClasses;
  const atChance = C !== null && C > 1 && Math.abs(start - Math.log(C)) <= 0.05 * Math.log(C);
  return diagnosis(
    "loss_plateau",
    "info",
    first,
    "Loss plateau at the start: training sat on a saddle before it learned",
    `The training loss "${lp.key}" stayed at ${run.j > 0 ? `the level it fell to within its first steps (from ${fmt(curve[0].value)}),` : "its starting level"} ${fmt(start)}${atChance ? ` (ln C for ${C} classes: chance)` : ""} ` +
      `for the first ${Math.round(share * 100)}% of the run (steps ${first}-${left}) before it fell to ${fmt(lp.recent)}. ` +
      `A net whose weights start too small (or whose units all start alike) sits on a saddle point where every ` +
      `gradient is tiny, and plain SGD takes long to leave it: that share of the training time was lost. Initialize ` +
      `with the scale the activation needs (Xavier/Glorot for tanh and sigmoid, He/Kaiming for ReLU), and use momentum ` +
      `or Adam, which leave saddles much faster.`,
    {
      key: lp.key,
      start_level: round(start),
      left_at_step: left,
      flat_share: round(share, 3),
      recent_loss: round(lp.recent),
      ln_c: C !== null && C > 1 ? round(Math.log(C)) : null,
      plateau_start_rel: t.plateau_start_rel,
      plateau_start_share: t.plateau_start_share,
      grad_growth_after: saddle ? round(saddle.ratio, 3) : null,
      stretch_spread_rel: spread !== null && Number.isFinite(spread) ? round(spread, 3) : null,
      grad_growth_from: saddle ? saddle.field : null,
    },
  );
}

/**
 * (median of the window before the recent one - median of the recent window's last quarter) / the latter;
 * 0 when not computable. The latest points, not the recent window's median: the median lags a steep
 * descent by half a window (0.5 where the loss is already at 0.05).
 */
function steepDescent(ctx: Context): number {
  const lp = ctx.loss();
  const named = ctx.keys.scalars.train_loss;
  if (!lp || !named || lp.recentFromIdx < lp.recentPoints) return 0;
  const vs = named.s.values;
  const before = median(finiteSample(vs, lp.recentFromIdx - lp.recentPoints, lp.recentFromIdx));
  const latest = median(finiteSample(vs, Math.max(lp.recentFromIdx, vs.length - Math.ceil(lp.recentPoints / 4)), vs.length));
  return Number.isFinite(before) && latest > 0 ? (before - latest) / latest : 0;
}

/**
 * The relative spread of the raw loss points in [first, left): 1.4826 x their median absolute deviation
 * over their median (a robust coefficient of variation); NaN with fewer than 8 points.
 */
function stretchSpread(s: { steps: number[]; values: number[] }, first: number, left: number): number {
  const xs = finiteSample(s.values, lowerBound(s.steps, first), lowerBound(s.steps, left), 512);
  if (xs.length < 8) return NaN;
  const m = median(xs);
  return m > 0 ? (1.4826 * median(xs.map((x) => Math.abs(x - m)))) / m : NaN;
}

/**
 * How much larger the per-layer gradient norms (else update ratios) became after a flat stretch
 * [first, left) than within it: the median over layers of median(after) / median(within). Null when
 * no layer logged them on both sides (3 points at least each).
 */
export function saddleEvidence(ctx: Context, first: number, left: number): { ratio: number; field: string } | null {
  for (const field of ["grad_norm", "update_ratio"] as const) {
    const ratios: number[] = [];
    for (const f of ctx.keys.layers.values()) {
      const s = f[field]?.s;
      if (!s) continue;
      const lo = lowerBound(s.steps, first);
      const mid = lowerBound(s.steps, left);
      const within = finiteSample(s.values, lo, mid, 256).map(Math.abs);
      const after = finiteSample(s.values, mid, s.values.length, 256).map(Math.abs);
      if (within.length < 3 || after.length < 3) continue;
      const w = median(within);
      const a = median(after);
      if (w > 0 && Number.isFinite(a)) ratios.push(a / w);
    }
    if (ratios.length > 0) return { ratio: median(ratios), field };
  }
  return null;
}
