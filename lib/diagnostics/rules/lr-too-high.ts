// lr_too_high: the loss explodes or bounces around a high level, and/or each step changes the
// weights by far more than the ~1e-3 of their size that cs231n suggests.

import { diagnosis, type Rule } from "../context";
import { layerRecent, listLayers } from "../layers";
import type { Context } from "../context";
import { finiteSample, fmt, median, round, smoothed, streakStart, stridedIndices } from "../series";
import { divergence, explodedLevel } from "./divergence";
import { fitState } from "./fit-state";
import { decayPerStep } from "./over-regularization";

/**
 * Layers whose update/weight ratio stayed above lr_high_sustained_ratio in every third of the run
 * (median of each third), leaving out layers whose weights shrank below
 * lr_high_sustained_shrink_frac of their start (weight decay makes every step big relative to
 * shrinking weights). Null unless they are at least half of the layers that log ratios, and not
 * a lone adaptive head (loneAdaptiveHead).
 */
export function sustainedHighRatios(ctx: Context): { layers: { layer: string; value: number; step: number }[]; of: number } | null {
  const { t } = ctx;
  const out: { layer: string; value: number; step: number }[] = [];
  // the share of each ratio that weight decay takes (see the update-ratio reading in the rule)
  const decayShare = decayPerStep(ctx.run.config ?? {})?.perStep ?? 0;
  let of = 0;
  for (const [layer, f] of ctx.keys.layers) {
    const s = f.update_ratio?.s;
    if (!s || s.values.length < 3 * t.min_points) continue;
    of++;
    const ws = f.weight_std?.s;
    if (ws && ws.values.length > 0) {
      const first = ws.values.find(Number.isFinite);
      const now = median(finiteSample(ws.values, Math.max(0, ws.values.length - t.min_points), ws.values.length));
      if (first !== undefined && now < t.lr_high_sustained_shrink_frac * first) continue;
    }
    const n = s.values.length;
    const thirds = [0, 1, 2].map((k) => median(finiteSample(s.values, Math.floor((k * n) / 3), Math.floor(((k + 1) * n) / 3), 128)));
    if (thirds.every((m) => m - decayShare > t.lr_high_sustained_ratio))
      out.push({ layer, value: median(finiteSample(s.values, 0, n, 128)), step: s.steps[0] });
  }
  return of > 0 && out.length * 2 >= of && !loneAdaptiveHead(ctx) ? { layers: out, of } : null;
}

/**
 * Only one layer logs update ratios (what watch() sees of an LSTM or GRU is its linear head: it does
 * not report the recurrent weights) and the optimizer normalises its steps (Adam, RMSprop, Adagrad...):
 * each weight then moves by ~lr a step whatever the gradient, so the ratio is lr / |w| by construction
 * (lr 3e-3 on a head of weights ~0.1 reads 0.03; 0.1-0.3 in its first steps) and says nothing about
 * overshooting unless the loss does. With SGD a ratio follows the gradient and a lone layer's counts.
 */
export function loneAdaptiveHead(ctx: Context): boolean {
  let layers = 0;
  for (const f of ctx.keys.layers.values()) if (f.update_ratio) layers++;
  const c = ctx.run.config ?? {};
  const opt = [c.optimizer, c.optimizer?.name, c.optimizer?.type, c.hyperparams?.optimizer, c.optim].find((x) => typeof x === "string");
  return layers === 1 && typeof opt === "string" && /adam|rmsprop|adagrad|adadelta|adafactor|lamb|lion|nadam/i.test(opt);
}

/** The first jump of the logged lr to >= lr_jump_factor x its highest earlier value. */
export function lrJump(ctx: Context): { step: number; before: number; after: number; key: string } | null {
  const named = ctx.keys.scalars.lr;
  if (!named) return null;
  const { steps, values } = named.s;
  let max = -Infinity;
  let seen = 0;
  for (const i of stridedIndices(0, values.length)) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (seen >= ctx.t.lr_jump_min_points && max > 0 && v >= ctx.t.lr_jump_factor * max)
      return { step: steps[i], before: max, after: v, key: named.key };
    if (v > max) max = v;
    seen++;
  }
  return null;
}

/**
 * The training loss after `step` against just before it: the median of the points after (at least
 * lr_jump_after_points of them, so a single spike is not a collapse) back up by lr_jump_undone_frac or more of the
 * way from the level before to the run's first loss, and at least twice the level before. Medians of
 * up to 2 x min_points points each side keep minibatch noise out; null when nothing was undone.
 */
export function lossUndoneAfter(ctx: Context, step: number): { before: number; after: number; first: number; frac: number } | null {
  const named = ctx.keys.scalars.train_loss;
  const lp = ctx.loss();
  if (!named || !lp || !(lp.first > 0)) return null;
  const { steps, values } = named.s;
  const k = 2 * ctx.t.min_points;
  let cut = steps.findIndex((x) => x >= step);
  if (cut < 0) return null;
  // the jump's own step belongs to the old lr when it is logged at the step the lr changed
  if (steps[cut] === step) cut++;
  const before = median(finiteSample(values, Math.max(0, cut - k), cut));
  const afterVals = finiteSample(values, cut, values.length, 256);
  if (afterVals.length < ctx.t.lr_jump_after_points) return null;
  const after = median(afterVals);
  const first = lp.first;
  if (!(before > 0) || !(first > before) || !(after >= 2 * before)) return null;
  const frac = (after - before) / (first - before);
  return frac >= ctx.t.lr_jump_undone_frac ? { before, after, first, frac } : null;
}

const ADVICE =
  "Lower the learning rate by 3-10x (or add warmup and a decay schedule); gradient clipping helps " +
  "against occasional spikes. A good learning rate makes the loss fall quickly at first and then " +
  "level off smoothly.";

export const lrTooHigh: Rule = {
  code: "lr_too_high",
  evaluate(ctx) {
    const { t } = ctx;
    const lp = ctx.loss();
    const reasons: string[] = [];
    const evidence: Record<string, number | string | boolean | null> = {};
    let step: number | null = null;

    const exploded = explodedLevel(ctx);
    if (exploded && lp) {
      reasons.push(`the training loss climbed to ${fmt(exploded.level)}, over ${t.divergence_factor}x its start (${fmt(exploded.initial)})`);
      evidence.initial_loss = round(exploded.initial);
      evidence.recent_loss = round(exploded.level);
      const s = ctx.keys.scalars.train_loss!.s;
      step = streakStart(s, (v) => !(v <= t.divergence_factor * exploded.initial));
    }

    // Points of a few samples each (pool > 1) jump around whatever the learning rate: that noise is
    // the batch size's (noisy_loss says so), not evidence of overshooting.
    const jumpy =
      !!lp &&
      lp.pool === 1 &&
      lp.recentPoints >= t.noisy_min_points &&
      lp.initial > 0 &&
      lp.recent >= t.lr_high_level_frac * lp.initial &&
      lp.recentCvLow > t.lr_high_loss_cv;
    if (jumpy && !exploded) {
      reasons.push(
        `the training loss jumps around (step-to-step noise ${fmt(lp!.recentCv * 100, 2)}% of its level) ` +
          `at a high level (${fmt(lp!.recent)}, started at ${fmt(lp!.initial)})`,
      );
      evidence.recent_loss = round(lp!.recent);
      evidence.initial_loss = round(lp!.initial);
      evidence.loss_noise_cv = round(lp!.recentCv, 3);
      step = step ?? ctx.keys.scalars.train_loss!.s.steps[lp!.recentFromIdx];
    }

    // Update/weight ratios. Layers that do not move at all are symmetric_init's business, and a
    // layer whose weights shrank to a fraction of their initial size (heavy weight decay) has
    // high ratios because the weights are tiny, not because the steps are big.
    const collapsed = (layer: string) => {
      const ws = ctx.keys.layers.get(layer)?.weight_std?.s;
      if (!ws) return false;
      const first = ws.values.find(Number.isFinite);
      const now = layerRecent(ctx, "weight_std").find((x) => x.layer === layer)?.recent;
      return first !== undefined && now !== undefined && now < t.weight_collapse_frac * first;
    };
    // SGD's coupled weight decay (or AdamW's) takes lr x wd of every weight a step (/(1 - momentum) with
    // momentum): that share of each ratio is the decay shrinking the weights, not the gradient's step
    // (SGD Nesterov, lr 0.02 x wd 0.1 / 0.1 reads 0.02 a step on a model the decay holds at chance)
    const decayShare = decayPerStep(ctx.run.config ?? {})?.perStep ?? 0;
    const ur = layerRecent(ctx, "update_ratio", t.min_points)
      .filter((x) => x.recent > t.zero_grad_eps && !collapsed(x.layer))
      .map((x) => ({ ...x, recent: x.recent - decayShare }));
    if (ur.length > 0) {
      const med = median(ur.map((x) => x.recent));
      const high = ur.filter((x) => x.recent > t.update_ratio_high);
      // Ratios only moderately high (up to lr_high_sustained_ratio: SGD with momentum in its first
      // epochs) with a loss already below half its start: the noise relative to that low level is the
      // minibatch's (the smaller the level, the larger its share), not overshooting.
      // A loss down to lr_high_settled_frac of its start is settled whatever the ratios (below
      // update_ratio_extreme): an optimizer that overshoots cannot get there, and steps large against the
      // weights are the optimizer's normalised early steps (Adagrad, Adam: ~lr per weight). The noise
      // counts as far as the window shows it for sure (recentCvLow: less two standard errors).
      const settledLow =
        !!lp &&
        lp.recent < t.lr_high_level_frac * lp.initial &&
        (med <= t.lr_high_sustained_ratio || lp.recent <= t.lr_high_settled_frac * lp.initial);
      const lossBad =
        !lp ||
        (lp.n >= t.min_points && ((lp.recentCvLow > t.lr_high_ur_loss_cv && !settledLow) || lp.recent >= t.lr_high_ur_level_frac * lp.initial));
      if ((med > t.update_ratio_high && lossBad && !loneAdaptiveHead(ctx)) || med > t.update_ratio_extreme) {
        const worst = high.reduce((a, b) => (b.recent > a.recent ? b : a), high[0]);
        reasons.push(
          `update/weight ratios are ${listLayers(high.map((x) => ({ layer: x.layer, value: x.recent })))}, ` +
            `far above the ~1e-3 of a healthy run (threshold ${fmt(t.update_ratio_high)})`,
        );
        evidence.median_update_ratio = round(med, 3);
        evidence.high_layers = high.map((x) => x.layer).join(", ");
        evidence.update_ratio_high = t.update_ratio_high;
        if (lp) evidence.loss_noise_cv = round(lp.recentCv, 3);
        const urStep = streakStart(worst.s, (v) => v > t.update_ratio_high);
        if (urStep !== null && (step === null || urStep < step)) step = urStep;
      }
    }

    // Huge steps all along, even where the loss looks fine (Adam at lr 1.0 keeps moving weights by
    // several percent of their size per step and settles nowhere good).
    if (!evidence.median_update_ratio) {
      const sustained = sustainedHighRatios(ctx);
      if (sustained) {
        reasons.push(
          `update/weight ratios stayed above ${fmt(t.lr_high_sustained_ratio)} for the whole run (median ` +
            `${listLayers(sustained.layers)}), several times the ~1e-3 of a healthy run`,
        );
        evidence.sustained_high_layers = sustained.layers.map((x) => x.layer).join(", ");
        evidence.sustained_median_ratios = listLayers(sustained.layers);
        evidence.lr_high_sustained_ratio = t.lr_high_sustained_ratio;
        const first = Math.min(...sustained.layers.map((x) => x.step));
        if (step === null || first < step) step = first;
      }
    }

    // The logged lr jumped up and the run diverged or collapsed afterwards: diverged past its start,
    // or gave back a large part of what it had learned (a buggy restart x100: the loss from 0.05
    // back to 1.5 of a 2.3 start, accuracy 0.97 -> 0.27, all below the start so no divergence).
    const jump = lrJump(ctx);
    if (jump) {
      const div = divergence.evaluate(ctx);
      const undone = div && div.step >= jump.step ? null : lossUndoneAfter(ctx, jump.step);
      if ((div && div.step >= jump.step) || undone) {
        const what = undone
          ? `the training loss went back from ${fmt(undone.before)} to ${fmt(undone.after)} (it started at ` +
            `${fmt(undone.first)}: ${Math.round(undone.frac * 100)}% of what the run had learned undone)`
          : `the loss then blew up or collapsed (from step ${div!.step})`;
        reasons.push(
          `the logged learning rate "${jump.key}" jumped from ${fmt(jump.before)} to ${fmt(jump.after)} at step ${jump.step}, and ${what}`,
        );
        evidence.key = jump.key;
        evidence.lr_jump_step = jump.step;
        evidence.lr_before_jump = round(jump.before, 3);
        evidence.lr_after_jump = round(jump.after, 3);
        if (undone) {
          evidence.loss_before_jump = round(undone.before);
          evidence.loss_after_jump = round(undone.after);
          evidence.progress_undone = round(undone.frac, 3);
          evidence.lr_jump_undone_frac = t.lr_jump_undone_frac;
        } else evidence.collapse_step = div!.step;
        evidence.lr_jump_factor = t.lr_jump_factor;
        step = jump.step;
      }
    }

    // History: huge steps for a sustained stretch, after which the run never learned (typically
    // the ReLUs died and the ratios fell to ~0, hiding the cause from the recent window).
    // (measured against the very first loss: the starting level takes the max of the first points,
    // which an oversized first step has already blown up)
    // ... or that blew the loss up right then, however well it recovered (Adam at lr 1.0: the first steps
    // replace the weights by 10x their size, the loss jumps 100-1000x, then settles with most units dead)
    const blewUp = (): number | null => {
      if (!lp || !(lp.first > 0)) return null;
      let peak = -Infinity;
      for (const p of smoothed(ctx.keys.scalars.train_loss!.s, 0, lp.n, 4)) if (p.value > peak) peak = p.value;
      return peak >= t.divergence_factor * lp.first ? peak : null;
    };
    // A loss that came down after such a blow-up does not clear it: steps that moved the weights by
    // their whole size and blew the loss up are the learning rate's doing however the run ends (Adam at
    // lr 1.0 on moons; a first step of 4x the weights' size that blew the loss up 40x and killed most
    // ReLUs on digits, then 0.6 train accuracy: the message says the model falls short too). A giant
    // step without a blow-up is not enough.
    const neverRecovered = !!lp && lp.first > 0 && lp.recent >= t.lr_high_level_frac * lp.first;
    // (the loss's peak before the layers' ratios: one series to read, not every layer's)
    const blowUp = reasons.length === 0 && !neverRecovered ? blewUp() : null;
    const fit = blowUp !== null ? fitState(ctx) : null;
    const fallsShort = fit !== null && (fit.state === "short" || fit.state === "chance");
    if (reasons.length === 0 && lp && lp.n >= 2 * t.min_points && lp.first > 0 && (neverRecovered || blowUp !== null)) {
      const peaks: { layer: string; value: number; step: number }[] = [];
      let layersWithRatios = 0;
      for (const [layer, f] of ctx.keys.layers) {
        const s = f.update_ratio?.s;
        if (!s || s.values.length < t.min_points || collapsed(layer)) continue;
        layersWithRatios++;
        let best = { value: -Infinity, step: s.steps[0] };
        for (const p of smoothed(s, 0, s.values.length, 4)) if (p.value > best.value) best = p;
        if (best.value > t.update_ratio_extreme && neverRecovered) {
          peaks.push({ layer, ...best });
          continue;
        }
        // or one step that moved the weights by their whole size (Adam's first step at lr 1.0 moves
        // every weight by ~lr, 10-20x its size): the very first points are always looked at
        let top = { value: -Infinity, step: s.steps[0] };
        const head = Math.min(s.values.length, 16);
        for (let i = 0; i < head; i++) if (s.values[i] > top.value) top = { value: s.values[i], step: s.steps[i] };
        for (const i of stridedIndices(head, s.values.length)) if (s.values[i] > top.value) top = { value: s.values[i], step: s.steps[i] };
        if (top.value >= t.lr_high_peak_ratio) peaks.push({ layer, ...top });
      }
      // (a lone adaptive head's early ratios are lr / |w|: only with the loss's blow-up beside them)
      if (layersWithRatios > 0 && peaks.length * 2 >= layersWithRatios && (blowUp !== null || !loneAdaptiveHead(ctx))) {
        reasons.push(
          `update/weight ratios reached ${listLayers(peaks)} earlier in the run (far above ~1e-3; at 1 a ` +
            `single step moves the weights by their whole size), and ` +
            (blowUp !== null
              ? `the training loss blew up to ${fmt(blowUp)} from ${fmt(lp.first)} (it is ${fmt(lp.recent)} now, but steps that size wreck the weights: dead units, a worse minimum)` +
                (fallsShort ? `, and the model still falls well short of its data (${fit?.reading})` : "")
              : `the training loss never recovered (now ${fmt(lp.recent)}, started at ${fmt(lp.first)})`),
        );
        if (blowUp !== null) evidence.peak_loss = round(blowUp);
        evidence.peak_update_ratios = listLayers(peaks);
        evidence.update_ratio_extreme = t.update_ratio_extreme;
        evidence.lr_high_peak_ratio = t.lr_high_peak_ratio;
        evidence.recent_loss = round(lp.recent);
        evidence.initial_loss = round(lp.first);
        step = Math.min(...peaks.map((p) => p.step));
      }
    }

    if (reasons.length === 0) return null;
    return diagnosis(
      "lr_too_high",
      "warning",
      step,
      "Learning rate too high",
      `The learning rate looks too high: ${reasons.join("; and ")}. With too large steps the optimizer ` +
        `overshoots, so the loss bounces around or blows up instead of settling into a minimum, and ` +
        `ReLU units can be knocked dead. ${ADVICE}`,
      evidence,
    );
  },
};
