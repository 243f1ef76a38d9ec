// Train/val metric pairs at each evaluation point, shared (and computed once) by the rules that
// compare training with validation.

import type { Context } from "./context";
import { alignEvals, finitePairs, type EvalTable } from "./series";

/** Accuracy (0..1) at each val-accuracy evaluation, or null without both series. */
export function accEvals(ctx: Context): EvalTable | null {
  return ctx.memo("accEvals", () => {
    const { val_acc: va, train_acc: ta } = ctx.keys.scalars;
    if (!va || !ta) return null;
    return finitePairs(alignEvals(va.s, ta.s, ctx.accScale("val_acc"), ctx.accScale("train_acc")));
  });
}

/** Loss at each val-loss evaluation, or null without both series. */
export function lossEvals(ctx: Context): EvalTable | null {
  return ctx.memo("lossEvals", () => {
    const { val_loss: vl, train_loss: tl } = ctx.keys.scalars;
    if (!vl || !tl) return null;
    return finitePairs(alignEvals(vl.s, tl.s));
  });
}
