// gradcheck_failed: analytic vs numerical gradient (cs231n): relative error > 1e-2 means the
// gradient is probably wrong, 1e-4..1e-2 is suspicious, below that is fine.

import { diagnosis, type Rule } from "../context";
import { fmt } from "../series";
import type { RunEvent } from "../types";

export const GRADCHECK_TYPES = new Set(["gradcheck", "grad_check", "gradient_check"]);
const TYPES = GRADCHECK_TYPES;

export function gradcheckEntries(e: RunEvent): { param: string; error: number }[] {
  const raw = Array.isArray(e.data) ? e.data : Array.isArray(e.data?.results) ? e.data.results : [e.data];
  const out: { param: string; error: number }[] = [];
  for (const r of raw) {
    if (!r || typeof r !== "object") continue;
    const err = Number(r.rel_error ?? r.relative_error ?? r.max_rel_error ?? r.error);
    if (Number.isNaN(err)) continue;
    out.push({ param: String(r.param ?? r.name ?? r.parameter ?? "?"), error: err });
  }
  return out;
}

export const gradcheckFailed: Rule = {
  code: "gradcheck_failed",
  evaluate(ctx) {
    const { t } = ctx;
    // The latest check per parameter counts: a fixed gradient re-checked clears the alert.
    const latest = new Map<string, { error: number; step: number | null }>();
    for (const e of ctx.run.events) {
      if (!TYPES.has(e.type)) continue;
      for (const x of gradcheckEntries(e)) latest.set(x.param, { error: x.error, step: e.step });
    }
    const bad = [...latest].filter(([, v]) => !(v.error <= t.gradcheck_warn)).sort((a, b) => b[1].error - a[1].error || (a[0] < b[0] ? -1 : 1));
    if (bad.length === 0) return null;
    const worst = bad[0][1].error;
    const failed = !(worst <= t.gradcheck_fail);
    const steps = bad.map(([, v]) => v.step).filter((s): s is number => s !== null);
    return diagnosis(
      "gradcheck_failed",
      failed ? "critical" : "warning",
      steps.length ? Math.min(...steps) : 0,
      failed ? "Gradient check failed" : "Gradient check: suspicious relative error",
      `The analytic gradient disagrees with the numerical one for ${bad.map(([p, v]) => `${p} (relative error ${fmt(v.error)})`).join(", ")}. ` +
        (failed
          ? `A relative error above ${fmt(t.gradcheck_fail)} almost always means the backward pass is wrong, so ` +
            `training follows a wrong direction. `
          : `Between ${fmt(t.gradcheck_warn)} and ${fmt(t.gradcheck_fail)} is uncomfortable: acceptable only for ` +
            `objectives with kinks (ReLU, hinge), too high for smooth ones (tanh, softmax). `) +
        `Check with double precision, a small step (h ~ 1e-5), centred differences, few data points, ` +
        `regularization and dropout off, and check each parameter separately.`,
      {
        worst_rel_error: worst,
        params: bad.map(([p]) => p).join(", "),
        gradcheck_warn: t.gradcheck_warn,
        gradcheck_fail: t.gradcheck_fail,
      },
    );
  },
};
