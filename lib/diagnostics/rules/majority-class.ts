// majority_class: the model predicts the majority class. On imbalanced data a net that has learned
// nothing about the inputs still scores the majority class's share p by always answering that class,
// and its loss falls from ln C to the entropy of the class priors, where it stops: neither number
// looks like chance, so no_learning cannot see it. Two ways in:
// - the label distribution, from a `label_stats` event (log_label_stats(y) in both SDKs): accuracy
//   at p (within a small share of the minority 1 - p) while the loss is not below the priors' entropy;
// - without it, inferred: accuracy pinned at one value well above chance for most of the run (a net
//   that learns features moves its accuracy; always answering one class scores exactly that class's
//   share on a fixed evaluation set), and a loss that no constant prediction with that share could
//   beat (cross-entropy of a constant prediction >= H(priors) >= h(p), the binary entropy of p).
// A frozen run (learning rate collapsed or ~0, weights not moving) also pins its accuracy: that is
// lr_too_low's business, so this rule needs healthy updates like no_learning.

import { diagnosis, type Context, type Rule } from "../context";
import { accEvals } from "../evals";
import { layerRecent } from "../layers";
import { finiteSample, fmt, lastN, lowerBound, median, recentRange, round, smoothed } from "../series";
import type { RunEvent } from "../types";
import { lrCollapse, lrTooLow } from "./lr-too-low";
import { chanceCeiling, classesOf, perEvalLoss } from "./no-learning";

export interface LabelStats {
  split: string;
  counts: number[];
  total: number;
  /** share of the most frequent class */
  majority: number;
  majorityClass: number;
  /** entropy of the class shares, nats */
  entropy: number;
  step: number | null;
}

const VAL_SPLITS = new Set(["val", "valid", "validation", "eval", "dev", "test"]);

/** "train" or "val" for a label_stats split name (default train). */
function splitRole(split: unknown): "train" | "val" | null {
  if (split === undefined || split === null) return "train";
  if (typeof split !== "string") return null;
  const s = split.trim().toLowerCase();
  if (s === "train" || s === "training") return "train";
  return VAL_SPLITS.has(s) ? "val" : null;
}

/** The latest label_stats event of a split, summarized; null without one. */
export function labelStats(events: readonly RunEvent[], role: "train" | "val"): LabelStats | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type !== "label_stats" || !e.data || typeof e.data !== "object") continue;
    if (splitRole(e.data.split) !== role) continue;
    const counts = e.data.counts;
    if (!Array.isArray(counts) || counts.length < 2) continue;
    let total = 0;
    let top = -1;
    let topIdx = 0;
    for (let k = 0; k < counts.length; k++) {
      const c = counts[k];
      if (typeof c !== "number" || !Number.isFinite(c) || c < 0) return null;
      total += c;
      if (c > top) {
        top = c;
        topIdx = k;
      }
    }
    if (!(total > 0)) continue;
    let entropy = 0;
    for (const c of counts as number[]) if (c > 0) entropy -= (c / total) * Math.log(c / total);
    return { split: String(e.data.split ?? "train"), counts, total, majority: top / total, majorityClass: topIdx, entropy, step: e.step };
  }
  return null;
}

/** Binary entropy h(p) in nats: the least entropy class priors with a majority share p can have. */
export function binaryEntropy(p: number): number {
  if (!(p > 0 && p < 1)) return 0;
  return -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
}

interface Candidate {
  role: "val" | "train";
  accKey: string;
  accs: number[];
  steps: number[];
}

/** Accuracy per evaluation: val (a fixed set scores a constant prediction exactly), then train. */
function candidates(ctx: Context): Candidate[] {
  const out: Candidate[] = [];
  const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
  if (va) {
    const s = va.s;
    const scale = ctx.accScale("val_acc");
    const idx: number[] = [];
    for (let i = 0; i < s.values.length; i++) if (Number.isFinite(s.values[i])) idx.push(i);
    out.push({ role: "val", accKey: va.key, accs: idx.map((i) => s.values[i] * scale), steps: idx.map((i) => s.steps[i]) });
  }
  if (ta) {
    // per-minibatch training accuracy is noisy: with val logged, pair it per evaluation (median of
    // the interval), else take it as logged
    const e = accEvals(ctx);
    if (e && e.steps.length >= ctx.t.min_evals) out.push({ role: "train", accKey: ta.key, accs: e.train, steps: e.steps });
    else {
      const scale = ctx.accScale("train_acc");
      const s = ta.s;
      const idx: number[] = [];
      for (let i = 0; i < s.values.length; i++) if (Number.isFinite(s.values[i])) idx.push(i);
      out.push({ role: "train", accKey: ta.key, accs: idx.map((i) => s.values[i] * scale), steps: idx.map((i) => s.steps[i]) });
    }
  }
  return out;
}

/**
 * Recent smoothed loss of a split (the other split's when that one is not logged), and how much it
 * fell since `sinceStep` (share of its level there).
 */
function recentLoss(ctx: Context, role: "val" | "train", sinceStep: number): { key: string; value: number; drop: number } | null {
  const { val_loss: vl, train_loss: tl } = ctx.keys.scalars;
  const named = (role === "val" ? vl : tl) ?? tl ?? vl;
  if (!named) return null;
  const n = named.s.values.length;
  if (n < Math.min(ctx.t.min_points, ctx.t.min_evals)) return null;
  const { from } = recentRange(n, ctx.t.recent_frac, 3);
  const curve = smoothed(named.s, from, n, n - from >= 64 ? 8 : 1);
  const value = median(curve.map((p) => p.value));
  // the level where the accuracy got pinned: a few points from there on (per-step losses are noisy);
  // a validation loss is one number per evaluation on a whole fixed set, with no minibatch noise to
  // average: its value at that evaluation (a median of the first 3 of 12 evaluations already holds
  // two epochs of the slide: 0.76, 0.66, 0.64 ... 0.63 read as 3% instead of 17%)
  const at = lowerBound(named.s.steps, sinceStep);
  const fromPinned = named === vl && at < n && Number.isFinite(named.s.values[at]);
  const then = fromPinned ? named.s.values[at] : median(finiteSample(named.s.values, at, Math.min(n, at + Math.max(3, Math.ceil((n - at) / 10)))));
  const drop = then > 0 ? (then - value) / then : NaN;
  return Number.isFinite(value) ? { key: named.key, value, drop } : null;
}

/** The updates are healthy: not a learning rate too small or collapsed, weights that move. */
function updatesHealthy(ctx: Context): { ok: boolean; urMed: number | null } {
  const { t } = ctx;
  if (lrCollapse(ctx) || lrTooLow.evaluate(ctx)) return { ok: false, urMed: null };
  const lr = ctx.keys.scalars.lr?.s;
  if (lr) {
    const lrNow = median(finiteSample(lr.values, recentRange(lr.values.length, t.recent_frac, 3).from, lr.values.length));
    if (!(lrNow > 0)) return { ok: false, urMed: null };
  }
  const urAll = layerRecent(ctx, "update_ratio", t.min_points);
  const ur = urAll.filter((x) => x.recent > t.zero_grad_eps);
  if (urAll.length > 0 && ur.length === 0) return { ok: false, urMed: null };
  const urMed = ur.length > 0 ? median(ur.map((x) => x.recent)) : null;
  if (urMed !== null && !(urMed >= t.update_ratio_low_loose)) return { ok: false, urMed };
  return { ok: true, urMed };
}

export const majorityClass: Rule = {
  code: "majority_class",
  evaluate(ctx) {
    const { t } = ctx;
    const cls = classesOf(ctx);
    const statsTrain = labelStats(ctx.run.events, "train");
    const statsVal = labelStats(ctx.run.events, "val");
    // Classes unknown because the loss is logged once an epoch (it cannot tell them): at least 2, the
    // count whose chance level is highest, so "far above chance" holds for any number of classes.
    const C = cls?.C ?? statsTrain?.counts.length ?? statsVal?.counts.length ?? (perEvalLoss(ctx) ? 2 : null);
    if (C === null || C < 2) return null;
    const ceiling = chanceCeiling(ctx, C);

    const cands = candidates(ctx).filter((c) => c.accs.length >= t.min_evals);
    /** Share of the evaluations within tol of p, or null when the recent ones are not, or it rises. */
    const pinned = (accs: number[], p: number, tol: number): number | null => {
      const near = accs.filter((a) => Math.abs(a - p) <= tol).length / accs.length;
      if (near < t.majority_share || !(Math.abs(median(lastN(accs, 3)) - p) <= tol)) return null;
      // not leaving it upwards lately (a net that learns leaves the majority share behind); reaching
      // it from below early on is how a net learns the prior
      const third = Math.max(1, Math.floor(accs.length / 3));
      if (Math.max(...accs.slice(-third)) > p + tol) return null;
      return near;
    };
    // imbalanced enough that always answering one class is far from chance (else: no_learning), and
    // not a perfect score (a majority share of 1 is a one-class data set, not a fault)
    const imbalanced = (p: number) => p > ceiling && p < 1;
    const looseTol = (p: number) => Math.max(t.majority_tol_min, t.majority_tol_frac * (1 - p));
    let found: { cand: Candidate; p: number; tol: number; near: number; stats: LabelStats | null } | null = null;
    // with the labels' distribution: accuracy at the split's majority share, within a small part of
    // the minority share (a model that answers one class almost always)
    for (const cand of cands) {
      const stats = cand.role === "val" ? statsVal : statsTrain;
      if (!stats || !imbalanced(stats.majority)) continue;
      const tol = looseTol(stats.majority);
      const near = pinned(cand.accs, stats.majority, tol);
      if (near !== null) {
        found = { cand, p: stats.majority, tol, near, stats };
        break;
      }
    }
    // inferred: accuracy that does not move at all (to half a point) at a level far above chance —
    // validation first (a fixed set scores a constant answer exactly); every other accuracy logged
    // must be pinned too (a constant answer pins both; a net that fits its training data does not)
    if (!found && cands.length > 0) {
      const cand = cands[0];
      const p = median(lastN(cand.accs, 3));
      const tol = t.majority_tol_min;
      // near 1 a good model and a constant answer look alike without the labels' shares
      // a plateau alone does not tell a majority share from a converged net's accuracy: only a long
      // one (>= majority_inferred_min_evals evaluations at one value) is read as a constant answer
      const atP = cand.accs.filter((a) => Math.abs(a - p) <= tol).length;
      const near = imbalanced(p) && p <= t.majority_inferred_max && atP >= t.majority_inferred_min_evals ? pinned(cand.accs, p, tol) : null;
      const others = cands.slice(1).every((o) => {
        const q = median(lastN(o.accs, 3));
        return q < 1 && q > ceiling && pinned(o.accs, q, looseTol(q)) !== null;
      });
      if (near !== null && others) found = { cand, p, tol, near, stats: null };
    }
    if (found) {
      const { cand, p, tol, near, stats } = found;
      const accNow = median(lastN(cand.accs, 3));
      // a constant prediction's cross-entropy is at least the priors' entropy (>= h(p) when unknown)
      const floor = stats ? stats.entropy : binaryEntropy(p);
      const pinnedFrom = cand.steps[cand.accs.findIndex((a) => Math.abs(a - p) <= tol)];
      const loss = recentLoss(ctx, cand.role, pinnedFrom);
      if (!loss || !(loss.value >= (stats ? t.majority_loss_frac : t.majority_inferred_loss_frac) * floor)) return null;
      // inferred: the loss kept falling while the answers did not change (the probabilities slide
      // towards the priors); a converged good model on a small evaluation set keeps both still
      if (!stats && !(loss.drop >= t.majority_loss_drift)) return null;
      const upd = updatesHealthy(ctx);
      if (!upd.ok) return null;
      const split = cand.role === "val" ? "validation" : "training";
      const why = stats
        ? `the ${split} labels you logged are ${fmt(p * 100, 3)}% class ${stats.majorityClass} (of ${stats.total} labels), and the ` +
          `loss (${fmt(loss.value)} on "${loss.key}") has not gone ${loss.value >= stats.entropy ? "below" : "far below"} the entropy of the class priors (${fmt(stats.entropy)}), ` +
          `which is what a model that ignores its inputs and outputs the class frequencies scores`
        : `${split} accuracy has stayed at ${fmt(p)} for ${fmt(near * 100, 2)}% of the evaluations, a value far above chance ` +
          `(${fmt(1 / C)}) that does not move: a net that uses its inputs changes its accuracy as it learns, while one that ` +
          `always answers the same class scores exactly that class's share. The loss (${fmt(loss.value)} on "${loss.key}") is ` +
          // the rule lets the loss sit a little under the floor (majority_inferred_loss_frac): never say "not below" then
          `${loss.value >= floor ? "not below" : "barely below"} ${fmt(floor)}, the least any constant prediction with that share can score (the binary entropy of ${fmt(p)}), ` +
          `and it fell by ${fmt(loss.drop * 100, 2)}% meanwhile: the probabilities slide towards the class shares while the answers stay the same. ` +
          `Call log_label_stats(y) with the training labels to confirm the class shares`;
      return diagnosis(
        "majority_class",
        "warning",
        pinnedFrom,
        "The model predicts the majority class",
        `The model seems to answer the most frequent class whatever the input: ${why}. On imbalanced data, a ` +
          `net that found nothing better than the class priors gets stuck there, and accuracy hides it. Try: ` +
          `weight the loss by inverse class frequency (CrossEntropyLoss(weight=...)) or resample the classes ` +
          `(WeightedRandomSampler); watch per-class recall, balanced accuracy or F1 instead of accuracy; check that ` +
          `the labels and the inputs line up; a learning rate too small to leave the prior also gets stuck here.`,
        {
          acc_key: cand.accKey,
          loss_key: loss.key,
          recent_acc: round(accNow),
          majority_share: round(p),
          majority_class: stats ? stats.majorityClass : null,
          label_stats: stats !== null,
          num_classes: C,
          chance_acc: round(1 / C),
          share_evals_at_majority: round(near, 3),
          tolerance: round(tol, 3),
          recent_loss: round(loss.value),
          prior_entropy: stats ? round(stats.entropy) : null,
          least_constant_loss: round(floor),
          loss_drop_since_pinned: round(loss.drop, 3),
          median_update_ratio: upd.urMed !== null ? round(upd.urMed, 3) : null,
        },
      );
    }
    return null;
  },
};
