// noisy_loss: the minibatch loss jumps around by a large fraction of its level.

import { diagnosis, type Rule } from "../context";
import { fmt, round } from "../series";
import { fitState } from "./fit-state";

export const noisyLoss: Rule = {
  code: "noisy_loss",
  evaluate(ctx) {
    const { t } = ctx;
    const lp = ctx.loss();
    if (!lp || lp.recentPoints < t.noisy_min_points || !(lp.initial > 0) || !(lp.recent > 0)) return null;
    // Relative noise alone is not enough: near convergence the per-minibatch loss of even a
    // healthy run wiggles by a large fraction of its (small) level. It must also be large on the
    // scale of the loss itself.
    // Points of 1-4 samples (config batch_size) are per-sample losses: noisy by nature, whatever their
    // level. A converged model's per-sample losses are tiny on most examples and large on a few, so the
    // scale test would hide exactly the noise the batch makes. (A batch size read from the first
    // points' spread is not enough here: a smooth loss with large relative jitter reads the same.)
    const sigma = lp.recentCv * lp.recent;
    const fewSamples = ctx.batchSize !== null && ctx.batchSize <= t.noisy_small_batch;
    // The noise is read from the recent window's step-to-step differences, to within noiseSe (~21 % of
    // itself over 30 points): it counts when it is above the limits by more than twice that (a batch of
    // 16 on a noisy regression reads 0.48-0.52 from window to window against a limit of 0.5; twice, as
    // the test repeats at every evaluation).
    // With points of 1-4 samples (config batch_size) the config says it: every point is the loss of a
    // few samples, a gradient step from as few, whatever spread this stretch shows (batch size 1 on
    // iris at lr 1e-3, a model still unsure of every sample: per-sample losses 0.3-1.2, spread 0.42 of
    // the level).
    if (!fewSamples && !(lp.recentCvLow > t.noisy_loss_cv)) return null;
    if (!fewSamples && !(lp.recentCvLow * lp.recent > t.noisy_loss_scale * lp.initial)) return null;
    // A model that fits its data (fit_err_frac) left a few hard examples: a minibatch that holds one
    // costs many times the average, so the loss of a converged net wiggles by more than its own low
    // level, and nothing is hidden by it (an 85/15 problem learned to 0.97: cv 1.2 at a level of 0.09).
    if (!fewSamples && fitState(ctx).state === "fits") return null;
    const s = ctx.keys.scalars.train_loss!.s;
    return diagnosis(
      "noisy_loss",
      "info",
      s.steps[lp.recentFromIdx],
      "Noisy loss: the training loss jumps around a lot",
      `From one logged point to the next the training loss "${lp.key}" varies by about ` +
        `${fmt(lp.recentCv * 100, 2)}% of its level (${fmt(lp.recent)}). Such noise hides whether training ` +
        `progresses and usually means each step follows a poor estimate of the gradient: the batch is too ` +
        `small, or the learning rate is on the high side.` +
        (lp.pool > 1 || fewSamples
          ? ` Here each point is the loss of ${lp.batchSize === 1 ? "a single sample" : `about ${lp.batchSize} samples`}` +
            (lp.poolReason === "batch_size" ? " (config batch_size)" : " (read from how much the first points differ)") +
            `: the batch is the likely cause; babysit reads levels over ${lp.pool} points here.`
          : "") +
        ` Try a larger batch (or gradient accumulation), ` +
        `a lower learning rate, and check the data for outliers or mislabelled examples.`,
      {
        key: lp.key,
        noise_cv: round(lp.recentCv, 3),
        noise_vs_initial: round(sigma / lp.initial, 3),
        level: round(lp.recent),
        window_points: lp.recentPoints,
        batch_size: lp.batchSize,
        batch_size_from: fewSamples ? "batch_size" : lp.pool > 1 ? lp.poolReason : null,
        noisy_small_batch: t.noisy_small_batch,
        noisy_loss_cv: t.noisy_loss_cv,
        noisy_loss_scale: t.noisy_loss_scale,
      },
    );
  },
};
