// over_regularization: weight decay (or another penalty on the weights) dominates the data's
// gradient. The penalty pulls every weight towards 0 until it balances the loss's pull: the weight
// norms shrink to a fraction of their start and stay there, and the fit stops at a level the model
// could beat — training and validation together, no generalization gap (the penalty is doing its
// job too well). In a healthy run weight norms keep their initial scale or grow as features form.

import { diagnosis, type Context, type Rule } from "../context";
import { accEvals, lossEvals } from "../evals";
import { layerRecent, listLayers } from "../layers";
import { finiteSample, fmt, lastN, median, round, smoothed, stridedIndices } from "../series";
import { fitState } from "./fit-state";
import { classesOf } from "./no-learning";
import { heading, trainValLossGap } from "./underfitting";
import { CONSTANT_BY_DESIGN } from "./symmetric-init";

/** A weight-decay setting from the config, when there is one (top level or a usual sub-object). */
export function weightDecayOf(config: Record<string, any>): { name: string; value: number } | null {
  const names = ["weight_decay", "wd", "l2", "l2_reg", "l2_lambda", "weight_decay_rate", "decay"];
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
    // training data
    if (Math.abs(tNow - vNow) >= t.underfit_gap_acc) return null;
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
  // with accuracies logged, they judge (too few evaluations yet: wait for them)
  if (ctx.keys.scalars.train_acc || ctx.keys.scalars.val_acc) return null;
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
    if (layers.length === 0) return null;
    const medRatio = median(layers.map((l) => l.ratio));
    if (!(medRatio <= limit)) return null;
    // At chance, and no weight decay set: the data gives the weights no direction to grow in (a linear
    // model on circles, labels apart from their inputs), so the loss's own pull shrinks them towards
    // 0; no_learning says what is wrong, and there is no penalty to blame.
    if (!(wd && wd.value > 0) && fitState(ctx).state === "chance") return null;
    const cap = capped(ctx);
    if (!cap) return null;
    const shrunk = layers.filter((l) => l.ratio <= limit);
    const step = Math.min(...shrunk.map((l) => l.since));
    return diagnosis(
      "over_regularization",
      "warning",
      step,
      "Over-regularization: the weight penalty shrinks the weights and caps the fit",
      `The weights shrank to ${fmt(medRatio * 100, 2)}% of their starting size (median layer; ` +
        `${listLayers(shrunk.map((l) => ({ layer: l.layer, value: l.ratio })))} of their start) and stayed there, while ` +
        `${cap.text}` +
        (wd ? ` — the config sets ${wd.name} = ${fmt(wd.value)}` : "") +
        `. A penalty on the weights pulls them towards 0 until it balances the data's gradient; when it is too ` +
        `strong that balance sits far from a good fit, and the model underfits although it has the capacity. ` +
        `Try: lower weight_decay (typical: 1e-4 to 5e-4 with SGD, 1e-2 with AdamW) or the L2/L1 term added to ` +
        `the loss by 10x, keep norm-layer weights and biases out of the decay, and reduce dropout if you also use a lot of it.`,
      {
        median_weight_ratio: round(medRatio, 3),
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
