// dead_relu: ReLU units that output 0 for every input get no gradient and never recover.

import { type Context, diagnosis, type Rule } from "../context";
import { lastRecords, shareWhere } from "../hist";
import { layerRecent, listShares } from "../layers";
import { finiteSample, median, noise, quantile, recentRange, round, smoothed, streakStart } from "../series";
import { fitState } from "./fit-state";
import { L1_PENALTY_NAMES, weightDecayOf } from "./over-regularization";
import { orderUndecided } from "./unshuffled-data";

/**
 * The per-batch dead share above which `dead_frac` of the units are dead for good, for batches of B
 * samples. A live unit that is zero on a share z of single inputs misses a whole batch with
 * probability z^B; z = 1 - (1 - dead_zero_frac) / (1 - dead_frac) (0.86 with the defaults, a sparse
 * but healthy layer) makes a batch of one read like per-activation zeros (dead_zero_frac). Large
 * batches: dead_frac itself.
 */
export function deadLimitForBatch(deadFrac: number, deadZeroFrac: number, batch: number): number {
  const z = Math.min(1, Math.max(0, 1 - (1 - deadZeroFrac) / (1 - deadFrac)));
  return Math.max(deadFrac, 1 - (1 - deadFrac) * (1 - z ** batch));
}

/**
 * Read from the loss alone (no accuracy evaluations yet, early in a run): the recent window's median
 * below the window before it by more than 2 standard errors of the difference (a median of k points
 * is off by ~1.25 sigma / sqrt(k), sigma the point-to-point noise). A model still learning that fast
 * is not yet short of its data, whatever share of the way it has come: a sparse layer of a conv net
 * 20% into its run (12 of 32 units silent on a batch, the loss 0.93 -> 0.86 with noise 0.05) is no
 * finding; one whose loss stopped falling with those units silent is. (Two: a loss read as still
 * falling only delays the finding to the next evaluation.)
 */
export function lossStillFalling(ctx: Context): boolean {
  const lp = ctx.loss();
  const named = ctx.keys.scalars.train_loss;
  if (!lp || !named) return false;
  const len = lp.recentPoints;
  const from = lp.recentFromIdx;
  if (from < len) return false;
  const s = named.s;
  const before = median(finiteSample(s.values, from - len, from));
  const nz = noise(s.values, from - len, lp.n);
  const se = Math.SQRT2 * ((1.25 * nz.sigma) / Math.sqrt(len));
  return Number.isFinite(before) && Number.isFinite(se) && before - lp.recent > 2 * se;
}

/**
 * How many units a per-unit share counts: the smallest denominator (up to 4096) that makes every
 * logged share a whole number of units, or Infinity when none does (a share averaged over batches) or
 * fewer than two distinct shares were logged.
 */
export function unitsOf(values: number[]): number {
  const vs = [...new Set(values.filter((v) => Number.isFinite(v) && v > 0 && v < 1))].slice(0, 64);
  // one value alone only bounds the count from below (0.5 is 1 of 2 units or 32 of 64)
  if (vs.length < 2) return Number.POSITIVE_INFINITY;
  for (let d = 2; d <= 4096; d++) if (vs.every((v) => Math.abs(v * d - Math.round(v * d)) < 1e-4)) return d;
  return Number.POSITIVE_INFINITY;
}

/**
 * Activations without a dead state: a unit whose outputs are <= 0 on every input of a batch still
 * passes a gradient (SiLU's slope at -1 is 0.07, GELU's -0.08, a leaky ReLU's its slope) and comes
 * back. The Python SDK counts them in `dead_frac` like ReLUs (share of units <= 0), which for these
 * says where the units sit, not that they are lost: a deep SiLU net whose activations explode reads
 * 100% "dead" in its last layer, the symptom of the growth exploding_gradients names.
 */
export const NO_DEAD_STATE = new Set(["leaky_relu", "leakyrelu", "prelu", "gelu", "silu", "swish", "mish", "selu", "celu", "elu", "softplus"]);

export const deadRelu: Rule = {
  code: "dead_relu",
  evaluate(ctx) {
    const { t, run } = ctx;
    if (ctx.activation !== null && NO_DEAD_STATE.has(ctx.activation)) return null;
    // dead_frac is normally "share of units that never fire on the batch"; some loggers report the
    // share of zero activations instead, where a healthy ReLU layer sits around 0.5.
    const unit = String(run.config?.logging?.dead_frac_unit ?? run.config?.babysit?.dead_frac_unit ?? "");
    const perActivation = /activation|element|value|entr/i.test(unit);
    // Small batches: a batch of one counts every unit that is 0 on that one input, so live units
    // flicker in and out of the count; the limit rises to what live units reach by chance.
    // (config.batch_size, else what the loss's noise says: single-sample losses vary by their level)
    const batch = ctx.batchSize ?? ctx.loss()?.batchSize ?? null;
    const batchLimit =
      batch !== null && t.dead_frac < 1 && t.dead_zero_frac > t.dead_frac ? deadLimitForBatch(t.dead_frac, t.dead_zero_frac, batch) : t.dead_frac;
    const hits: { layer: string; value: number; step: number | null; peak?: number; points?: number }[] = [];
    const seen = new Set<string>();
    let flickered = false;

    for (const x of layerRecent(ctx, "dead_frac")) {
      seen.add(x.layer);
      // Units dead for good are dead on every batch: the lowest per-batch shares bound them. A share
      // that swings from batch to batch (small or single-class batches) is live units missing a batch.
      const n = x.s.values.length;
      const { from } = recentRange(n, t.recent_frac, t.min_points);
      const low = quantile(finiteSample(x.s.values, from, n, 128), t.dead_low_quantile);
      const value = Math.min(x.recent, low);
      // A share that jumps by > dead_flicker from one logged batch to the next counts units that fire
      // on some batches and not on others (tiny or single-class batches): judged like per-activation
      // zeros. A large shuffled batch's share of dead units barely moves: the same units, every batch.
      const flicker = !perActivation && noise(x.s.values, from, n).sigma > t.dead_flicker;
      flickered ||= flicker;
      const layerLimit = perActivation || flicker ? t.dead_zero_frac : batchLimit;
      // A per-unit share moves in steps of 1 / units: a layer is past the limit when it is by a whole
      // unit (64 units at 0.3125 against 0.305 is the limit itself; one of a 2-unit layer's units is 50%)
      const step = perActivation ? 0 : 1 / unitsOf(x.s.values);
      if (value > layerLimit && (value >= t.dead_frac_critical || value - layerLimit >= step)) {
        let peak = value;
        for (const p of smoothed(x.s, 0, n)) if (p.value > peak) peak = p.value;
        hits.push({ layer: x.layer, value, step: streakStart(x.s, (v) => v > layerLimit), peak, points: n });
      }
    }
    const limit = perActivation || flickered ? t.dead_zero_frac : batchLimit;

    // Histograms (layers without dead_frac) can only show "nearly every activation is exactly 0":
    // a spike in the first bin of a histogram that starts at 0.
    const reluNet = ctx.activation === null || /relu/.test(ctx.activation);
    if (reluNet) {
      for (const [layer, { records }] of ctx.keys.hists.act_hist) {
        if (seen.has(layer)) continue;
        const recent = lastRecords(records, 3);
        if (recent.length === 0 || recent.some((h) => Math.abs(h.edges[0]) > 1e-12)) continue;
        const zeroShares = recent.map((h) => {
          const first = shareWhere(h, (c) => c < h.edges[1]);
          const second = h.counts.length > 1 ? shareWhere(h, (c) => c > h.edges[1] && c < h.edges[2]) : 0;
          return first > 10 * second ? first : 0;
        });
        const share = median(zeroShares);
        if (share > t.dead_zero_frac) hits.push({ layer, value: share, step: recent[0].step });
      }
    }

    // Dead units are a finding when they matter. Units that come back were not dead for good (the share
    // fell well below its peak). Below dead_frac_critical most of the layer still works, so the dead
    // part matters only while the model falls short of its data: in a model that fits (train error a
    // small share of chance's) they cost nothing, and in one at chance the live majority would have
    // learned something if anything could be learned (shuffled labels, sorted or empty inputs: the
    // dead units are a symptom, the cause has its own code). A layer (nearly) all dead always matters.
    // "Falls short" = well away from fitting: train error >= dead_poor_frac of chance's (or without
    // accuracy, a loss >= 2 x dead_poor_frac of its start that stopped falling).
    const fit = fitState(ctx);
    const poor =
      fit.state === "unknown" ||
      (fit.state === "short" &&
        fit.shortfall !== null &&
        fit.shortfall >= (fit.from === "loss" ? 2 : 1) * t.dead_poor_frac &&
        !(fit.from === "loss" && lossStillFalling(ctx)));
    // With no evaluation yet (fit unknown), a layer below dead_frac_critical is judged on min_points
    // readings at least: units dead for good stay dead, while a fresh layer's first batches are not yet
    // a level (a GRU's dense layer at 0.59, 0.56, 0.53, then 0.13 once it learned)
    const settled = (h: { points?: number }) => fit.state !== "unknown" || (h.points ?? t.min_points) >= t.min_points;
    // An L1 penalty in the config drives weights, and whole units, to 0 by design: units silent below
    // dead_frac_critical are its sparsity (over_regularization says when it dominates), not units a bad
    // init or a large step killed
    const l1 = weightDecayOf(run.config ?? {}, L1_PENALTY_NAMES);
    const kept = hits.filter(
      (h) =>
        !(h.peak !== undefined && h.value < t.dead_recover_frac * h.peak) && (h.value >= t.dead_frac_critical || (poor && settled(h) && l1 === null)),
    );
    hits.length = 0;
    hits.push(...kept);
    if (hits.length === 0) return null;
    // shuffle=False declared: a sorted order makes single-class batches whose dead shares are the class's;
    // wait until unshuffled_data can judge the order (it then hides this as its artefact)
    if (orderUndecided(ctx)) return null;
    const worst = Math.max(...hits.map((h) => h.value));
    const steps = hits.map((h) => h.step).filter((s): s is number => s !== null);
    return diagnosis(
      "dead_relu",
      worst >= t.dead_frac_critical ? "critical" : "warning",
      steps.length ? Math.min(...steps) : 0,
      "Dead ReLUs: many units never fire",
      `In ${listShares(hits)} of the ReLU units output 0 for every input in the batch. A dead ReLU ` +
        `gets zero gradient, so it never recovers and that part of the network is wasted capacity. ` +
        `Common causes: a learning rate that is too high (one big update pushes the units' inputs ` +
        `negative for good) or a bad initialization/bias. Try a lower learning rate, He/Kaiming init with ` +
        `a zero or small positive bias, normalized inputs, or Leaky ReLU / ELU.`,
      {
        layers: hits.map((h) => h.layer).join(", "),
        worst_dead_frac: round(worst, 3),
        dead_frac: round(limit, 3),
        batch_size: batch,
        fit: fit.state,
        fit_reading: fit.reading || null,
      },
    );
  },
};
