// divergence: NaN/Inf in the loss, a loss far above where it started, or a run that lost all
// the progress it had made.

import { diagnosis, finiteMean, type Context, type Rule } from "../context";
import { fmt, nonFiniteScan, round, streakStart, stridedIndices } from "../series";
import { unshuffledShape } from "./unshuffled-data";

const ADVICE =
  "Lower the learning rate (try 3-10x lower), add gradient clipping, and check for numerical " +
  "bugs: log(0) or division by zero in the loss, a softmax computed without subtracting the max, " +
  "bad values in the data.";

export function explodedLevel(ctx: Context): { level: number; initial: number } | null {
  const lp = ctx.loss();
  if (!lp || lp.n < ctx.t.min_points || !(lp.initial > 0)) return null;
  const level = Math.max(lp.recent, lp.tail);
  return level > ctx.t.divergence_factor * lp.initial ? { level, initial: lp.initial } : null;
}

/**
 * The first run of at least `minLen` consecutive (strided) points above `limit`, if any. With
 * pool > 1 (small batches) each point is read as the mean of the `pool` points from it: five single
 * samples above 3x the mean loss in a row are chance, not an explosion.
 */
function explodedStreak(s: { steps: number[]; values: number[] }, limit: number, minLen: number, pool = 1) {
  const n = s.values.length;
  const idx = stridedIndices(0, pool > 1 ? Math.max(0, n - pool + 1) : n);
  const need = Math.max(3, Math.ceil(minLen / 2));
  let start = -1;
  let peak = -Infinity;
  for (let k = 0; k <= idx.length; k++) {
    const v = k < idx.length ? (pool > 1 ? finiteMean(s.values, idx[k], idx[k] + pool) : s.values[idx[k]]) : NaN;
    if (v > limit) {
      if (start < 0) start = k;
      if (v > peak) peak = v;
      continue;
    }
    if (start >= 0 && k - start >= need) return { step: s.steps[idx[start]], peak, length: k - start };
    start = -1;
    peak = -Infinity;
  }
  return null;
}

export const divergence: Rule = {
  code: "divergence",
  evaluate(ctx) {
    const lp = ctx.loss();
    if (!lp) {
      // No train loss: a non-finite validation loss still means the model blew up.
      const val = ctx.keys.scalars.val_loss;
      if (!val) return null;
      const scan = nonFiniteScan(val.s.values);
      if (scan.count === 0) return null;
      return diagnosis(
        "divergence",
        "critical",
        val.s.steps[scan.first],
        "Divergence: the validation loss became NaN/Inf",
        `The validation loss "${val.key}" became ${val.s.values[scan.first]} at step ${val.s.steps[scan.first]}. ` +
          `NaN/Inf means the weights or activations overflowed; nothing the model computes after ` +
          `that is meaningful. ${ADVICE}`,
        { key: val.key, first_bad_step: val.s.steps[scan.first], non_finite_points: scan.count },
      );
    }
    const s = ctx.keys.scalars.train_loss!.s;

    if (lp.nonFiniteCount > 0) {
      const step = s.steps[lp.nonFiniteFirstIdx];
      const bad = s.values[lp.nonFiniteFirstIdx];
      const recovered = lp.lastIsFinite && Number.isFinite(lp.tail) && !(lp.initial > 0 && lp.tail > ctx.t.divergence_factor * lp.initial);
      return diagnosis(
        "divergence",
        recovered ? "warning" : "critical",
        step,
        recovered ? "Divergence: the loss hit NaN/Inf (and came back)" : "Divergence: the loss is NaN/Inf",
        `The training loss "${lp.key}" became ${bad} at step ${step}` +
          (recovered
            ? ` (${lp.nonFiniteCount} non-finite point(s); it is finite again now). Even a transient NaN can ` +
              `silently corrupt weights or optimizer state. `
            : `. Once the loss is NaN/Inf the weights are garbage and the run will not recover by itself. `) +
          ADVICE,
        {
          key: lp.key,
          first_bad_step: step,
          first_bad_value: String(bad),
          non_finite_points: lp.nonFiniteCount,
          recovered,
          initial_loss: round(lp.initial),
        },
      );
    }

    const exploded = explodedLevel(ctx);
    if (exploded) {
      const limit = ctx.t.divergence_factor * lp.initial;
      const step = streakStart(s, (v) => !(v <= limit)) ?? lp.lastStep;
      return diagnosis(
        "divergence",
        "critical",
        step,
        "Divergence: the loss is exploding",
        `The training loss "${lp.key}" is now around ${fmt(exploded.level)}, more than ` +
          `${ctx.t.divergence_factor}x its starting value ${fmt(lp.initial)}. Training is moving away ` +
          `from a solution instead of towards one; the usual cause is a learning rate that is too high, so ` +
          `each step overshoots. ${ADVICE}`,
        {
          key: lp.key,
          initial_loss: round(lp.initial),
          recent_loss: round(exploded.level),
          ratio: round(exploded.level / lp.initial, 3),
          divergence_factor: ctx.t.divergence_factor,
        },
      );
    }

    // Data in the same order every epoch (sorted by label): the loss jumps each time a new class's
    // run begins and falls again; those past jumps and returns are the order's (unshuffled_data), not
    // a blow-up. The checks above (NaN, exploding now) still stand.
    if (unshuffledShape(ctx)) return null;

    // Exploded earlier and came back under the limit: still worth knowing (the weights went through
    // it), as a warning. A sustained streak, not one spiky batch.
    const past = lp.initial > 0 ? explodedStreak(s, ctx.t.divergence_factor * lp.initial, ctx.t.min_points, lp.pool) : null;
    if (past) {
      return diagnosis(
        "divergence",
        "warning",
        past.step,
        "Divergence: the loss exploded (and came back)",
        `The training loss "${lp.key}" rose to ${fmt(past.peak)} from step ${past.step}, more than ` +
          `${ctx.t.divergence_factor}x its starting value ${fmt(lp.initial)}, for ${past.length} logged points, ` +
          `before coming back to ${fmt(lp.tail)}. A blow-up like this usually leaves dead units or a damaged ` +
          `optimizer state behind even when the loss recovers. ${ADVICE}`,
        {
          key: lp.key,
          initial_loss: round(lp.initial),
          peak_loss: round(past.peak),
          exploded_from_step: past.step,
          exploded_points: past.length,
          recent_loss: round(lp.tail),
          divergence_factor: ctx.t.divergence_factor,
        },
      );
    }

    if (
      lp.n >= 2 * ctx.t.min_points &&
      lp.initial > 0 &&
      lp.best >= 0 &&
      lp.best <= ctx.t.collapse_best_frac * lp.initial &&
      lp.recent >= ctx.t.collapse_return_frac * lp.initial &&
      lp.tail >= ctx.t.collapse_return_frac * lp.initial
    ) {
      const limit = ctx.t.collapse_return_frac * lp.initial;
      const step = streakStart(s, (v) => !(v < limit)) ?? lp.lastStep;
      return diagnosis(
        "divergence",
        "warning",
        step,
        "Divergence: training collapsed back to its starting loss",
        `The training loss "${lp.key}" had come down to ${fmt(lp.best)} (step ${lp.bestStep}) but is back ` +
          `at ${fmt(lp.recent)}, about where it started (${fmt(lp.initial)}). The model has lost what it ` +
          `learned; this is typically one oversized update (learning rate too high, no warmup, a bad batch) ` +
          `knocking the weights into a bad region. Restart from the last good checkpoint with a lower ` +
          `learning rate or warmup, and consider gradient clipping.`,
        {
          key: lp.key,
          initial_loss: round(lp.initial),
          best_loss: round(lp.best),
          best_step: lp.bestStep,
          recent_loss: round(lp.recent),
        },
      );
    }
    return null;
  },
};
