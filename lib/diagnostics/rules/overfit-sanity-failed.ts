// overfit_sanity_failed: a run tagged as the "overfit a tiny subset" sanity check (cs231n: a
// correct model + optimizer drives a few examples to ~100% train accuracy / ~0 loss) that ended
// without getting there.

import { diagnosis, type Rule } from "../context";
import { finiteSample, fmt, recentRange, round } from "../series";

const TAG = /overfit[-_ ]?(tiny|small|subset|batch|sanity)|sanity[-_ ]?overfit/i;

export function isOverfitSanityRun(config: Record<string, any>): boolean {
  const c = config ?? {};
  const tags = Array.isArray(c.tags) ? c.tags : typeof c.tags === "string" ? c.tags.split(/[,\s]+/) : [];
  return (
    [c.sanity, c.sanity_check, c.babysit?.sanity, c.mode].some((x) => typeof x === "string" && TAG.test(x)) ||
    tags.some((x: unknown) => typeof x === "string" && TAG.test(x))
  );
}

export const overfitSanityFailed: Rule = {
  code: "overfit_sanity_failed",
  evaluate(ctx) {
    const { t, run } = ctx;
    if (!run.finished || !isOverfitSanityRun(run.config)) return null;
    const acc = ctx.keys.scalars.train_acc;
    const lp = ctx.loss();
    let what: string | null = null;
    const evidence: Record<string, number | string | boolean | null> = {};
    let step = 0;
    if (acc) {
      const n = acc.s.values.length;
      const final = Math.max(...finiteSample(acc.s.values, Math.max(0, n - 3), n)) * ctx.accScale("train_acc");
      step = acc.s.steps[n - 1];
      if (!(final >= t.sanity_train_acc)) what = `final training accuracy is ${fmt(final)}, not ~100%`;
      evidence.final_train_acc = round(final);
      evidence.sanity_train_acc = t.sanity_train_acc;
    } else if (lp && lp.initial > 0) {
      const s = ctx.keys.scalars.train_loss!.s;
      const final = Math.min(...finiteSample(s.values, recentRange(s.values.length, 0, 3).from, s.values.length));
      step = lp.lastStep;
      if (!(final <= t.sanity_loss_frac * lp.initial)) what = `final training loss is ${fmt(final)} (started at ${fmt(lp.initial)}), not ~0`;
      evidence.final_loss = round(final);
      evidence.initial_loss = round(lp.initial);
      evidence.sanity_loss_frac = t.sanity_loss_frac;
    }
    if (!what) return null;
    return diagnosis(
      "overfit_sanity_failed",
      "warning",
      step,
      "Sanity check failed: could not overfit a tiny subset",
      `This run is tagged as the "overfit a tiny subset" sanity check, but the ${what}. A correct model and ` +
        `training loop memorize a handful of examples easily (with regularization off), so failing this ` +
        `points to a bug: labels misaligned with inputs, a wrong loss, gradients that do not reach the ` +
        `weights, or a learning rate far off. Fix this before training on the full data set.`,
      evidence,
    );
  },
};
