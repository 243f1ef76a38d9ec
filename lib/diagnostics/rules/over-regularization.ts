// over_regularization: weight decay (or another penalty on the weights) dominates the data's
// gradient. The penalty pulls every weight towards 0 until it balances the loss's pull: the weight
// norms shrink to a fraction of their start and stay there, and the fit stops at a level the model
// could beat — training and validation together, no generalization gap (the penalty is doing its
// job too well). In a healthy run weight norms keep their initial scale or grow as features form.

import { diagnosis, linearModel, type Context, type Rule } from "../context";
import { accEvals, lossEvals } from "../evals";
import { layerRecent, listLayers } from "../layers";
import { finiteSample, fmt, lastN, median, round, smoothed, stridedIndices } from "../series";
import { fitState } from "./fit-state";
import { classesOf } from "./no-learning";
import { heading, trainValLossGap } from "./underfitting";
import { CONSTANT_BY_DESIGN } from "./symmetric-init";

const DECAY_NAMES = ["weight_decay", "wd", "l2", "l2_reg", "l2_lambda", "weight_decay_rate", "decay"];
// a penalty the training script adds to the loss by hand (the logged training loss includes it)
/** an L1 penalty's weight: its purpose is sparsity, weights (and whole units) driven to 0 */
export const L1_PENALTY_NAMES = ["l1_penalty", "l1", "l1_reg", "l1_lambda", "l1_coef", "l1_weight", "lambda_l1"];
const PENALTY_NAMES = ["l2_penalty", "l2_coef", "l2_weight", "weight_penalty", ...L1_PENALTY_NAMES];

/** A weight-decay setting (or a penalty term's weight) from the config, top level or a usual sub-object. */
export function weightDecayOf(config: Record<string, any>, names = [...DECAY_NAMES, ...PENALTY_NAMES]): { name: string; value: number } | null {
  const places: [string, any][] = [
    ["", config],
    ["hyperparams.", config?.hyperparams],
    ["optimizer.", config?.optimizer],
    ["optim.", config?.optim],
    ["params.", config?.params],
    ["training.", config?.training],
  ];
  for (const [prefix, place] of places) {
    if (!place || typeof place !== "object" || Array.isArray(place)) continue;
    for (const name of names) {
      if (!Object.hasOwn(place, name)) continue;
      const v = place[name];
      if (typeof v === "number" && Number.isFinite(v)) return { name: prefix + name, value: v };
    }
  }
  return null;
}

/** A penalty term the config says the script adds to the loss by hand (the logged loss includes it). */
export function lossPenaltyOf(config: Record<string, any>): { name: string; value: number } | null {
  const p = weightDecayOf(config, PENALTY_NAMES);
  return p && p.value > 0 ? p : null;
}

const numberAt = (config: Record<string, any>, names: string[]): number | null => {
  for (const place of [config, config?.hyperparams, config?.optimizer, config?.optim, config?.training]) {
    if (!place || typeof place !== "object" || Array.isArray(place)) continue;
    for (const n of names) if (typeof place[n] === "number" && Number.isFinite(place[n])) return place[n];
  }
  return null;
};

/** The momentum an optimizer's name states ("sgd(momentum=0.9)", "sgd, momentum 0.95"), or null. */
function momentumInName(name: string): number | null {
  const m = /momentum\s*[=:]?\s*(0?\.\d+|1(?:\.0*)?|0)\b/.exec(name);
  const v = m ? Number(m[1]) : Number.NaN;
  return Number.isFinite(v) && v >= 0 && v < 1 ? v : null;
}

/**
 * The share of every weight that the decay alone takes away per step, where the config says enough to
 * know it: SGD's coupled decay is lr x wd a step, 1 / (1 - momentum) times that once momentum has built
 * up; AdamW's decoupled decay is lr x wd. (Adam's or RMSprop's coupled decay is divided by the gradient
 * scale: unknown here, null.)
 */
export function decayPerStep(config: Record<string, any>): { perStep: number; halfLife: number; wd: number; lr: number } | null {
  const wd = weightDecayOf(config, DECAY_NAMES);
  const lr = numberAt(config, ["lr", "learning_rate"]);
  const opt = [config?.optimizer, config?.optimizer?.name, config?.optimizer?.type, config?.hyperparams?.optimizer].find(
    (x) => typeof x === "string",
  ) as string | undefined;
  if (!wd || !(wd.value > 0) || lr === null || !(lr > 0) || !opt) return null;
  const o = opt.toLowerCase();
  let perStep: number;
  if (o.startsWith("sgd") || o.includes("nesterov")) {
    // momentum as a config key, else as the optimizer's name writes it ("SGD(momentum=0.9)", "sgd momentum 0.9")
    const m = numberAt(config, ["momentum"]) ?? momentumInName(o) ?? 0;
    perStep = (lr * wd.value) / (1 - Math.min(Math.max(m, 0), 0.99));
  } else if (o.includes("adamw") || o.includes("decoupled")) perStep = lr * wd.value;
  else return null;
  if (!(perStep > 0 && perStep < 1)) return null;
  return { perStep, halfLife: Math.log(2) / -Math.log(1 - perStep), wd: wd.value, lr };
}

interface Shrink {
  layer: string;
  key: string;
  start: number;
  recent: number;
  ratio: number;
  /** first logged step where it was at or below the shrink threshold */
  since: number;
}

/** Per layer: recent weight std (else norm-like std of a mean-free layer) over its start. */
function shrinkage(ctx: Context, limit: number): Shrink[] {
  const out: Shrink[] = [];
  for (const st of layerRecent(ctx, "weight_std", ctx.t.min_points)) {
    const head = finiteSample(st.s.values, 0, Math.min(3, st.s.values.length));
    const start = median(head);
    if (!(start > 0) || !(st.recent >= 0)) continue;
    // parameters that start at 0 or constant by design (biases, norm gains) tell nothing here
    if (CONSTANT_BY_DESIGN.test(st.layer)) continue;
    let since = st.s.steps[st.s.steps.length - 1];
    for (const i of stridedIndices(0, st.s.values.length)) {
      if (st.s.values[i] <= limit * start) {
        since = st.s.steps[i];
        break;
      }
    }
    out.push({ layer: st.layer, key: st.key, start, recent: st.recent, ratio: st.recent / start, since });
  }
  return out;
}

/**
 * No generalization gap worth the name: training accuracy above validation by less than
 * underfit_gap_acc, or by at most underfit_gap_share of the training error (the validation error is
 * mostly the training error). Validation above training is no gap.
 */
function smallGap(ctx: Context, tNow: number, vNow: number): boolean {
  const { t } = ctx;
  const gap = tNow - vNow;
  return gap < t.underfit_gap_acc || gap <= t.underfit_gap_share * (1 - tNow);
}

/** The fit is capped: train and val both stalled at a level short of fitting the training data. */
function capped(ctx: Context): { evidence: Record<string, number | string | null>; text: string } | null {
  const { t } = ctx;
  const e = accEvals(ctx);
  if (e && e.steps.length >= Math.max(t.min_evals, 6)) {
    const tNow = median(lastN(e.train, 3));
    const vNow = median(lastN(e.val, 3));
    const cls = classesOf(ctx);
    const untrainedErr = cls ? 1 - 1 / cls.C : 1 - e.train[0];
    // no generalization gap, in accuracy or loss: the penalty keeps the model from fitting even its
    // training data. A gap is training above validation (validation above training — a training
    // accuracy read under dropout or a penalty — is none), and it must be the smaller part of the
    // validation error: a penalty that holds a 3-arm spiral MLP at 0.64 train / 0.58 val (error 0.36)
    // leaves a 0.06 gap that is not what keeps it from fitting.
    if (!smallGap(ctx, tNow, vNow)) return null;
    const lossGap = trainValLossGap(ctx);
    if (lossGap !== null && lossGap >= t.underfit_loss_gap_rel) return null;
    // and it is not heading anywhere better (underfitting's projection of the accuracy curve)
    // and it is not heading anywhere better (underfitting's projection of the accuracy curve), or the
    // run ended so
    const floor = t.underfit_err_frac * untrainedErr;
    const head = heading(e.train, t.plateau_delta_acc, t.underfit_slowdown);
    const headingPoor = head !== null && 1 - head.ceiling >= floor;
    if (!headingPoor && !(ctx.run.finished && 1 - tNow >= floor)) return null;
    return {
      evidence: { train_acc: round(tNow), val_acc: round(vNow), projected_train_acc: head ? round(head.ceiling, 3) : null },
      text: `training accuracy ${head?.plateau ? "stalled" : headingPoor ? "is levelling off" : "ended"} at ${fmt(tNow)} with validation at ${fmt(vNow)} (no gap)`,
    };
  }
  // with both accuracies logged, they judge (too few evaluations yet: wait for them); an accuracy of
  // one split only (a training accuracy beside a validation loss) compares nothing: the losses judge
  if (e) return null;
  // loss only: the training loss levelled off well above its best possible (train ~ val)
  const lp = ctx.loss();
  if (!lp || lp.n < 3 * t.min_points || !(lp.initial > 0)) return null;
  const { train_loss: tl } = ctx.keys.scalars;
  const curve = smoothed(tl!.s, 0, tl!.s.values.length);
  if (curve.length < 6) return null;
  const cut = Math.floor(curve.length * (1 - t.plateau_window_frac));
  const before = Math.min(...curve.slice(0, cut).map((p) => p.value));
  const after = Math.min(...curve.slice(cut).map((p) => p.value));
  if (!(before > 0) || (before - after) / before >= t.plateau_rel) return null;
  // far from fitting: still a sizeable share of the starting loss (a converged loss is ~0)
  if (lp.recent < t.overreg_loss_frac * lp.initial) return null;
  const le = lossEvals(ctx);
  if (le && le.steps.length >= t.min_evals) {
    const tNow = median(lastN(le.train, 3));
    const vNow = median(lastN(le.val, 3));
    if (!(tNow > 0) || Math.abs(vNow - tNow) / tNow >= t.underfit_loss_gap_rel) return null;
  }
  return {
    evidence: { recent_loss: round(lp.recent), initial_loss: round(lp.initial) },
    text: `the training loss levelled off at ${fmt(lp.recent)} (from ${fmt(lp.initial)})`,
  };
}

/**
 * With a decay that fast: the accuracies sit together and flat, and the training set is not fit
 * (train error >= overreg_held_err and >= half the validation error: no generalization gap at all,
 * where a free model of that capacity fits its training data well past its validation). Softer than
 * capped(): a digits MLP held at 0.93-0.95 train / val is within 10% of an untrained model's error.
 */
function heldDown(ctx: Context): { evidence: Record<string, number | string | null>; text: string } | null {
  const { t } = ctx;
  const e = accEvals(ctx);
  if (!e || e.steps.length < Math.max(t.min_evals, 6)) return null;
  const tNow = median(lastN(e.train, 3));
  const vNow = median(lastN(e.val, 3));
  const tErr = 1 - tNow;
  if (!smallGap(ctx, tNow, vNow) || !(tErr >= t.overreg_held_err) || !(tErr >= 0.5 * (1 - vNow))) return null;
  const lossGap = trainValLossGap(ctx);
  if (lossGap !== null && lossGap >= t.underfit_loss_gap_rel) return null;
  const head = heading(e.train, t.plateau_delta_acc, t.underfit_slowdown);
  if (!head?.plateau && !ctx.run.finished) return null;
  return {
    evidence: { train_acc: round(tNow), val_acc: round(vNow), projected_train_acc: head ? round(head.ceiling, 3) : null },
    text: `training accuracy ${head?.plateau ? "stalled" : "ended"} at ${fmt(tNow)} with validation at ${fmt(vNow)} (no gap: the training set is not fit)`,
  };
}

export const overRegularization: Rule = {
  code: "over_regularization",
  evaluate(ctx) {
    const { t } = ctx;
    // Healthy training keeps the weights' initial scale or grows it as features form. Shrunk to half
    // is the penalty's doing whatever the config says (an L2/L1 term added to the loss by hand
    // shrinks them just the same); a milder shrink counts when the config sets a weight decay.
    const wd = weightDecayOf(ctx.run.config ?? {});
    const limit = wd && wd.value > 0 ? t.overreg_shrink_wd_frac : t.overreg_shrink_frac;
    const layers = shrinkage(ctx, limit);
    const medRatio = layers.length > 0 ? median(layers.map((l) => l.ratio)) : NaN;
    // With a penalty set, one layer halved is the penalty's doing too: the output layer grows back to
    // keep the logits' scale while the wide hidden layer (most of the squared weights) shrinks (digits,
    // 0.1 x sum w^2 added to the loss: fc1 at 30% of its start, the head at 108%).
    const halved = wd && wd.value > 0 ? layers.filter((l) => l.ratio <= t.overreg_shrink_frac) : [];
    // Or the decay alone halves every weight within overreg_decay_half_life steps (SGD momentum 0.9,
    // lr 0.05, wd 0.05: 2.5% a step, half-life 27 steps): the weights sit at the penalty's balance from
    // the first epoch on, so they need not shrink from their start to be held down.
    const decay = decayPerStep(ctx.run.config ?? {});
    const fastDecay = decay !== null && decay.halfLife <= t.overreg_decay_half_life ? decay : null;
    const shrinkSeen = medRatio <= limit || halved.length > 0;
    if (!shrinkSeen && !fastDecay) return null;
    // At chance, and no weight decay set: the data gives the weights no direction to grow in (a linear
    // model on circles, labels apart from their inputs), so the loss's own pull shrinks them towards
    // 0; no_learning says what is wrong, and there is no penalty to blame.
    if (!(wd && wd.value > 0) && fitState(ctx).state === "chance") return null;
    // A linear model, and no penalty named (no weight decay, none added to the loss): it has no features
    // to grow, and its best weights can be far smaller than a random init's, which spreads weight over
    // every input; the loss itself takes back the weight on inputs that do not predict the target (a
    // linear model on the adding problem: 2 of 40 inputs matter, weight std x0.47 while the MSE levels
    // off at 0.15, just under the 0.167 baseline). Its capped fit is a capacity limit, underfitting's.
    if (!(wd && wd.value > 0) && lossPenaltyOf(ctx.run.config ?? {}) === null && linearModel(ctx) !== null) return null;
    const cap = capped(ctx) ?? (fastDecay ? heldDown(ctx) : null);
    if (!cap) return null;
    const shrunk = medRatio <= limit ? layers.filter((l) => l.ratio <= limit) : halved;
    const firstStep = ctx.keys.scalars.train_loss?.s.steps[0] ?? 0;
    const step = shrunk.length > 0 ? Math.min(...shrunk.map((l) => l.since)) : firstStep;
    const weightsText =
      shrunk.length > 0
        ? `The weights shrank to ${fmt((medRatio <= limit ? medRatio : Math.min(...shrunk.map((l) => l.ratio))) * 100, 2)}% of their starting size (${medRatio <= limit ? "median layer; " : ""}` +
          `${listLayers(shrunk.map((l) => ({ layer: l.layer, value: l.ratio })))} of their start) and stayed there, while `
        : `The weight decay alone takes ${fmt(fastDecay!.perStep * 100, 2)}% of every weight each step (lr ${fmt(fastDecay!.lr)} x ` +
          `weight_decay ${fmt(fastDecay!.wd)}${/sgd|nesterov/i.test(String(ctx.run.config?.optimizer ?? "")) ? ", with momentum" : ""}: it would halve them every ` +
          `${fmt(fastDecay!.halfLife, 2)} steps), so the weights sit where that pull balances the data's from the first epoch on, while `;
    return diagnosis(
      "over_regularization",
      "warning",
      step,
      "Over-regularization: the weight penalty shrinks the weights and caps the fit",
      weightsText +
        `${cap.text}` +
        (wd ? ` — the config sets ${wd.name} = ${fmt(wd.value)}` : "") +
        `. A penalty on the weights pulls them towards 0 until it balances the data's gradient; when it is too ` +
        `strong that balance sits far from a good fit, and the model underfits although it has the capacity. ` +
        `Try: lower weight_decay (typical: 1e-4 to 5e-4 with SGD, 1e-2 with AdamW) or the L2/L1 term added to ` +
        `the loss by 10x, keep norm-layer weights and biases out of the decay, and reduce dropout if you also use a lot of it.`,
      {
        median_weight_ratio: Number.isFinite(medRatio) ? round(medRatio, 3) : null,
        decay_per_step: decay ? round(decay.perStep, 3) : null,
        decay_half_life_steps: decay ? round(decay.halfLife, 3) : null,
        shrunk_layers: shrunk.map((l) => l.layer).join(", "),
        layers: shrunk.map((l) => l.layer).join(", "),
        keys: shrunk.map((l) => l.key).join(", "),
        shrink_limit: limit,
        weight_decay: wd ? wd.value : null,
        weight_decay_key: wd ? wd.name : null,
        ...cap.evidence,
      },
    );
  },
};
