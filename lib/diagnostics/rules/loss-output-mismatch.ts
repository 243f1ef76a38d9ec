// loss_output_mismatch: the output layer does not fit the loss. A softmax or sigmoid in front of a
// loss that expects raw logits (CrossEntropyLoss, BCEWithLogitsLoss) squeezes every "logit" into
// [0, 1]; the loss then cannot go below the minimum that bounded logits allow, however well the
// model classifies. Also: an output that cannot change at all (a softmax over one unit is always
// 1), and a clipping activation on a regression output (from an `output_stats` event).

import { diagnosis, findNumber, type Context, type Rule } from "../context";
import { accEvals } from "../evals";
import { lastRecords, shareWhere } from "../hist";
import { layerRecent } from "../layers";
import { alignEvals, finitePairs, finiteSample, fmt, lastN, median, round, smoothed, streakStart } from "../series";
import type { Diagnosis } from "../types";
import { expectedInitialLoss } from "./bad-initial-loss";

/**
 * The lowest mean cross-entropy reachable when every logit lies in an interval of width `range`:
 * the true class at the top, the C-1 others at the bottom, so p(true) = 1 / (1 + (C-1) e^-range)
 * and the loss is ln(1 + (C-1) e^-range). For probabilities used as logits (range 1) that is
 * ln(e + C - 1) - 1: 1.46 for 10 classes, 0.313 for 2 (also the floor of a sigmoid fed to
 * BCEWithLogitsLoss: ln(1 + e^-1) for a positive target, more for a negative one).
 */
export function boundedLogitFloor(numClasses: number, range = 1): number {
  return Math.log1p((numClasses - 1) * Math.exp(-range));
}

/**
 * Fano's inequality: a model that errs on a share `err` of C classes can reach a cross-entropy
 * of h(err) + err ln(C-1) (nats) with calibrated logits; a loss far above it at that accuracy is
 * held up by something other than the data.
 */
export function fanoLoss(err: number, numClasses: number): number {
  const e = Math.min(1, Math.max(0, err));
  const h = (p: number) => (p > 0 && p < 1 ? -p * Math.log(p) : 0);
  return h(e) + h(1 - e) + e * Math.log(Math.max(1, numClasses - 1));
}

/**
 * The band a mean cross-entropy must lie in when the C "logits" are probabilities (each in [0, 1],
 * summing to 1) and a share `acc` of the samples is classified right: a right sample costs at least
 * boundedLogitFloor (all mass on the true class) and at most ln C (all equal); a wrong one at least
 * ln(2 e^0.5 + C - 2) - 0.5 (half the mass on the true class, half on another) and at most
 * ln(e + C - 1) (all mass on another class). Free logits reach far below the band's bottom at high
 * accuracy, and overconfident errors far above its top.
 */
export function probabilityLogitBand(acc: number, numClasses: number): { low: number; high: number } {
  const C = numClasses;
  const a = Math.min(1, Math.max(0, acc));
  const wrongLow = Math.log(2 * Math.exp(0.5) + (C - 2)) - 0.5;
  return {
    low: a * boundedLogitFloor(C) + (1 - a) * wrongLow,
    high: a * Math.log(C) + (1 - a) * Math.log(Math.E + C - 1),
  };
}

/**
 * The label smoothing the config names (`label_smoothing`, `smoothing`...: PyTorch's
 * CrossEntropyLoss(label_smoothing=...), Keras's CategoricalCrossentropy(label_smoothing=...)), or 0.
 */
export function labelSmoothingOf(config: Record<string, any>): number {
  const e = findNumber(config, ["label_smoothing", "labelSmoothing", "smoothing", "label_smooth", "ls_eps", "smoothing_eps"]);
  return e !== null && e > 0 && e < 1 ? e : 0;
}

/**
 * The lowest cross-entropy any model reaches against label-smoothed targets: the entropy of the
 * targets themselves (1 - eps + eps / K on the true class, eps / K on each other one), reached when the
 * predicted probabilities equal them. 0 without smoothing.
 */
export function smoothedTargetEntropy(eps: number, numClasses: number): number {
  if (!(eps > 0)) return 0;
  const K = numClasses;
  const h = (p: number) => (p > 0 && p < 1 ? -p * Math.log(p) : 0);
  return h(1 - eps + eps / K) + (K - 1) * h(eps / K);
}

/**
 * What a healthy model with free logits reaches at accuracy `acc`: the Fano loss, or with label
 * smoothing at least the smoothed targets' own entropy (a loss that floors high by design).
 */
function healthyLoss(acc: number, numClasses: number, smoothingFloor: number): number {
  return Math.max(fanoLoss(1 - acc, numClasses), smoothingFloor);
}

const ADVICE_LOGITS =
  "Remove the final softmax/sigmoid from the model and feed the raw scores to the loss " +
  "(nn.CrossEntropyLoss and nn.BCEWithLogitsLoss apply log-softmax / log-sigmoid themselves), or " +
  "keep it and use the matching loss on probabilities (nn.NLLLoss on log-probabilities, nn.BCELoss). " +
  "Apply softmax only when reporting probabilities.";

function boundedOutput(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const lp = ctx.loss();
  const C = ctx.numClasses;
  const e = accEvals(ctx) ?? null;
  const ta = ctx.keys.scalars.train_acc;
  if (!lp || C === null || !ta || !Number.isFinite(lp.recent)) return null;
  const accs = e && e.train.length > 0 ? e.train : finiteSample(ta.s.values, 0, ta.s.values.length).map((x) => x * ctx.accScale("train_acc"));
  if (accs.length < t.min_evals) return null;
  const acc = median(lastN(accs, 3));
  // binary / multi-label cross-entropy: each output is a two-way choice, whatever num_classes says
  const K = expectedInitialLoss(ctx.run.config ?? {}, C)?.formula.startsWith("ln 2") ? 2 : C;
  const floor = boundedLogitFloor(K);
  const smoothing = labelSmoothingOf(ctx.run.config ?? {});
  const smoothFloor = smoothedTargetEntropy(smoothing, K);
  const fano = healthyLoss(acc, K, smoothFloor);
  // accurate enough that a model with free logits would sit far below the floor ...
  if (!(fano < t.output_fano_frac * floor)) return null;
  // ... yet the loss never got below it
  if (lp.n < t.plateau_min_points || !(lp.recent >= t.output_floor_frac * floor) || !(lp.best >= t.output_floor_frac * floor)) return null;
  // and either it has levelled off there (the last plateau_window_frac of the smoothed loss gained
  // < plateau_rel on before), or it has stayed above the floor through a long stretch at that
  // accuracy: a loss creeping towards the floor from above still creeps (small data, Adam), while a
  // model with free logits that is this accurate for that long is far below the floor
  const curve = smoothed(ctx.keys.scalars.train_loss!.s, 0, lp.n);
  const cut = Math.floor(curve.length * (1 - t.plateau_window_frac));
  if (cut < 1 || cut >= curve.length) return null;
  const before = Math.min(...curve.slice(0, cut).map((p) => p.value));
  const within = Math.min(...curve.slice(cut).map((p) => p.value));
  const accurate = accs.filter((a) => healthyLoss(a, K, smoothFloor) < t.output_fano_frac * floor).length;
  const sustained = accurate >= t.min_evals && accurate >= t.output_accurate_share * accs.length;
  if (before - within >= t.plateau_rel * before && !sustained) return null;
  // the same outputs on the validation set reach below what probabilities-as-logits allow: the outputs
  // are free, and what holds the training loss up is a term added to it (an explicit L2 penalty)
  const { val_acc: va, val_loss: vl } = ctx.keys.scalars;
  if (va && vl) {
    const f = finitePairs(alignEvals(va.s, vl.s, ctx.accScale("val_acc"), 1));
    const n = Math.min(3, f.val.length);
    if (n > 0 && median(lastN(f.train, n)) < (1 - t.output_band_slack) * probabilityLogitBand(median(lastN(f.val, n)), K).low) return null;
  }
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    lp.bestStep,
    "The loss cannot go down: the outputs look squashed before a loss that expects logits",
    `Training accuracy is ${fmt(acc)}, yet the training loss "${lp.key}" levels off at ${fmt(lp.recent)} ` +
      `(lowest ${fmt(lp.best)}). At that accuracy a model with raw logits reaches a loss near ` +
      `${fmt(fano)} (Fano bound); ${fmt(floor)} = ln(e + C - 1) - 1 is exactly the lowest cross-entropy ` +
      `possible when the ${K} "logits" are probabilities in [0, 1] (a softmax or sigmoid applied before ` +
      `the loss). The loss then stops giving useful gradients long before the model is confident. ` +
      ADVICE_LOGITS,
    {
      key: lp.key,
      train_acc: round(acc),
      recent_loss: round(lp.recent),
      best_loss: round(lp.best),
      bounded_logit_floor: round(floor),
      fano_loss_at_acc: round(fano),
      num_classes: K,
      output_floor_frac: t.output_floor_frac,
      output_fano_frac: t.output_fano_frac,
      accurate_evals: accurate,
      evals: accs.length,
    },
  );
}

/**
 * Probabilities fed as logits, read at every evaluation rather than at a plateau (a short run whose
 * loss still creeps towards the floor): each (accuracy, loss) pair of training and of validation lies
 * inside the band probabilities-as-logits allow at that accuracy (probabilityLogitBand), several of
 * them accurate enough that free logits would sit well below the band (a calibrated model's loss,
 * the Fano loss, under output_band_fano_frac of its bottom), and none outside it. A healthy run is
 * inside the band while underconfident and leaves it below once accurate; a penalty added to the
 * training loss lifts the training loss only (its validation loss falls below the band); overconfident
 * errors (a learning rate too high, validation inputs processed differently) leave it above. Both
 * sets must show it (a training curve alone can lag its accuracy), and C >= 3.
 */
function lossInProbabilityBand(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const C = ctx.numClasses;
  const lp = ctx.loss();
  if (C === null || !lp || lp.nonFiniteCount > 0) return null;
  const K = expectedInitialLoss(ctx.run.config ?? {}, C)?.formula.startsWith("ln 2") ? 2 : C;
  // two-way outputs: the band's bottom (0.31 at best) is where an underconfident or label-smoothed
  // healthy fit sits too; their squashed outputs are left to the plateau test (boundedOutput)
  if (K < 3) return null;
  const smoothFloor = smoothedTargetEntropy(labelSmoothingOf(ctx.run.config ?? {}), K);
  const { train_acc: ta, val_acc: va, val_loss: vl, train_loss: tl } = ctx.keys.scalars;
  const pairs: { set: string; acc: number; loss: number; low: number; high: number; fano: number }[] = [];
  const add = (set: string, e: ReturnType<typeof alignEvals>) => {
    const f = finitePairs(e);
    for (let i = 0; i < f.val.length; i++) {
      const band = probabilityLogitBand(f.val[i], K);
      pairs.push({ set, acc: f.val[i], loss: f.train[i], ...band, fano: healthyLoss(f.val[i], K, smoothFloor) });
    }
  };
  if (ta && tl) add("train", alignEvals(ta.s, tl.s, ctx.accScale("train_acc"), 1));
  if (va && vl) add("val", alignEvals(va.s, vl.s, ctx.accScale("val_acc"), 1));
  if (pairs.length < t.min_evals) return null;
  const slack = t.output_band_slack;
  if (pairs.some((p) => !(p.loss >= (1 - slack) * p.low && p.loss <= (1 + slack) * p.high))) return null;
  const accurate = pairs.filter((p) => p.fano < t.output_band_fano_frac * p.low);
  if (accurate.length < t.output_band_min_accurate) return null;
  // two sets that agree: one training curve can lag its accuracy (an underconfident, regularised fit)
  if (!accurate.some((p) => p.set === "train") || !accurate.some((p) => p.set === "val")) return null;
  const best = accurate.reduce((a, b) => (b.acc > a.acc ? b : a));
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    lp.bestStep,
    "The loss stays where probabilities used as logits keep it: the outputs look squashed before a loss that expects logits",
    `At ${best.set} accuracy ${fmt(best.acc)} the ${best.set} loss is ${fmt(best.loss)}; a model with raw logits that ` +
      `accurate reaches a loss near ${fmt(best.fano)} (Fano bound), while ${fmt(best.low)} is the lowest cross-entropy ` +
      `possible at that accuracy when the ${K} "logits" are probabilities in [0, 1] (a softmax or sigmoid applied ` +
      `before the loss). All ${pairs.length} evaluations (training and validation) lie between that floor and its ceiling ` +
      `(${fmt(best.high)} there), ${accurate.length} of them accurate enough that raw logits would sit well below it. ` +
      ADVICE_LOGITS,
    {
      set: best.set,
      acc: round(best.acc),
      loss: round(best.loss),
      band_low: round(best.low),
      band_high: round(best.high),
      fano_loss_at_acc: round(best.fano),
      num_classes: K,
      evals: pairs.length,
      accurate_evals: accurate.length,
      output_band_fano_frac: t.output_band_fano_frac,
      output_band_slack: slack,
    },
  );
}

/**
 * NLLLoss fed probabilities instead of log-probabilities: it returns minus the mean probability of the
 * true class, so a classifier's loss sits in [-1, 0] from its start near -1/C and falls towards -1 as
 * it learns. A negative log-likelihood of classes, or a cross-entropy, is never below 0.
 */
function negativeClassLoss(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const lp = ctx.loss();
  const { train_acc: ta, val_acc: va } = ctx.keys.scalars;
  if (!lp || lp.n < t.min_points || (ctx.numClasses === null && !ta && !va)) return null;
  // a loss the config names as something else may be negative by design (a negated similarity, an ELBO)
  const c = ctx.run.config ?? {};
  const said = [c.loss, c.criterion, c.hyperparams?.loss, c.hyperparams?.criterion].filter((x) => typeof x === "string").join(" ");
  if (said !== "" && !/nll|cross|entropy|\bce\b|log[ _-]?loss|likelihood/i.test(said)) return null;
  const s = ctx.keys.scalars.train_loss!.s;
  const v = finiteSample(s.values, 0, s.values.length);
  // every point a mean probability in [0, 1], negated (to rounding), and clearly below 0 recently
  if (v.some((x) => x > 1e-6 || x < -1 - 1e-6) || !(lp.recent < -t.output_negative_min)) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    lp.firstStep,
    "The loss is negative: probabilities are fed to a loss that expects log-probabilities",
    `The training loss "${lp.key}" stays between -1 and 0 (now ${fmt(lp.recent)}, first ${fmt(lp.first)}), which a ` +
      `cross-entropy or negative log-likelihood of classes can never be. nn.NLLLoss returns minus the input at the ` +
      `true class: given softmax probabilities instead of log-probabilities it is minus the mean probability of the ` +
      `true class (about -1/C at the start, -1 at best), and its gradient barely pushes confident mistakes. Apply ` +
      `log_softmax before nn.NLLLoss, or drop the softmax and use nn.CrossEntropyLoss on the raw scores.`,
    { key: lp.key, recent_loss: round(lp.recent), first_loss: round(lp.first), points: lp.n, output_negative_min: t.output_negative_min },
  );
}

/**
 * A KL divergence (nn.KLDivLoss, F.kl_div: distillation, soft targets) is never below 0 when its
 * input is log-probabilities, as the loss expects; given probabilities it returns
 * sum t (log t - p) = -H(t) - <t, p>, below 0 from the first step. A loss the config names as KL
 * divergences and cross-entropies only (sums of terms that are each >= 0) that runs clearly negative
 * for most of its points has its input on the wrong scale.
 */
function negativeKlLoss(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const lp = ctx.loss();
  if (!lp || lp.n < t.min_points) return null;
  const c = ctx.run.config ?? {};
  const said = [c.loss, c.criterion, c.hyperparams?.loss, c.hyperparams?.criterion].filter((x) => typeof x === "string").join(" ");
  if (!/kl ?div|kl_div|kullback|\bkl\b/i.test(said)) return null;
  // a term that may be negative by design (an entropy bonus, an ELBO, a subtracted term) is not a sum of
  // divergences
  if (/elbo|bonus|reward|contrastive|cosine|similarity|\s-\s|minus|negative/i.test(said)) return null;
  const s = ctx.keys.scalars.train_loss!.s;
  const v = finiteSample(s.values, 0, s.values.length);
  const negative = v.filter((x) => x < -t.output_negative_min).length / v.length;
  if (negative < t.no_learning_share || !(lp.recent < -t.output_negative_min)) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    lp.firstStep,
    "The loss is negative: probabilities are fed to a KL divergence that expects log-probabilities",
    `The training loss "${lp.key}" (${said.slice(0, 80)}) is below 0 at ${fmt(negative * 100, 2)}% of its points (now ` +
      `${fmt(lp.recent)}, first ${fmt(lp.first)}), which a KL divergence (or a cross-entropy added to it) can never be. ` +
      `nn.KLDivLoss / F.kl_div take the model's LOG-probabilities as input (and probabilities as target, unless ` +
      `log_target=True): given softmax probabilities it computes sum t (log t - p), negative, and its gradient no longer ` +
      `matches the divergence it should minimize. Pass F.log_softmax(student_logits / T, dim=-1) as the input.`,
    {
      key: lp.key,
      recent_loss: round(lp.recent),
      first_loss: round(lp.first),
      negative_share: round(negative, 3),
      points: lp.n,
      output_negative_min: t.output_negative_min,
    },
  );
}

function constantLoss(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  const lp = ctx.loss();
  if (!lp || lp.n < t.min_points || lp.nonFiniteCount > 0) return null;
  const s = ctx.keys.scalars.train_loss!.s;
  // every logged value, not a sample: one differing point means the output does move
  const v0 = s.values[0];
  const tol = t.output_constant_rel * Math.max(1, Math.abs(v0));
  for (let i = 1; i < s.values.length; i++) if (!(Math.abs(s.values[i] - v0) <= tol)) return null;
  // tiny but non-zero update ratios freeze a full-batch loss too: that is the learning rate's doing
  // (an output that cannot change gets exactly zero gradient, hence ratios of exactly 0)
  const ur = layerRecent(ctx, "update_ratio", t.min_points);
  if (ur.length > 0) {
    const med = median(ur.map((x) => x.recent));
    if (med > 0 && med < t.update_ratio_low) return null;
  }
  // a learning rate of exactly 0 also freezes a full-batch loss: that is not the output's fault
  const lr = ctx.keys.scalars.lr?.s;
  if (lr && lr.values.length > 0 && !(median(finiteSample(lr.values, 0, lr.values.length)) > 0)) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    lp.firstStep,
    "The loss never changes: the output cannot depend on the input",
    `All ${lp.n} logged values of the training loss "${lp.key}" are exactly ${fmt(v0, 6)}, from the first ` +
      `step on, over different minibatches. A loss that does not vary even with the data means the ` +
      `model's output is a constant: typically a softmax over a single output unit (always 1, so ` +
      `cross-entropy is 0 and no gradient flows), a loss computed on a detached or wrong tensor, or a ` +
      `value logged outside the training loop. For two classes use one unit with a sigmoid ` +
      `(BCEWithLogitsLoss) or two units with softmax cross-entropy.`,
    { key: lp.key, value: round(v0, 8), points: lp.n, output_constant_rel: t.output_constant_rel },
  );
}

/**
 * Every watched layer gets exactly zero gradient from the first measurement on, while its weights have an
 * ordinary random spread and the loss is far from 0: the loss does not depend on the parameters at all.
 * Symmetric weights (all zero) also give zero gradients, but their weight std is 0; dead ReLUs block
 * them too, but their units are dead (dead_relu). What is left is an output that cannot move: a softmax
 * over a single unit (always 1; BCELoss then reads log(1 - 1) clamped to -100, so the loss is 100 x the
 * batch's share of negatives, varying with the labels only), an argmax / round / .detach() in the
 * forward pass, a probability clamped at exactly 0 or 1.
 */
export function frozenOutput(ctx: Context): { layers: string[]; loss: number } | null {
  const { t } = ctx;
  const lp = ctx.loss();
  if (!lp || lp.n < t.min_points || !(lp.recent > 1e-3)) return null;
  if (layerRecent(ctx, "dead_frac").some((x) => x.recent > t.dead_frac)) return null;
  const grads = [...layerRecent(ctx, "grad_std", t.min_points), ...layerRecent(ctx, "grad_norm", t.min_points)].filter(
    (g) => !/bias|norm/i.test(g.layer),
  );
  const layers = [...new Set(grads.map((g) => g.layer))];
  if (layers.length < 2) return null;
  // zero at every logged point, not only recently: a gradient that once flowed is another story
  if (!grads.every((g) => g.s.values.every((v) => Math.abs(v) <= t.zero_grad_eps))) return null;
  for (const layer of layers) {
    const ws = ctx.keys.layers.get(layer)?.weight_std?.s;
    // random weights (not one constant): std clearly above 0
    if (!ws || !(median(finiteSample(ws.values, 0, ws.values.length)) > t.symmetric_std_eps)) return null;
  }
  return { layers, loss: lp.recent };
}

function frozenOutputDiagnosis(ctx: Context): Diagnosis | null {
  const f = frozenOutput(ctx);
  if (!f) return null;
  const lp = ctx.loss()!;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    lp.firstStep,
    "No gradient reaches any layer: the output cannot depend on the weights",
    `Every watched layer's gradient is exactly 0 at every measurement (${f.layers.join(", ")}), although the ` +
      `weights have an ordinary random spread (not a symmetric init) and the training loss "${lp.key}" is ` +
      `${fmt(f.loss)}, far from 0. The loss does not depend on the parameters: the model's output is a constant ` +
      `the optimizer cannot move. Typical causes: a softmax over a single output unit (always 1; with BCELoss ` +
      `the loss is then 100 x the batch's share of negatives), an argmax, round or .detach() in the forward ` +
      `pass, or a probability clamped at exactly 0 or 1. For two classes use one unit with a sigmoid ` +
      `(BCEWithLogitsLoss on the raw logit) or two units with softmax cross-entropy.`,
    { key: lp.key, recent_loss: round(f.loss), zero_gradient_layers: f.layers.join(", "), zero_grad_eps: ctx.t.zero_grad_eps },
  );
}

/** The latest `output_stats` event's target range, or null. */
function latestOutputStats(ctx: Context): { yMin: number; yMax: number } | null {
  let last: Record<string, unknown> | null = null;
  for (const ev of ctx.run.events)
    if (ev.type === "output_stats" && ev.data && typeof ev.data === "object") last = ev.data as Record<string, unknown>;
  const [yMin, yMax] = [last?.target_min, last?.target_max];
  return typeof yMin === "number" && typeof yMax === "number" && Number.isFinite(yMin) && Number.isFinite(yMax) ? { yMin, yMax } : null;
}

/** `output_stats` event: { pred_min, pred_max, target_min, target_max } of a regression output. */
function clippedRegression(ctx: Context): Diagnosis | null {
  let last: Record<string, unknown> | null = null;
  let step: number | null = null;
  for (const ev of ctx.run.events) {
    if (ev.type === "output_stats" && ev.data && typeof ev.data === "object") {
      last = ev.data as Record<string, unknown>;
      step = ev.step;
    }
  }
  if (!last) return null;
  const num = (k: string) => (typeof last![k] === "number" && Number.isFinite(last![k]) ? (last![k] as number) : null);
  const [pMin, pMax, yMin, yMax] = [num("pred_min"), num("pred_max"), num("target_min"), num("target_max")];
  if (pMin === null || pMax === null || yMin === null || yMax === null || !(yMax > yMin)) return null;
  const span = yMax - yMin;
  // predictions never below 0 while targets go well below it: ReLU / softplus / sigmoid on the output
  const floored = pMin >= 0 && yMin < -0.1 * span;
  // predictions inside [0, 1] while targets leave it by far: sigmoid on a regression output
  const squashed = pMin >= 0 && pMax <= 1 && (yMax > 1 + 0.1 * span || yMin < -0.1 * span) && span > 1.5;
  // predictions inside [-1, 1] and pressed against a bound (within 3% of it) while the targets go well
  // past that bound: tanh (or hardtanh, a clamp) on a regression output, standardised targets out to
  // +-3. A linear output whose predictions happen to stay inside [-1, 1] does not crowd a bound.
  const pressedHigh = pMax >= 0.97 && yMax > 1 + 0.1 * span;
  const pressedLow = pMin <= -0.97 && yMin < -1 - 0.1 * span;
  const tanhed = !squashed && pMin >= -1 - 1e-6 && pMax <= 1 + 1e-6 && (pressedHigh || pressedLow) && span > 1.5;
  if (!floored && !squashed && !tanhed) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    step,
    "The output layer cannot produce the targets",
    `The model's predictions span [${fmt(pMin)}, ${fmt(pMax)}] while the targets span [${fmt(yMin)}, ${fmt(yMax)}]: ` +
      (squashed
        ? `the outputs stay inside [0, 1], as after a sigmoid, so most targets are out of reach. `
        : tanhed
          ? `the outputs stay inside [-1, 1] and crowd its bound, as after a tanh, so every target beyond it is out of reach and the saturated outputs get no gradient. `
          : `the outputs are never negative, as after a ReLU (or softplus) on the output, so every negative target is out of reach and the units stuck at 0 get no gradient. `) +
      `A regression output should be linear (no activation), or the targets rescaled to the output's range.`,
    { pred_min: round(pMin), pred_max: round(pMax), target_min: round(yMin), target_max: round(yMax) },
  );
}

/**
 * A regression whose output layer is followed by a ReLU-family activation (watch() names an
 * activation after the layer that ran just before it, so `act/<last layer>` is the output's): the
 * recent histograms of that activation hold a large share of outputs exactly at 0, and the loss
 * stays far from fitted. Every target below 0 is out of reach and the clipped outputs get no gradient.
 */
function clippingOutputLayer(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  // classifiers: a ReLU on the logits costs little (unbounded above); regressions only
  if (ctx.numClasses !== null || ctx.keys.scalars.train_acc || ctx.keys.scalars.val_acc) return null;
  const lp = ctx.loss();
  if (!lp || lp.n < t.plateau_min_points || !(lp.initial > 0)) return null;
  // the last layer with weights, in network order, is the output layer
  let out: string | null = null;
  for (const [layer, fields] of ctx.keys.layers) if (fields.update_ratio || fields.weight_std || fields.weight_mean) out = layer;
  if (out === null) return null;
  const hist = ctx.keys.hists.act_hist.get(out);
  if (!hist) return null;
  const recent = lastRecords(hist.records, 3);
  // clipped at exactly 0 from below (a ReLU's range), in every recent record
  if (recent.length === 0 || recent.some((h) => h.edges[0] !== 0)) return null;
  const zeroShares = recent.map((h) => {
    const first = shareWhere(h, (c) => c < h.edges[1]);
    const second = h.counts.length > 1 ? shareWhere(h, (c) => c > h.edges[1] && c < h.edges[2]) : 0;
    // a spike at 0 (several times the next bin), not the low end of a smooth spread
    return first > 4 * second ? first : 0;
  });
  const zeroShare = median(zeroShares);
  if (!(zeroShare >= t.output_zero_share)) return null;
  // a fit that reached its targets is not hurt by the clip (non-negative targets)
  const lossFrac = lp.recent / lp.initial;
  if (!(lossFrac >= t.output_clip_loss_frac)) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    recent[0].step,
    "The output layer cannot produce the targets: a ReLU clips the regression output at 0",
    `The output layer "${out}" is followed by a ReLU-type activation: ${Math.round(zeroShare * 100)}% of its outputs ` +
      `are exactly 0 in the latest histograms of "${hist.key}", and the training loss "${lp.key}" is still ` +
      `${fmt(lossFrac)} of where it started (${fmt(lp.recent)} from ${fmt(lp.initial)}). Every target below 0 is out ` +
      `of reach, and the outputs stuck at 0 get no gradient. A regression output should be linear (no activation ` +
      `after the last layer), or the targets rescaled to the output's range.`,
    {
      output_layer: out,
      zero_share: round(zeroShare),
      recent_loss: round(lp.recent),
      initial_loss: round(lp.initial),
      output_zero_share: t.output_zero_share,
      output_clip_loss_frac: t.output_clip_loss_frac,
    },
  );
}

/** A regression by what the run says of itself: its config's loss or task, or the metrics it logs. */
function isRegression(ctx: Context): boolean {
  if (ctx.numClasses !== null || ctx.keys.scalars.train_acc || ctx.keys.scalars.val_acc) return false;
  const c = ctx.run.config ?? {};
  const said = [c.loss, c.criterion, c.task, c.objective, c.hyperparams?.loss, c.hyperparams?.criterion]
    .filter((x) => typeof x === "string")
    .join(" ")
    .toLowerCase();
  if (/mse|l1|huber|mae|regress|squared/.test(said)) return true;
  // short names and the long ones Keras logs (metrics=["mean_absolute_error"], val_ prefixed)
  for (const key of ctx.run.series.keys())
    if (/(^|[/_])(mae|rmse|mse|r2|mean_(absolute|squared)_error|root_mean_squared_error|r2_score)$/i.test(key)) return true;
  return false;
}

/**
 * A regression whose output layer is followed by a sigmoid or tanh (watch() logs the share of that
 * activation's outputs pinned at a bound as `act/<last layer>/saturated_frac`): a large share pinned
 * while the loss stays far from fitted means the targets lie outside the squashed range.
 */
function squashingOutputLayer(ctx: Context): Diagnosis | null {
  const { t } = ctx;
  if (!isRegression(ctx)) return null;
  const lp = ctx.loss();
  if (!lp || lp.n < t.plateau_min_points || !(lp.initial > 0)) return null;
  let out: string | null = null;
  for (const [layer, fields] of ctx.keys.layers) if (fields.update_ratio || fields.weight_std || fields.weight_mean) out = layer;
  if (out === null) return null;
  const sat = layerRecent(ctx, "saturated_frac").find((x) => x.layer === out);
  if (!sat || !(sat.recent >= t.output_squash_share)) return null;
  // targets the squashed output can reach (an output_stats event: all within [-1, 1]): outputs pinned at
  // a bound are the targets sitting there (a rate or a min-max scaled score with mass at 0 or 1), and a
  // loss that stays up is the targets' noise
  const stats = latestOutputStats(ctx);
  if (stats && stats.yMin >= -1 - 1e-6 && stats.yMax <= 1 + 1e-6) return null;
  const lossFrac = lp.recent / lp.initial;
  if (!(lossFrac >= t.output_clip_loss_frac)) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    streakStart(sat.s, (v) => v >= t.output_squash_share) ?? sat.s.steps[sat.s.steps.length - 1],
    "The output layer cannot produce the targets: a sigmoid or tanh squashes the regression output",
    `The output layer "${out}" is followed by a bounded activation: ${Math.round(sat.recent * 100)}% of its outputs ` +
      `sit pinned at a bound recently ("${sat.key}"), and the training loss "${lp.key}" is still ${fmt(lossFrac)} of ` +
      `where it started (${fmt(lp.recent)} from ${fmt(lp.initial)}). The targets reach beyond the squashed range, ` +
      `so the outputs that try to follow them saturate and get no gradient. A regression output should be linear ` +
      `(no activation after the last layer), or the targets rescaled to the output's range.`,
    {
      output_layer: out,
      saturated_share: round(sat.recent),
      recent_loss: round(lp.recent),
      initial_loss: round(lp.initial),
      output_squash_share: t.output_squash_share,
      output_clip_loss_frac: t.output_clip_loss_frac,
    },
  );
}

export const lossOutputMismatch: Rule = {
  code: "loss_output_mismatch",
  evaluate(ctx) {
    return (
      constantLoss(ctx) ??
      frozenOutputDiagnosis(ctx) ??
      negativeClassLoss(ctx) ??
      negativeKlLoss(ctx) ??
      boundedOutput(ctx) ??
      lossInProbabilityBand(ctx) ??
      clippedRegression(ctx) ??
      clippingOutputLayer(ctx) ??
      squashingOutputLayer(ctx)
    );
  },
};
