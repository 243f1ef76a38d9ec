// loss_plateau: after real progress, the training loss has been flat for a long stretch (while
// still clearly above 0) at a constant learning rate: time to decay the learning rate.

import { diagnosis, type Rule } from "../context";
import { finiteSample, fmt, lowerBound, median, round, smoothed } from "../series";

export const lossPlateau: Rule = {
  code: "loss_plateau",
  evaluate(ctx) {
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
    const curve = smoothed(s, 0, n);
    const since = curve.find((p) => p.value <= b * (1 + 2 * t.loss_plateau_rel))?.step ?? s.steps[from];
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
      },
    );
  },
};
