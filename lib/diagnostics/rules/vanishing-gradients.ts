// vanishing_gradients: the gradient reaching the first layers is orders of magnitude smaller
// than at the last layer, so the early layers effectively do not train.

import { diagnosis, type Rule } from "../context";
import { fmt, round } from "../series";
import { layerGrads } from "./gradients";

export const vanishingGradients: Rule = {
  code: "vanishing_gradients",
  evaluate(ctx) {
    const { field, stats } = layerGrads(ctx);
    if (stats.length < 2) return null;
    const first = stats[0];
    const last = stats[stats.length - 1];
    const ratio = Math.abs(first.recent) / Math.abs(last.recent);
    if (!(ratio < ctx.t.grad_vanish_ratio)) return null;
    return diagnosis(
      "vanishing_gradients",
      "warning",
      first.s.steps[Math.max(0, first.s.steps.length - first.points)],
      "Vanishing gradients: early layers get almost no gradient",
      `The gradient ${field === "grad_std" ? "std" : "norm"} at the first layer ${first.layer} (${fmt(first.recent)}) is ` +
        `${fmt(1 / ratio)}x smaller than at the last layer ${last.layer} (${fmt(last.recent)}). The signal ` +
        `shrinks as it flows backwards, so the early layers barely learn. Typical causes: saturating ` +
        `tanh/sigmoid units, too small initial weights, or a deep plain stack. Try ReLU-family activations, ` +
        `He/Xavier initialization, batch/layer normalization, or residual connections.`,
      {
        first_layer: first.layer,
        last_layer: last.layer,
        first_grad: round(first.recent),
        last_grad: round(last.recent),
        ratio: round(ratio, 3),
        grad_vanish_ratio: ctx.t.grad_vanish_ratio,
      },
    );
  },
};
