// search_boundary: the best value of a hyperparameter search lies at the edge of the searched
// range, so the optimum may be outside it. Only from explicit search events:
//   { type: "hparam_search", data: { param: "lr", values: [1e-4, 1e-3, 1e-2], best: 1e-2 } }
//   { type: "hparam_search", data: { param: "lr", results: [{ value, score }], mode: "max" | "min" } }

import { diagnosis, type Rule } from "../context";
import { fmt } from "../series";

const TYPES = new Set(["hparam_search", "hyperparameter_search", "search_result", "hparam_search_result"]);

function bestOf(data: any): { param: string; tried: number[]; best: number } | null {
  if (!data || typeof data !== "object") return null;
  const param = String(data.param ?? data.name ?? "?");
  let tried: number[] = [];
  let best = Number(data.best);
  if (Array.isArray(data.results)) {
    const rows = data.results
      .map((r: any) => ({ value: Number(r?.value), score: Number(r?.score) }))
      .filter((r: { value: number; score: number }) => Number.isFinite(r.value) && Number.isFinite(r.score));
    tried = rows.map((r: { value: number }) => r.value);
    if (!Number.isFinite(best) && rows.length > 0) {
      const min = String(data.mode ?? "max").toLowerCase() === "min";
      best = rows.reduce((a: any, b: any) => ((min ? b.score < a.score : b.score > a.score) ? b : a)).value;
    }
  } else if (Array.isArray(data.values)) {
    tried = data.values.map(Number).filter(Number.isFinite);
  }
  const distinct = [...new Set(tried)].sort((a, b) => a - b);
  if (distinct.length < 3 || !Number.isFinite(best)) return null;
  return { param, tried: distinct, best };
}

export const searchBoundary: Rule = {
  code: "search_boundary",
  evaluate(ctx) {
    const latest = new Map<string, { tried: number[]; best: number; step: number | null }>();
    for (const e of ctx.run.events) {
      if (!TYPES.has(e.type)) continue;
      const b = bestOf(e.data);
      if (b) latest.set(b.param, { tried: b.tried, best: b.best, step: e.step });
    }
    const edge = [...latest].filter(([, v]) => v.best === v.tried[0] || v.best === v.tried[v.tried.length - 1]);
    if (edge.length === 0) return null;
    const steps = edge.map(([, v]) => v.step).filter((s): s is number => s !== null);
    return diagnosis(
      "search_boundary",
      "info",
      steps.length ? Math.min(...steps) : 0,
      "Hyperparameter search: best value at the edge of the range",
      `The best ${edge.map(([p, v]) => `${p} (${fmt(v.best)}, searched ${fmt(v.tried[0])}..${fmt(v.tried[v.tried.length - 1])})`).join(", ")} ` +
        `lies at the boundary of the searched range, so the real optimum may lie outside it. Extend the ` +
        `range past that end (on a log scale for learning rate and regularization strength) and search again.`,
      { params: edge.map(([p]) => p).join(", ") },
    );
  },
};
