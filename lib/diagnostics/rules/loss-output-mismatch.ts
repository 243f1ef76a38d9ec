// loss_output_mismatch: the output layer does not fit the loss. A softmax or sigmoid in front of a
// loss that expects raw logits (CrossEntropyLoss, BCEWithLogitsLoss) squeezes every "logit" into
// [0, 1]; the loss then cannot go below the minimum that bounded logits allow, however well the
// model classifies. Also: an output that cannot change at all (a softmax over one unit is always
// 1), and a clipping activation on a regression output (from an `output_stats` event).

import { diagnosis, type Context, type Rule } from "../context";
import { accEvals } from "../evals";
import { lastRecords, shareWhere } from "../hist";
import { layerRecent } from "../layers";
import { finiteSample, fmt, lastN, median, round, smoothed, streakStart } from "../series";
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
  const fano = fanoLoss(1 - acc, K);
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
  const accurate = accs.filter((a) => fanoLoss(1 - a, K) < t.output_fano_frac * floor).length;
  const sustained = accurate >= t.min_evals && accurate >= t.output_accurate_share * accs.length;
  if (before - within >= t.plateau_rel * before && !sustained) return null;
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
  if (!floored && !squashed) return null;
  return diagnosis(
    "loss_output_mismatch",
    "warning",
    step,
    "The output layer cannot produce the targets",
    `The model's predictions span [${fmt(pMin)}, ${fmt(pMax)}] while the targets span [${fmt(yMin)}, ${fmt(yMax)}]: ` +
      (squashed
        ? `the outputs stay inside [0, 1], as after a sigmoid, so most targets are out of reach. `
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
  for (const key of ctx.run.series.keys()) if (/(^|[/_])(mae|rmse|mse|r2)$/i.test(key)) return true;
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
    return constantLoss(ctx) ?? boundedOutput(ctx) ?? clippedRegression(ctx) ?? clippingOutputLayer(ctx) ?? squashingOutputLayer(ctx);
  },
};
