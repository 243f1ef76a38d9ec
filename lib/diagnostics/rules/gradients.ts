// Shared by vanishing_gradients and exploding_gradients: per-layer gradient size, network order.

import type { Context } from "../context";
import { layerRecent, type LayerStat } from "../layers";

/**
 * Per-layer recent gradient size (std, or norm when fewer layers log std), skipping embedding
 * layers (their gradients are sparse, hence tiny) and layers with exactly zero gradient
 * (that is symmetric_init's business).
 */
export function layerGrads(ctx: Context): { field: "grad_std" | "grad_norm"; stats: LayerStat[] } {
  const std = layerRecent(ctx, "grad_std", 5);
  const norm = layerRecent(ctx, "grad_norm", 5);
  const field = std.length >= norm.length ? "grad_std" : "grad_norm";
  const stats = (field === "grad_std" ? std : norm).filter((x) => !/emb/i.test(x.layer) && Math.abs(x.recent) > ctx.t.zero_grad_eps);
  return { field, stats };
}
