// The babysitter: diagnose(run) returns every diagnosis that is active for a run right now.
// Pure and deterministic (no I/O, no clock), cheap enough to call after every batch: rules look
// at bounded strided samples and recent windows, never at all pairs of points.

import { rootCauseOrder } from "./causes";
import { buildContext, type Rule } from "./context";
import { badInitialLoss } from "./rules/bad-initial-loss";
import { deadRelu } from "./rules/dead-relu";
import { divergence } from "./rules/divergence";
import { explodingGradients } from "./rules/exploding-gradients";
import { gradcheckFailed } from "./rules/gradcheck-failed";
import { inputNotNormalized } from "./rules/input-not-normalized";
import { lossOutputMismatch } from "./rules/loss-output-mismatch";
import { lossPlateau } from "./rules/loss-plateau";
import { majorityClass } from "./rules/majority-class";
import { noLearning } from "./rules/no-learning";
import { lrTooHigh } from "./rules/lr-too-high";
import { lrTooLow } from "./rules/lr-too-low";
import { noisyLoss } from "./rules/noisy-loss";
import { overfitSanityFailed } from "./rules/overfit-sanity-failed";
import { overRegularization } from "./rules/over-regularization";
import { overfitting } from "./rules/overfitting";
import { saturatedActivations } from "./rules/saturated-activations";
import { searchBoundary } from "./rules/search-boundary";
import { symmetricInit } from "./rules/symmetric-init";
import { trainValMismatch } from "./rules/train-val-mismatch";
import { underfitting } from "./rules/underfitting";
import { unshuffledData } from "./rules/unshuffled-data";
import { vanishingGradients } from "./rules/vanishing-gradients";
import type { Diagnosis, RunData, Severity } from "./types";

export type { Diagnosis, HistogramRecord, RunData, RunEvent, SeriesPoints, Severity } from "./types";
export { DEFAULT_THRESHOLDS, resolveThresholds } from "./thresholds";
export { runDataFromJsonl } from "./from-jsonl";
export { CAUSES, causes, rootCauseOrder } from "./causes";
export type { Related } from "./causes";

export const RULES: readonly Rule[] = [
  divergence,
  lrTooHigh,
  lrTooLow,
  overfitting,
  underfitting,
  saturatedActivations,
  deadRelu,
  badInitialLoss,
  symmetricInit,
  inputNotNormalized,
  gradcheckFailed,
  lossPlateau,
  vanishingGradients,
  explodingGradients,
  noisyLoss,
  overfitSanityFailed,
  searchBoundary,
  noLearning,
  lossOutputMismatch,
  trainValMismatch,
  unshuffledData,
  majorityClass,
  overRegularization,
];

export const DIAGNOSIS_CODES: readonly string[] = Object.freeze(RULES.map((r) => r.code));

/**
 * When a root cause is diagnosed, its symptoms are not reported as separate problems: a flat loss
 * after symmetric init is not a learning-rate problem, and plateau/fit diagnoses of a diverged
 * run are meaningless.
 */
export const SUPPRESSED_BY: { cause: string; minSeverity: Severity; hides: string[] }[] = [
  {
    cause: "symmetric_init",
    minSeverity: "info",
    hides: ["lr_too_low", "lr_too_high", "dead_relu", "vanishing_gradients", "loss_plateau"],
  },
  { cause: "dead_relu", minSeverity: "critical", hides: ["lr_too_low", "loss_plateau"] },
  // early layers with ~0 gradient have ~0 update ratios whatever the learning rate
  { cause: "vanishing_gradients", minSeverity: "info", hides: ["lr_too_low"] },
  {
    cause: "divergence",
    minSeverity: "critical",
    // a diverged run's shrunken or pinned numbers say nothing about a penalty or the class prior
    hides: ["lr_too_low", "loss_plateau", "noisy_loss", "underfitting", "overfitting", "no_learning", "over_regularization", "majority_class"],
  },
  // a net that cannot pass gradients or has symmetric / dead units learns nothing: not the data's fault
  { cause: "vanishing_gradients", minSeverity: "info", hides: ["no_learning"] },
  { cause: "symmetric_init", minSeverity: "info", hides: ["no_learning"] },
  { cause: "dead_relu", minSeverity: "critical", hides: ["no_learning"] },
  // the loss that stops falling is the squashed output's doing, and a run that learns nothing plateaus
  // (and its floored loss is no constant answer's: an accuracy pinned near 1 is not the majority class);
  // an output that cannot reach some targets leaves those samples' errors in every batch that draws one,
  // so the minibatch loss jumps with how many it drew (a Hardtanh output at +1 with targets up to +5:
  // cv 1.4 at batch 32): noise of the output's making, not the batch size's or the learning rate's
  { cause: "loss_output_mismatch", minSeverity: "info", hides: ["loss_plateau", "underfitting", "lr_too_low", "majority_class", "noisy_loss"] },
  // validation off because its inputs are processed differently: neither memorization (the gap is
  // there from the first evaluation) nor a run that learns nothing (training accuracy is high)
  { cause: "train_val_mismatch", minSeverity: "info", hides: ["overfitting", "no_learning"] },
  // validation never left chance: a widening train/val gap is memorized noise, not overfitting
  { cause: "no_learning", minSeverity: "info", hides: ["loss_plateau", "underfitting", "overfitting"] },
  // batches of one class: per-minibatch dead/saturated shares and the loss's jumps follow the order
  {
    cause: "unshuffled_data",
    minSeverity: "info",
    hides: ["dead_relu", "saturated_activations", "noisy_loss", "loss_plateau"],
  },
  // a frozen learning rate stops the fit whatever the capacity: "add capacity" would be the wrong advice
  { cause: "lr_too_low", minSeverity: "info", hides: ["underfitting"] },
  { cause: "lr_too_high", minSeverity: "info", hides: ["underfitting"] },
  // a penalty that shrank the weights caps the fit where accuracy stops moving: not a constant answer's doing (before
  // majority_class's own entry: a hidden cause hides nothing)
  { cause: "over_regularization", minSeverity: "info", hides: ["majority_class"] },
  // the prior is where a net that ignores its inputs settles: the plateau and the low fit follow from it
  { cause: "majority_class", minSeverity: "info", hides: ["loss_plateau", "underfitting"] },
];

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export interface DiagnoseOptions {
  /** rethrow a rule's exception instead of skipping that rule (tests) */
  strict?: boolean;
  /** run only these codes */
  only?: readonly string[];
}

export function diagnose(run: RunData, options: DiagnoseOptions = {}): Diagnosis[] {
  const ctx = buildContext(run);
  const disabled = new Set<string>(
    Array.isArray(run.config?.babysit?.disable) ? run.config.babysit.disable.filter((x: unknown) => typeof x === "string") : [],
  );
  const found = new Map<string, Diagnosis>();
  for (const rule of RULES) {
    if (disabled.has(rule.code) || (options.only && !options.only.includes(rule.code))) continue;
    try {
      const d = rule.evaluate(ctx);
      if (d) found.set(d.code, d);
    } catch (err) {
      // One broken rule must not take the others (or the ingest path) down with it.
      if (options.strict) throw err;
    }
  }
  for (const s of SUPPRESSED_BY) {
    const cause = found.get(s.cause);
    if (cause && RANK[cause.severity] >= RANK[s.minSeverity]) for (const code of s.hides) found.delete(code);
  }
  const order = new Map(DIAGNOSIS_CODES.map((c, i) => [c, i]));
  const sorted = [...found.values()].sort((a, b) => RANK[b.severity] - RANK[a.severity] || order.get(a.code)! - order.get(b.code)!);
  // root cause first, its symptoms (causedBy) after it, even when a symptom is more severe
  return rootCauseOrder(sorted);
}
