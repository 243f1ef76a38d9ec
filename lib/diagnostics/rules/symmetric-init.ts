// symmetric_init: weights initialized to zero or to one constant. Every unit of a layer then
// computes the same thing and gets the same update, so the layer never breaks symmetry.

import { diagnosis, type Rule } from "../context";
import { isValid } from "../hist";
import { layerRecent } from "../layers";
import { round } from "../series";
import { frozenOutput } from "./loss-output-mismatch";
import { signalDiesOut } from "./vanishing-gradients";

/** Parameters that are constant at init by design: biases, normalization gains and offsets. */
export const CONSTANT_BY_DESIGN = /norm|bias|gamma|beta|(^|[^a-z])(bn|ln|b|g|scale|gain)\d*($|[^a-z])/i;

export const symmetricInit: Rule = {
  code: "symmetric_init",
  evaluate(ctx) {
    const { t } = ctx;
    const constant = (std: number, mean: number) =>
      Number.isFinite(std) && std <= t.symmetric_std_eps * Math.max(1, Math.abs(Number.isFinite(mean) ? mean : 0));
    const findings: string[] = [];
    const layers = new Set<string>();
    let step: number | null = null;
    const note = (layer: string, at: number, why: string) => {
      layers.add(layer);
      findings.push(`${layer}: ${why}`);
      if (step === null || at < step) step = at;
    };

    const atInit: { layer: string; step: number }[] = [];
    for (const [layer, f] of ctx.keys.layers) {
      const ws = f.weight_std?.s;
      if (!ws || CONSTANT_BY_DESIGN.test(layer)) continue;
      const i0 = ws.values.findIndex(Number.isFinite);
      if (i0 < 0 || ws.steps[i0] > t.initial_loss_max_step) continue;
      const mean0 = f.weight_mean ? f.weight_mean.s.values[Math.min(i0, f.weight_mean.s.values.length - 1)] : 0;
      if (!constant(ws.values[i0], mean0)) continue;
      atInit.push({ layer, step: ws.steps[i0] });
      const n = ws.values.length;
      const meanLast = f.weight_mean ? f.weight_mean.s.values[f.weight_mean.s.values.length - 1] : 0;
      if (n >= 3 && ws.steps[n - 1] > ws.steps[i0] && constant(ws.values[n - 1], meanLast)) {
        note(layer, ws.steps[i0], `weight std is still ${ws.values[n - 1]} at step ${ws.steps[n - 1]}`);
      } else if (Math.abs(mean0) > 1e-6) {
        note(layer, ws.steps[i0], `all weights start equal to ${round(mean0)}`);
      }
    }
    // Several layers constant at init (all-zero init is never done to more than one layer on purpose,
    // except for e.g. LoRA's B matrices, which do move after the first update and are not flagged then).
    if (atInit.length >= 2) {
      for (const a of atInit) {
        const ws = ctx.keys.layers.get(a.layer)!.weight_std!.s;
        // judged only once there is a later point: the first update must have broken the symmetry
        const stuck = ws.values.length >= 2 && constant(ws.values[ws.values.length - 1], 0);
        if (stuck && !layers.has(a.layer)) note(a.layer, a.step, "all weights start identical (std 0)");
      }
    }

    // Weight histograms: the first one has all its mass in a single bin.
    for (const [layer, { records }] of ctx.keys.hists.weight_hist) {
      if (layers.has(layer) || ctx.keys.layers.get(layer)?.weight_std || CONSTANT_BY_DESIGN.test(layer)) continue;
      const first = records.find(isValid);
      const last = [...records].reverse().find(isValid);
      if (!first || !last || first.step > t.initial_loss_max_step) continue;
      const single = (h: typeof first) => h.counts.filter((c) => c > 0).length === 1 && h.counts.reduce((a, b) => a + b, 0) >= 4;
      if (single(first) && (records.length === 1 ? false : single(last))) {
        note(layer, first.step, "every weight falls in one histogram bin");
      }
    }

    // Zero gradients: nothing flows back to the layer at all. Dead ReLU layers also block every
    // gradient; that is dead_relu's finding, not a symmetry problem.
    const deadLayers = layerRecent(ctx, "dead_frac").some((x) => x.recent > t.dead_frac);
    const gradStats = deadLayers ? [] : [...layerRecent(ctx, "grad_std"), ...layerRecent(ctx, "grad_norm")];
    // Nor where no layer was found constant and the activations die out layer after layer by orders of
    // magnitude (weights far too small for the depth): the gradients underflowed on their way back
    // through the stack, the units are not alike (vanishing_gradients' finding).
    const diedOut = findings.length === 0 && signalDiesOut(ctx) !== null;
    // Nor where every layer's gradient is 0 while the weights are spread out as drawn: the output does not
    // depend on the weights (a one-unit softmax, a detached output), loss_output_mismatch's finding
    const detached = findings.length === 0 && frozenOutput(ctx) !== null;
    for (const g of gradStats) {
      if (diedOut || detached) break;
      if (layers.has(g.layer) || CONSTANT_BY_DESIGN.test(g.layer)) continue;
      if (Math.abs(g.recent) <= t.zero_grad_eps && g.points >= t.min_points) {
        const ur = ctx.keys.layers.get(g.layer)?.update_ratio?.s;
        const urLast = ur ? ur.values[ur.values.length - 1] : 0;
        if (!(Math.abs(urLast) > t.zero_grad_eps)) note(g.layer, g.s.steps[0], `gradient is exactly 0 (${g.key})`);
      }
    }

    if (findings.length === 0) return null;
    return diagnosis(
      "symmetric_init",
      "critical",
      step,
      "Symmetric initialization: weights all zero or identical",
      `Weights look initialized to zero or to one constant (${findings.join("; ")}). Then every unit in a ` +
        `layer computes the same output and receives the same gradient, so the units stay identical (or get ` +
        `no gradient at all) and the layer behaves like a single unit. Initialize weights with small random ` +
        `values: He/Kaiming (std sqrt(2/fan_in)) for ReLU, Xavier/Glorot for tanh; biases may be 0.`,
      { layers: [...layers].join(", "), findings: findings.join("; ") },
    );
  },
};
