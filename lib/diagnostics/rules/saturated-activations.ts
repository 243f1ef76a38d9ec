// saturated_activations: tanh/sigmoid units stuck at their limits, where their local gradient is
// ~0, so the layers below stop learning.

import { diagnosis, type Rule } from "../context";
import { lastRecords, looksSigmoid, looksTanh, shareWhere } from "../hist";
import { layerRecent, listShares } from "../layers";
import { median, round, streakStart } from "../series";

export const saturatedActivations: Rule = {
  code: "saturated_activations",
  evaluate(ctx) {
    const { t } = ctx;
    const hits: { layer: string; value: number; step: number | null; source: string }[] = [];
    const seen = new Set<string>();

    for (const x of layerRecent(ctx, "saturated_frac")) {
      seen.add(x.layer);
      if (x.recent > t.saturated_frac) {
        hits.push({
          layer: x.layer,
          value: x.recent,
          step: streakStart(x.s, (v) => v > t.saturated_frac),
          source: x.key,
        });
      }
    }

    // The config's activation is a guess from text ("sigmoid outputs in the loss" names the loss, not
    // the hidden units), and a ReLU layer's outputs, in [0, ~1] early with most of them exactly 0,
    // look like sigmoid units saturated low. A layer the SDK reports as ReLU-family (it logs dead_frac,
    // not saturated_frac) is no sigmoid; nor is a layer whose logged mean or std leaves what the
    // squashing function allows (a tanh's std cannot pass 1, a sigmoid's 0.5).
    const outside = (layer: string, lo: number, hi: number, reluCounts: boolean) => {
      const f = ctx.keys.layers.get(layer);
      if (reluCounts && f?.dead_frac) return true;
      const mean = f?.act_mean?.s.values.filter(Number.isFinite) ?? [];
      const std = f?.act_std?.s.values.filter(Number.isFinite) ?? [];
      return mean.some((v) => v < lo - 1e-3 || v > hi + 1e-3) || std.some((v) => v > (hi - lo) / 2 + 1e-3);
    };

    // Histograms, for layers without a saturated_frac scalar.
    const sigmoidNet = ctx.activation === "sigmoid";
    for (const [layer, { key, records }] of ctx.keys.hists.act_hist) {
      if (seen.has(layer)) continue;
      const recent = lastRecords(records, 3);
      if (recent.length === 0) continue;
      const last = recent[recent.length - 1];
      let shares: number[] = [];
      if (looksTanh(last)) {
        shares = recent.map((h) => shareWhere(h, (c) => Math.abs(c) >= 0.9));
      } else if ((sigmoidNet || /sigmoid/i.test(layer)) && looksSigmoid(last) && !outside(layer, 0, 1, true)) {
        shares = recent.map((h) => shareWhere(h, (c) => c <= 0.05 || c >= 0.95));
      } else continue;
      seen.add(layer);
      const share = median(shares.filter(Number.isFinite));
      if (share > t.saturated_frac) {
        const first = records.find((h) => looksTanh(h) || looksSigmoid(h));
        hits.push({ layer, value: share, step: first?.step ?? last.step, source: key });
      }
    }

    // Last resort for a known tanh/sigmoid net: an activation std near its maximum means the
    // outputs sit at the limits (|a| <= 1 for tanh, so std >= 0.95 needs most mass at +-1).
    const maxStd = ctx.activation === "tanh" ? 0.95 : ctx.activation === "sigmoid" ? 0.475 : null;
    if (maxStd !== null) {
      for (const x of layerRecent(ctx, "act_std")) {
        if (seen.has(x.layer) || outside(x.layer, maxStd > 0.5 ? -1 : 0, 1, maxStd < 0.5)) continue;
        if (x.recent >= maxStd) {
          hits.push({ layer: x.layer, value: NaN, step: streakStart(x.s, (v) => v >= maxStd), source: x.key });
        }
      }
    }

    if (hits.length === 0) return null;
    const measured = hits.filter((h) => Number.isFinite(h.value));
    const steps = hits.map((h) => h.step).filter((s): s is number => s !== null);
    const worst = measured.length ? Math.max(...measured.map((h) => h.value)) : NaN;
    return diagnosis(
      "saturated_activations",
      "warning",
      steps.length ? Math.min(...steps) : 0,
      "Saturated activations: tanh/sigmoid units stuck at their limits",
      (measured.length
        ? `In ${listShares(measured)} of the units' outputs are `
        : `In ${hits.map((h) => h.layer).join(", ")} the activation std is near its maximum: the outputs are `) +
        `pinned at the ends of the tanh/sigmoid range. There the local gradient is ~0, so almost no ` +
        `gradient flows back through these units and the layers below learn very slowly or not at all. ` +
        `Usual causes: weights initialized too large (e.g. N(0,1) instead of Xavier/Glorot, std ~ 1/sqrt(fan_in)), ` +
        `inputs that are not normalized, or a learning rate that is too high. Try Xavier init, ` +
        `standardize the inputs, add batch normalization, or switch to ReLU.`,
      {
        layers: hits.map((h) => h.layer).join(", "),
        worst_saturated_frac: round(worst, 3),
        keys: hits.map((h) => h.source).join(", "),
        saturated_frac: t.saturated_frac,
      },
    );
  },
};
