// divergence: NaN/Inf in the loss, a loss far above where it started, or a run that lost all
// the progress it had made.

import { diagnosis, finiteMean, type Context, type Rule } from "../context";
import { fmt, nonFiniteScan, round, streakStart, stridedIndices } from "../series";
import { orderUndecided, unshuffledShape } from "./unshuffled-data";

const ADVICE =
  "Lower the learning rate (try 3-10x lower), add gradient clipping, and check for numerical " +
  "bugs: log(0) or division by zero in the loss, a softmax computed without subtracting the max, " +
  "bad values in the data.";

/**
 * The loss an explosion is measured against: the very first loss (pooled over `pool` points for small
 * batches), and for a classifier at least ln C, what an untrained model scores. Not a median of the
 * first points: a loss that explodes from the second step on (2.31, 1006, 1945, ...) would make the
 * explosion its own reference. ln C keeps a lucky low first batch from turning ordinary loss levels
 * into "3x the start".
 */
export function explosionBase(ctx: Context): number {
  const lp = ctx.loss();
  if (!lp || !(lp.first > 0)) return NaN;
  const C = ctx.numClasses;
  return C !== null && C >= 2 ? Math.max(lp.first, Math.log(C)) : lp.first;
}

export function explodedLevel(ctx: Context): { level: number; initial: number } | null {
  const lp = ctx.loss();
  const base = explosionBase(ctx);
  if (!lp || lp.n < ctx.t.min_points || !(base > 0)) return null;
  const level = Math.max(lp.recent, lp.tail);
  return level > ctx.t.divergence_factor * base ? { level, initial: base } : null;
}

/**
 * The first stretch where the loss stayed above `limit`: at least `need` of 2 x `need` consecutive
 * (strided) points above it (need = max(3, minLen / 2)). An explosion that swings (560, 2.3, 1.5,
 * 1824, 2.1, ...) is still one explosion; one spiky batch is not. With pool > 1 (small batches) each
 * point is read as the mean of the `pool` points from it: single samples far above the mean are chance.
 */
function explodedStreak(s: { steps: number[]; values: number[] }, limit: number, minLen: number, pool = 1) {
  const n = s.values.length;
  const idx = stridedIndices(0, pool > 1 ? Math.max(0, n - pool + 1) : n);
  const need = Math.max(3, Math.ceil(minLen / 2));
  const span = 2 * need;
  const above = idx.map((i) => (pool > 1 ? finiteMean(s.values, i, i + pool) : s.values[i]) > limit);
  for (let k = 0; k < idx.length; k++) {
    if (!above[k]) continue;
    let count = 0;
    let last = k;
    for (let j = k; j < Math.min(idx.length, k + span); j++) {
      if (!above[j]) continue;
      count++;
      last = j;
    }
    if (count < need) continue;
    // extend over later points while the stretch keeps most of its points above the limit
    let end = last;
    for (let j = last + 1; j < idx.length && j - end <= need; j++) if (above[j]) end = j;
    let peak = -Infinity;
    let length = 0;
    for (let j = k; j <= end; j++) {
      if (!above[j]) continue;
      length++;
      const v = pool > 1 ? finiteMean(s.values, idx[j], idx[j] + pool) : s.values[idx[j]];
      if (v > peak) peak = v;
    }
    return { step: s.steps[idx[k]], peak, length };
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

    const base = explosionBase(ctx);
    const limit = ctx.t.divergence_factor * base;
    // After a blow-up the loss is either learning again (below where it started) or back at about its
    // start, where a model that lost everything sits (a classifier at ~ln C): that is not "came back",
    // the run never recovered. One alert tells which (lr_too_high's history says the same).
    const learningAgain = Number.isFinite(lp.tail) && lp.tail < ctx.t.collapse_return_frac * base;

    if (lp.nonFiniteCount > 0) {
      const step = s.steps[lp.nonFiniteFirstIdx];
      const bad = s.values[lp.nonFiniteFirstIdx];
      const finiteNow = lp.lastIsFinite && Number.isFinite(lp.tail) && !(base > 0 && lp.tail > limit);
      const recovered = finiteNow && learningAgain;
      return diagnosis(
        "divergence",
        recovered ? "warning" : "critical",
        step,
        recovered
          ? "Divergence: the loss hit NaN/Inf (and came back)"
          : finiteNow
            ? "Divergence: the loss hit NaN/Inf and training never recovered"
            : "Divergence: the loss is NaN/Inf",
        `The training loss "${lp.key}" became ${bad} at step ${step}` +
          (recovered
            ? ` (${lp.nonFiniteCount} non-finite point(s); it is finite again now). Even a transient NaN can ` +
              `silently corrupt weights or optimizer state. `
            : finiteNow
              ? ` (${lp.nonFiniteCount} non-finite point(s)). It is finite again (${fmt(lp.tail)}) but no lower than ` +
                `where it started (${fmt(base)}): the model lost what it had learned and has not learned since. `
              : `. Once the loss is NaN/Inf the weights are garbage and the run will not recover by itself. `) +
          ADVICE,
        {
          key: lp.key,
          first_bad_step: step,
          first_bad_value: String(bad),
          non_finite_points: lp.nonFiniteCount,
          recovered,
          initial_loss: round(base),
          recent_loss: round(lp.tail),
        },
      );
    }

    const exploded = explodedLevel(ctx);
    if (exploded) {
      const step = streakStart(s, (v) => !(v <= limit)) ?? lp.lastStep;
      return diagnosis(
        "divergence",
        "critical",
        step,
        "Divergence: the loss is exploding",
        `The training loss "${lp.key}" is now around ${fmt(exploded.level)}, more than ` +
          `${ctx.t.divergence_factor}x its starting value ${fmt(base)}. Training is moving away ` +
          `from a solution instead of towards one; the usual cause is a learning rate that is too high, so ` +
          `each step overshoots. ${ADVICE}`,
        {
          key: lp.key,
          initial_loss: round(base),
          recent_loss: round(exploded.level),
          ratio: round(exploded.level / base, 3),
          divergence_factor: ctx.t.divergence_factor,
        },
      );
    }

    // Points of a few samples each, fewer than 4 pools of them so far: one sample's loss is 0.001 or 10
    // around a mean of ln C, and no stretch of them is a level yet (batch size 1, the first ~250 points).
    // Past blow-ups and collapses wait for the pool; NaN/Inf and a loss exploding now do not.
    if (lp.poolWanted > 3 && lp.pool < lp.poolWanted) return null;

    // Exploded earlier and came back under the limit: still worth knowing (the weights went through
    // it). A sustained stretch, not one spiky batch. Learning again: a warning; back at its start: the
    // run never recovered (critical).
    // Data in the same order every epoch (sorted by label): the loss jumps each time a new class's
    // run begins and falls again; those past jumps and returns are the order's (unshuffled_data), not
    // a blow-up, as long as they stay within a sawtooth's size (sorted runs peak at <= 1.8x their start):
    // a stretch beyond divergence_order_factor x the start (1e20 after SGD at lr 3) is a blow-up
    // whatever the order, and a net broken by it can make a sawtooth of its own. The checks above (NaN,
    // exploding now) still stand.
    // Live, in a run whose config says its data is not shuffled, before unshuffled_data can read the
    // order (unshuffled_wait_epochs): a past jump is not judged yet (sorted checkerboard, first epoch:
    // the second class's batches cost 6.0 against a start of 0.75, then the loss came back).
    if (orderUndecided(ctx)) return null;
    const pastAll = base > 0 ? explodedStreak(s, limit, ctx.t.min_points, lp.pool) : null;
    const past = pastAll && (pastAll.peak > ctx.t.divergence_order_factor * base || !unshuffledShape(ctx)) ? pastAll : null;
    if (!past && unshuffledShape(ctx)) return null;
    if (past) {
      return diagnosis(
        "divergence",
        learningAgain ? "warning" : "critical",
        past.step,
        learningAgain ? "Divergence: the loss exploded (and came back)" : "Divergence: the loss exploded and training never recovered",
        `The training loss "${lp.key}" rose to ${fmt(past.peak)} from step ${past.step}, more than ` +
          `${ctx.t.divergence_factor}x its starting value ${fmt(base)}, for ${past.length} logged points` +
          (learningAgain
            ? `, before coming back to ${fmt(lp.tail)}. A blow-up like this usually leaves dead units or a damaged ` +
              `optimizer state behind even when the loss recovers. `
            : `; it is now ${fmt(lp.tail)}, no lower than where it started: the model lost what it had learned and ` + `has not learned since. `) +
          ADVICE,
        {
          key: lp.key,
          initial_loss: round(base),
          peak_loss: round(past.peak),
          exploded_from_step: past.step,
          exploded_points: past.length,
          recent_loss: round(lp.tail),
          recovered: learningAgain,
          divergence_factor: ctx.t.divergence_factor,
        },
      );
    }

    // With pooled points (small batches) every level is a mean of `pool` points, read with its sampling
    // error: the lowest and the latest pooled means, not the luckiest single sample and a median of
    // per-sample losses (which sits far below their mean).
    const lv =
      lp.pool > 1
        ? pooledLevels(s.values, lp.pool, ctx.t.recent_frac)
        : { best: lp.best, recent: lp.recent, tail: lp.tail, bestIdx: -1, bestMean: lp.best, recentMean: lp.recent };
    const bestStep = lv.bestIdx >= 0 ? s.steps[lv.bestIdx] : lp.bestStep;
    if (
      lp.n >= 2 * ctx.t.min_points &&
      lp.initial > 0 &&
      lv.best >= 0 &&
      lv.best <= ctx.t.collapse_best_frac * lp.initial &&
      lv.recent >= ctx.t.collapse_return_frac * lp.initial &&
      lv.tail >= ctx.t.collapse_return_frac * lp.initial
    ) {
      const limit = ctx.t.collapse_return_frac * lp.initial;
      const step = streakStart(s, (v) => !(v < limit)) ?? lp.lastStep;
      return diagnosis(
        "divergence",
        "warning",
        step,
        "Divergence: training collapsed back to its starting loss",
        `The training loss "${lp.key}" had come down to ${fmt(lv.bestMean)} (step ${bestStep}) but is back ` +
          `at ${fmt(lv.recentMean)}, about where it started (${fmt(lp.initial)}). The model has lost what it ` +
          `learned; this is typically one oversized update (learning rate too high, no warmup, a bad batch) ` +
          `knocking the weights into a bad region. Restart from the last good checkpoint with a lower ` +
          `learning rate or warmup, and consider gradient clipping.`,
        {
          key: lp.key,
          initial_loss: round(lp.initial),
          best_loss: round(lv.bestMean),
          best_step: bestStep,
          recent_loss: round(lv.recentMean),
          ...(lp.pool > 1 ? { pooled_points: lp.pool } : {}),
        },
      );
    }
    return null;
  },
};

/** Mean of the finite values among [from, to) and its standard error (sd / sqrt(count)). */
function meanAndSe(values: number[], from: number, to: number): { mean: number; se: number } {
  let sum = 0;
  let sq = 0;
  let k = 0;
  for (let i = Math.max(0, from); i < to; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    sum += v;
    sq += v * v;
    k++;
  }
  if (k === 0) return { mean: NaN, se: NaN };
  const mean = sum / k;
  return { mean, se: k > 1 ? Math.sqrt(Math.max(0, sq / k - mean * mean) / (k - 1)) : Infinity };
}

/**
 * Levels read as means of `pool` consecutive points, each shifted by its standard error towards "no
 * collapse": a mean of 64 single-sample losses (0.0003 to 10 around 1) is still off by ~0.2, and the
 * lowest of many such windows is lower still by chance (by ~2 s.e. for a few dozen windows). best: the
 * lowest window mean (on a strided sample of windows) + 2 s.e.; recent: the mean of the recent window
 * (the last recent_frac of the points, at least `pool`) - 1 s.e.; tail: the last `pool` points' mean - 1 s.e.
 */
function pooledLevels(
  values: number[],
  pool: number,
  recentFrac: number,
): { best: number; recent: number; tail: number; bestIdx: number; bestMean: number; recentMean: number } {
  const n = values.length;
  let best = Infinity;
  let bestIdx = -1;
  let bestSe = 0;
  for (const i of stridedIndices(0, Math.max(0, n - pool + 1))) {
    const m = meanAndSe(values, i, i + pool);
    if (m.mean < best) {
      best = m.mean;
      bestIdx = i;
      bestSe = m.se;
    }
  }
  const recentLen = Math.max(pool, Math.ceil(recentFrac * n));
  const recent = meanAndSe(values, n - recentLen, n);
  const tail = meanAndSe(values, n - pool, n);
  return { best: best + 2 * bestSe, recent: recent.mean - recent.se, tail: tail.mean - tail.se, bestIdx, bestMean: best, recentMean: recent.mean };
}
