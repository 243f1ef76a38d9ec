// bad_initial_loss: with small random weights a classifier over C classes predicts ~uniform
// probabilities, so its first loss is ~ln C (softmax cross-entropy). Far off = bug or bad init.

import { diagnosis, type Rule } from "../context";
import { finiteSample, fmt, median, round } from "../series";
import { lossPenaltyOf } from "./over-regularization";

/** The loss names the config gives (loss / criterion, top level or under hyperparams), lower case. */
export function lossNamesOf(config: Record<string, any>): string {
  return [config?.loss, config?.hyperparams?.loss, config?.criterion, config?.hyperparams?.criterion]
    .filter((x) => typeof x === "string")
    .join(" ")
    .toLowerCase();
}

/** Expected loss at initialization, or null when the loss is not a classification loss we know. */
export function expectedInitialLoss(config: Record<string, any>, numClasses: number): { value: number; formula: string } | null {
  const loss = lossNamesOf(config);
  if (/mse|l1|l2 loss|huber|regression|mae|ctc|contrastive|triplet/.test(loss)) return null;
  // Losses whose value at a uniform prediction is not ln C, by design: focal loss scales each term by
  // (1 - p)^gamma (0.17 for 2 classes at gamma 2, not 0.69), distillation's KL term is multiplied by
  // T^2 (a start near 9 for 10 classes at T = 3), a sum of terms ("0.7 KL + 0.3 CE", "CE + aux") adds
  // what the others start at; Poisson, dice, quantile and margin losses have their own scales. Their
  // first value says nothing against ln C, high or low.
  if (unknownScaleLoss(config, loss)) return null;
  // multiclass SVM (cs231n): every wrong class contributes the margin 1 when all scores are ~0
  if (/hinge|svm/.test(loss)) return { value: numClasses - 1, formula: "C - 1 (multiclass hinge, margin 1)" };
  // C independent sigmoids (multi-label BCE) average ln 2 per output
  if (/bce|binary|sigmoid|multi-?label/.test(loss)) return { value: Math.log(2), formula: "ln 2 (binary cross-entropy)" };
  return { value: Math.log(numClasses), formula: "ln C (softmax cross-entropy)" };
}

const UNKNOWN_SCALE_LOSS = /focal|kl ?div|kullback|\bkl\b|distil|poisson|dice|tversky|jaccard|lovasz|\biou\b|pinball|quantile|margin|ranking|\+/;

/**
 * Whether the config names a loss whose starting value has no known relation to ln C (see
 * expectedInitialLoss), or a distillation run (a teacher, a distillation temperature): its loss mixes
 * soft targets. A bare `temperature` is not one: logits divided by a temperature under plain
 * cross-entropy start exactly as far from ln C as their scale says (bad_initial_loss's own case).
 */
export function unknownScaleLoss(config: Record<string, any>, lossNames: string): boolean {
  if (UNKNOWN_SCALE_LOSS.test(lossNames)) return true;
  for (const k of ["distill_temperature", "kd_temperature", "teacher", "distillation", "kd_alpha", "focal_gamma"])
    if (config?.[k] !== undefined || config?.hyperparams?.[k] !== undefined) return true;
  const model = typeof config?.model === "string" ? config.model.toLowerCase() : "";
  return /distil|teacher/.test(model);
}

export const badInitialLoss: Rule = {
  code: "bad_initial_loss",
  evaluate(ctx) {
    const { t } = ctx;
    const lp = ctx.loss();
    const C = ctx.numClasses;
    if (!lp || C === null || !Number.isFinite(lp.first)) return null;
    // Only a loss logged before (or right at) the first updates says anything about the init.
    if (lp.firstStep > t.initial_loss_max_step) return null;
    const expected = expectedInitialLoss(ctx.run.config ?? {}, C);
    if (!expected || !(expected.value > 0)) return null;
    // lp.first is one point, or with small batches the mean of the first `pool` points (one sample's
    // loss says nothing about the model: 0.07 or 10 around a mean of ln 3). The pooled points span
    // `pool` updates, and with data sorted by label the model learns the first class within them (a
    // mean far below ln C): the level of the very first points (max(first, median of the first 3),
    // the model before it moved) must be off the same way.
    // Live, with small batches whose pool is not yet complete (the first points are fewer than 4x the
    // loss_pool_samples / batch_size points to average), the initial level is not known yet: a few
    // single-sample losses, 0.07 or 10 around ln C, would be read as the model's. At finish there is
    // no more to come.
    if (lp.poolWanted > 3 && lp.pool < lp.poolWanted && !ctx.run.finished) return null;
    const pooled = lp.pool > 3;
    const ratio = lp.first / expected.value;
    // "Far above" in nats as well as in ratio: 1.5 x ln 2 = 1.04 is only 0.35 nats above a binary
    // model's ln 2, what an ordinary init whose first logits favour the minority class of a 95/5 set
    // by 0.65 scores (p = 0.34 on 95% of the batch). Logits of std up to ~1.4 add up to
    // initial_loss_high_nats; for C >= 8 the ratio is the larger margin anyway.
    const highRatio = Math.max(t.initial_loss_high_ratio, 1 + t.initial_loss_high_nats / expected.value);
    const s = ctx.keys.scalars.train_loss!.s;
    const firstIdx = s.steps.indexOf(lp.firstStep);
    const head = pooled ? Math.max(s.values[firstIdx], median(finiteSample(s.values, firstIdx, firstIdx + 3))) / expected.value : ratio;
    // A penalty the script adds to the loss by hand (config l2_penalty, ...) is in the logged first loss
    // on top of ln C, by an amount the SDK does not see (0.1 x sum w^2 of a digits MLP: 6.9 for ln 10 =
    // 2.3): a high start is the penalty's, not the init's.
    const penalty = lossPenaltyOf(ctx.run.config ?? {});
    const high = penalty === null && ratio > highRatio && head > highRatio;
    // Too low is only meaningful before any update at all (step 0 or 1).
    const low = lp.firstStep <= 1 && ratio < t.initial_loss_low_ratio && head < t.initial_loss_low_ratio;
    if (!high && !low) return null;
    return diagnosis(
      "bad_initial_loss",
      "warning",
      lp.firstStep,
      high ? "Initial loss is much higher than chance" : "Initial loss is suspiciously low",
      (pooled
        ? `The first ${lp.pool} training losses averaged ${fmt(lp.first)} (each point is a batch of ` +
          `${lp.batchSize ?? "a few"} sample(s), so they are read together), but`
        : `The first training loss was ${fmt(lp.first)}, but`) +
        ` a freshly initialized ${C}-class model should start ` +
        `near ${fmt(expected.value)} = ${expected.formula}, because small random weights give ~uniform ` +
        `predictions. ` +
        (high
          ? `A much higher value means the initial scores are far too large: the net starts out confidently ` +
            `wrong and wastes the first part of training undoing it (often: output layer initialized with ` +
            `too large weights, unnormalized inputs, or a regularization term that dominates). Initialize ` +
            `the last layer with small weights (e.g. std 0.01) and check the loss with regularization off.`
          : `A much lower value before any training usually means a bug: the loss is averaged or scaled ` +
            `wrongly, labels leak into the inputs, or num_classes does not match the data (if you ` +
            `deliberately set the output bias to the class priors, ignore this).`),
      {
        first_loss: round(lp.first),
        first_step: lp.firstStep,
        pooled_points: lp.pool,
        expected_loss: round(expected.value),
        num_classes: C,
        ratio: round(ratio, 3),
        initial_loss_high_ratio: t.initial_loss_high_ratio,
        initial_loss_high_nats: t.initial_loss_high_nats,
        initial_loss_low_ratio: t.initial_loss_low_ratio,
      },
    );
  },
};
