import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  analyzeSweep,
  DEFAULT_EARLY_STOP,
  inferSpace,
  refineSpace,
  resolveObjective,
  SWEEP_ALERT_CODES,
  shouldStop,
  spearman,
} from "@/lib/sweeps/analysis";
import { sampleTrial, validateSpace } from "@/lib/sweeps/sampler";
import type { Goal, Scalar, Space, SweepAlert, TrialSummary } from "@/lib/sweeps/types";

/** Deterministic noise in [-0.5, 0.5): tests never depend on Math.random. */
function lcg(seed: number) {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

interface Outcome {
  objective: number | null;
  failure?: "diverged" | "crashed" | "no_objective";
  alerts?: string[];
}

function trial(i: number, params: Record<string, Scalar>, o: Outcome, status = "finished"): TrialSummary {
  const failed = o.failure !== undefined;
  return {
    runId: `r${i}`,
    name: `trial-${i}`,
    index: i,
    status,
    params,
    objective: failed ? null : o.objective,
    failed,
    failure: o.failure ?? null,
    alerts: o.alerts ?? (o.failure === "diverged" ? ["divergence"] : []),
    curve: [],
    startedAt: 0,
    finishedAt: 1,
  };
}

/** n trials sampled from the space, their outcome a function of the config (plus seeded noise). */
function sweep(space: Space, n: number, outcome: (p: Record<string, Scalar>, noise: number) => Outcome, seed = 1): TrialSummary[] {
  const rnd = lcg(seed * 7919 + 13);
  return Array.from({ length: n }, (_, i) => {
    const p = sampleTrial(space, seed, i);
    return trial(i, { ...p }, outcome(p, rnd()));
  });
}

const LR = validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 } });
const LR_MOM = validateSpace({
  lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 },
  momentum: { distribution: "uniform", low: 0.8, high: 0.99 },
  act: { distribution: "choice", values: ["relu", "tanh", "gelu"] },
});
const lg = (v: Scalar) => Math.log10(v as number);
/** accuracy peaked at lr = peak (log scale), noise of +-0.005 */
const peaked =
  (peak: number, noise = 0.01) =>
  (p: Record<string, Scalar>, e: number): Outcome => ({ objective: 0.9 - 0.04 * (lg(p.lr) - Math.log10(peak)) ** 2 + noise * e });

const codes = (alerts: SweepAlert[]) => alerts.map((a) => a.code);
const byCode = (alerts: SweepAlert[], code: string) => alerts.find((a) => a.code === code);
const boundaryParams = (alerts: SweepAlert[]) =>
  ((byCode(alerts, "search_boundary")?.evidence.params as Array<{ param: string; edge: string; next: [number, number] }>) ?? []).map((p) => ({
    param: p.param,
    edge: p.edge,
    next: p.next,
  }));
const range = (s: Space, name: string) => s[name] as { distribution: string; low: number; high: number };

describe("search_boundary and refinement (table)", () => {
  test.each<[string, Space | null, () => TrialSummary[], { edge: "high" | "low" | null; param?: string }]>([
    ["best at the upper edge (log_uniform)", LR, () => sweep(LR, 20, peaked(3e-2)), { edge: "high", param: "lr" }],
    ["best at the lower edge (log_uniform)", LR, () => sweep(LR, 20, peaked(3e-6)), { edge: "low", param: "lr" }],
    ["best inside the range", LR, () => sweep(LR, 20, peaked(3e-4)), { edge: null }],
    ["flat response", LR, () => sweep(LR, 30, (_p, e) => ({ objective: 0.8 + 0.02 * e })), { edge: null }],
    [
      "objective still rising towards the upper edge among other parameters",
      LR_MOM,
      () => sweep(LR_MOM, 30, (p, e) => ({ objective: 0.5 + 0.1 * lg(p.lr) + 0.01 * e })),
      { edge: "high", param: "lr" },
    ],
    [
      "minimized loss, best at the upper edge",
      LR,
      () => sweep(LR, 20, (p, e) => ({ objective: 2 - 0.3 * lg(p.lr) * -1 + 0.01 * e })),
      { edge: "low", param: "lr" },
    ],
    ["inferred space: best at the upper edge", null, () => sweep(LR, 20, peaked(3e-2)), { edge: "high", param: "lr" }],
    [
      "best at the upper edge, with 1 trial in 5 diverging whatever its lr (not a region that breaks)",
      LR,
      () => sweep(LR, 30, (p, e) => (Number(e > 0.3) ? { objective: null, failure: "diverged" } : peaked(3e-2)(p, e))),
      { edge: "high", param: "lr" },
    ],
  ])("%s", (_label, space, make, want) => {
    const trials = make();
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: _label.startsWith("minimized") ? "min" : "max" }, trials });
    const found = boundaryParams(a.alerts);
    if (want.edge === null) {
      expect(found).toEqual([]);
      return;
    }
    expect(found.map((f) => [f.param, f.edge])).toEqual([[want.param, want.edge]]);
    const alert = byCode(a.alerts, "search_boundary") as SweepAlert;
    expect(alert.severity).toBe("warning");
    expect(alert.message).toContain(`${want.param}:`);
    expect(alert.message).toContain(want.edge === "high" ? "upper edge" : "lower edge");
    expect(alert.message).toMatch(/search lr in \[[0-9.e-]+, [0-9.e-]+\] next/);
    // the range to try next goes past the edge, and the suggestion agrees with it
    const old = range(a.space, "lr");
    const next = found[0].next;
    if (want.edge === "high") expect(next[1]).toBeGreaterThan(old.high);
    else expect(next[0]).toBeLessThan(old.low);
    expect(a.suggestion).not.toBeNull();
    expect([range(a.suggestion as Space, "lr").low, range(a.suggestion as Space, "lr").high]).toEqual(next);
    expect(a.inferred).toBe(space === null);
  });

  // A user's coarse lr search: the best trial at 0.0042 of [1e-5, 1e-2] (near the upper edge, not
  // within the last tenth), val/acc rising with lr. The alert said "search lr in [0.00171, 0.317]
  // next" while the suggested range and Refine stopped at 0.0101: both must name the same range.
  test.each<[string, number[], "max" | "min"]>([
    ["near the upper edge, rising", [0.874, 0.84, 0.81, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02], "max"],
    ["near the lower edge, falling loss", [0.13, 0.16, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98], "max"],
    ["near the upper edge, minimized", [0.8, 0.78, 0.7, 0.6, 0.5, 0.45, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02], "min"],
  ])("best %s: the alert's next range is the suggestion's, past the edge", (_label, positions, goal) => {
    // trials in order of goodness: positions (0..1 in log space) of the best first
    const trials = positions.map((t, i) => trial(i, { lr: 10 ** (-5 + 3 * t) }, { objective: goal === "max" ? 0.9 - 0.05 * i : 0.1 + 0.05 * i }));
    const a = analyzeSweep({ space: LR, objective: { metric: goal === "max" ? "val/acc" : "val/loss", goal }, trials });
    const found = boundaryParams(a.alerts);
    expect(found).toHaveLength(1);
    const sugg = range(a.suggestion as Space, "lr");
    expect([sugg.low, sugg.high]).toEqual(found[0].next);
    expect([sugg.low, sugg.high]).toEqual([range(refineSpace(LR, trials, goal, 3), "lr").low, range(refineSpace(LR, trials, goal, 3), "lr").high]);
    if (found[0].edge === "high") expect(sugg.high).toBeGreaterThan(1e-2);
    else expect(sugg.low).toBeLessThan(1e-5);
  });

  test("a range widened by a whole decade ends on it, not an ulp-rounded step past it", () => {
    // [1e-3, 1e-1] widened past its top by the most it may (WIDEN_FRACTION: half its width in log space,
    // as far as top trials spread over the upper half reach inside) ends at 1 (demo:sweep printed 1.01)
    const space = validateSpace({ lr: { distribution: "log_uniform", low: 1e-3, high: 1e-1 } });
    const trials = [0.98, 0.7, 0.5, 0.4, 0.3, 0.2].map((t, i) => trial(i, { lr: 10 ** (-3 + 2 * t) }, { objective: 0.9 - 0.1 * i }));
    expect(range(refineSpace(space, trials, "max", 3), "lr").high).toBe(1);
  });

  test("a bound kept as it was is not rounded past the searched range", () => {
    // the top trials spread so wide that the narrowed range reaches the old top: it stays 0.01, not 0.0101
    const trials = [0.88, 0.5, 0.4, 0.2, 0.1].map((t, i) => trial(i, { lr: 10 ** (-5 + 3 * t) }, { objective: 0.9 - 0.1 * i }));
    const s = range(refineSpace(LR, trials, "max", 3), "lr");
    expect(s.high).toBeLessThanOrEqual(1e-2);
    expect(s.low).toBeGreaterThanOrEqual(1e-5);
  });

  test("best inside: the suggestion narrows around the top trials in log space and keeps them", () => {
    const trials = sweep(LR, 30, peaked(3e-4));
    const a = analyzeSweep({ space: LR, objective: { metric: "val/acc", goal: "max" }, trials });
    const s = range(a.suggestion as Space, "lr");
    expect(s.distribution).toBe("log_uniform");
    expect(s.low).toBeGreaterThan(1e-5);
    expect(s.high).toBeLessThan(1e-2);
    for (const b of a.best) expect((b.params.lr as number) >= s.low && (b.params.lr as number) <= s.high).toBe(true);
    // narrower in decades, not just in absolute terms
    expect(Math.log10(s.high / s.low)).toBeLessThan(3 * 0.8);
    expect(a.importance[0]).toMatchObject({ param: "lr", n: 30 });
  });

  test("flat response: search_flat_parameter in most seeded sweeps (silent when chance made a trend), naming the parameter with its numbers", () => {
    const runs = Array.from({ length: 50 }, (_, i) =>
      analyzeSweep({
        space: LR,
        objective: { metric: "val/acc", goal: "max" },
        trials: sweep(LR, 30, (_p, e) => ({ objective: 0.8 + 0.02 * e }), i + 1),
      }),
    );
    const raised = runs.filter((a) => byCode(a.alerts, "search_flat_parameter"));
    expect(raised.length).toBeGreaterThanOrEqual(30); // measured: 39 of 50
    const flat = byCode(raised[0].alerts, "search_flat_parameter") as SweepAlert;
    expect(flat.severity).toBe("info");
    expect(flat.message).toMatch(/^lr: importance 0\.\d\d over 30 trials/);
    expect((flat.evidence.params as Array<{ param: string }>)[0].param).toBe("lr");
  });

  test("a parameter that matters with a peaked (non-monotone) response is not called flat", () => {
    const a = analyzeSweep({ space: LR, objective: { metric: "val/acc", goal: "max" }, trials: sweep(LR, 30, peaked(3e-4, 0.002)) });
    expect(codes(a.alerts)).not.toContain("search_flat_parameter");
    expect(a.importance[0].importance).toBeGreaterThan(0.5);
  });

  test("a single good trial among diverged ones: too few, failing, too wide; no boundary, no suggestion", () => {
    const lrs = [2e-5, 1e-4, 3e-4, 1e-3, 2e-3, 4e-3, 6e-3, 9e-3];
    const trials = lrs.map((lr, i) => trial(i, { lr }, i === 0 ? { objective: 0.7 } : { objective: null, failure: "diverged" }));
    const good = trials.filter((t) => !t.failed);
    const a = analyzeSweep({ space: LR, objective: { metric: "val/acc", goal: "max" }, trials });
    expect(codes(a.alerts)).toEqual(["search_trials_failing", "search_range_too_wide", "search_too_few_trials"]);
    expect(a.suggestion).toBeNull();
    expect(a.best.map((t) => t.runId)).toEqual([good[0].runId]);
    const failing = byCode(a.alerts, "search_trials_failing") as SweepAlert;
    expect(failing.message).toContain("7 of 8 finished trials raised divergence");
    expect(failing.message).toContain("lower its upper end");
    const wide = byCode(a.alerts, "search_range_too_wide") as SweepAlert;
    expect(wide.evidence).toMatchObject({ trials: 8, bad: 7 });
  });

  test.each<[string, string, boolean]>([
    ["lr_too_low on the worse half", "lr_too_low", true],
    ["no_learning on the worse half", "no_learning", true],
    ["noisy_loss on the worse half (explains nothing)", "noisy_loss", false],
    ["overfit_sanity_failed (not about the values tried)", "overfit_sanity_failed", false],
  ])("search_trials_failing from trials' own alerts: %s", (_label, alertCode, raised) => {
    const trials = sweep(LR, 16, peaked(3e-4));
    const worst = [...trials].sort((a, b) => (a.objective as number) - (b.objective as number)).slice(0, 6);
    for (const t of worst) t.alerts = [alertCode];
    const a = analyzeSweep({ space: LR, objective: { metric: "val/acc", goal: "max" }, trials });
    const failing = byCode(a.alerts, "search_trials_failing");
    expect(Boolean(failing)).toBe(raised);
    if (raised) {
      expect(failing?.severity).toBe("warning");
      expect(failing?.message).toContain(`6 of 16 finished trials raised ${alertCode}`);
      expect(failing?.evidence.groups).toMatchObject([{ code: alertCode, trials: 6 }]);
    }
  });

  test("all diverged: a critical search_trials_failing, no best, no suggestion", () => {
    const trials = sweep(LR, 6, () => ({ objective: null, failure: "diverged" }));
    const a = analyzeSweep({ space: LR, objective: { metric: "val/acc", goal: "max" }, trials });
    expect(codes(a.alerts)).toEqual(["search_trials_failing", "search_range_too_wide", "search_too_few_trials"]);
    expect(byCode(a.alerts, "search_trials_failing")?.severity).toBe("critical");
    expect(byCode(a.alerts, "search_range_too_wide")?.message).toContain("None worked");
    expect(a.best).toEqual([]);
    expect(a.suggestion).toBeNull();
  });

  test("half the trials diverge above an lr: the range is too wide, lr named, the working sub-range suggested", () => {
    const space = validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 10 }, wd: { distribution: "uniform", low: 0, high: 0.1 } });
    const trials = sweep(
      space,
      24,
      (p, e) => ((p.lr as number) > 0.03 ? { objective: null, failure: "diverged" } : { objective: 0.8 + 0.05 * e }),
      3,
    );
    const nBad = trials.filter((t) => t.failed).length;
    expect(nBad / 24).toBeGreaterThanOrEqual(0.5);
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials });
    const wide = byCode(a.alerts, "search_range_too_wide") as SweepAlert;
    expect(wide.message).toContain("Trials with lr above");
    const suggested = wide.evidence.suggested as { param: string; low: number; high: number };
    expect(suggested.param).toBe("lr");
    expect(suggested.high).toBeLessThan(0.1);
    expect(suggested.high).toBeGreaterThan(0.003);
    const failing = byCode(a.alerts, "search_trials_failing") as SweepAlert;
    expect(failing.message).toMatch(/Trials with lr above [0-9.e-]+ raised divergence/);
    // the diverged trials above the best are why the best near the top of the working region is no boundary
    expect(boundaryParams(a.alerts)).toEqual([]);
  });

  test("inferred integer parameter over 2 decades (batch size 8-1024): judged in log space, refined as integers past the edge", () => {
    const space = validateSpace({ batch: { distribution: "choice", values: [8, 16, 32, 64, 128, 256, 512, 1024] } });
    const trials = sweep(space, 24, (p, e) => ({ objective: 0.5 + 0.05 * Math.log2(p.batch as number) + 0.005 * e }), 12);
    const a = analyzeSweep({ space: null, objective: { metric: "val/acc", goal: "max" }, trials });
    expect(a.space.batch).toEqual({ distribution: "int_uniform", low: 8, high: 1024 });
    expect(boundaryParams(a.alerts)).toMatchObject([{ param: "batch", edge: "high" }]);
    const s = range(a.suggestion as Space, "batch");
    expect(Number.isInteger(s.low) && Number.isInteger(s.high) && s.high > 1024).toBe(true);
    // the top trials crowd the edge: the next range is centred on it in log space, a quarter of the
    // old width (1.75 of 7 octaves) each side, where linear would add 254
    expect([s.low, s.high]).toEqual([Math.floor(1024 / 2 ** 1.75), Math.ceil(1024 * 2 ** 1.75)]);
  });

  test("a choice that always fails: range_too_wide keeps the values that work", () => {
    const space = validateSpace({
      opt: { distribution: "choice", values: ["sgd", "adam", "rmsprop"] },
      lr: { distribution: "log_uniform", low: 1e-4, high: 1e-2 },
    });
    const trials = sweep(space, 20, (p, e) => (p.opt === "adam" ? { objective: 0.8 + 0.01 * e } : { objective: null, failure: "diverged" }), 3);
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials });
    const wide = byCode(a.alerts, "search_range_too_wide") as SweepAlert;
    expect(wide.evidence.suggested).toEqual({ param: "opt", values: ["adam"] });
    expect(wide.message).toContain('Keep opt to ["adam"]');
  });

  test("diverged trials beyond the best keep the edge from being a boundary", () => {
    const trials = sweep(
      LR,
      25,
      (p, e) => (lg(p.lr) > -2.5 ? { objective: null, failure: "diverged" } : { objective: 0.6 + 0.1 * lg(p.lr) + 0.005 * e }),
      2,
    );
    expect(trials.some((t) => t.failed)).toBe(true);
    const a = analyzeSweep({ space: LR, objective: { metric: "val/acc", goal: "max" }, trials });
    expect(boundaryParams(a.alerts)).toEqual([]);
    // nor does refine widen past it
    expect(range(a.suggestion as Space, "lr").high).toBeLessThanOrEqual(1e-2);
  });

  test.each<[string, Record<string, unknown>, string, number]>([
    ["int_uniform best at the top", { layers: { distribution: "int_uniform", low: 1, high: 4 } }, "layers", 1],
    ["uniform best at the top", { wd: { distribution: "uniform", low: 0.1, high: 0.3 } }, "wd", 1],
  ])("%s: boundary, and the next range is past the edge", (_label, raw, name) => {
    const space = validateSpace(raw);
    const trials = sweep(space, 24, (p, e) => ({ objective: 0.5 + 0.1 * (p[name] as number) + 0.001 * e }), 4);
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials });
    const [b] = boundaryParams(a.alerts);
    expect(b).toMatchObject({ param: name, edge: "high" });
    const s = range(a.suggestion as Space, name);
    expect(s.high).toBeGreaterThan(range(space, name).high);
    if (s.distribution === "int_uniform") expect(Number.isInteger(s.low) && Number.isInteger(s.high)).toBe(true);
  });

  test("a best value on a natural bound (dropout 0) is no boundary: nothing lies below 0", () => {
    const space = validateSpace({ dropout: { distribution: "uniform", low: 0, high: 0.5 } });
    const trials = sweep(space, 24, (p, e) => ({ objective: 0.9 - 0.3 * (p.dropout as number) + 0.001 * e }), 6);
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials });
    expect(boundaryParams(a.alerts)).toEqual([]);
    expect(range(a.suggestion as Space, "dropout").low).toBe(0);
  });

  test("choice parameters: importance from per-choice medians, refine keeps the choices the top trials used", () => {
    const trials = sweep(LR_MOM, 30, (p, e) => ({ objective: (p.act === "gelu" ? 0.9 : p.act === "relu" ? 0.7 : 0.5) + 0.01 * e }), 8);
    const a = analyzeSweep({ space: LR_MOM, objective: { metric: "val/acc", goal: "max" }, trials });
    expect(a.importance[0]).toMatchObject({ param: "act", rho: null });
    expect(a.importance[0].importance).toBeGreaterThan(0.7);
    expect((a.suggestion as Space).act).toEqual({ distribution: "choice", values: ["gelu"] });
    expect(refineSpace(LR_MOM, trials, "min", 3).act).toEqual({ distribution: "choice", values: ["tanh"] });
    expect(codes(a.alerts)).not.toContain("search_boundary");
  });

  test("fixed values stay fixed; running trials do not count", () => {
    const space = validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 }, epochs: 3, opt: "adam" });
    const trials = sweep(space, 20, peaked(3e-4));
    const running = trials.map((t) => ({ ...t, status: "running" }));
    expect(refineSpace(space, trials, "max", 3)).toMatchObject({ epochs: 3, opt: "adam" });
    // a stage refined before its trials end: their best so far counts
    expect(refineSpace(space, running, "max", 3)).toEqual(refineSpace(space, trials, "max", 3));
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials: running });
    expect(codes(a.alerts)).toEqual(["search_too_few_trials"]);
    expect(byCode(a.alerts, "search_too_few_trials")?.evidence).toMatchObject({ scored: 0, running: 20, needed: 5 });
  });

  test("a flat parameter rarely raises a false boundary; a real one is found (100 seeded sweeps each)", () => {
    let falseAlarms = 0;
    let found = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const flat = sweep(LR, 20, (_p, e) => ({ objective: 0.8 + 0.02 * e }), seed);
      if (boundaryParams(analyzeSweep({ space: LR, objective: { metric: "a", goal: "max" }, trials: flat }).alerts).length) falseAlarms++;
      const edge = sweep(LR, 20, peaked(3e-2, 0.05), seed);
      if (boundaryParams(analyzeSweep({ space: LR, objective: { metric: "a", goal: "max" }, trials: edge }).alerts).length) found++;
    }
    expect(falseAlarms).toBeLessThanOrEqual(5); // measured: 2
    expect(found).toBeGreaterThanOrEqual(90); // measured: 100
  });
});

test("5,000 trials of 30 parameters: answers (no stack overflow from spreading long arrays)", () => {
  const raw = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, { distribution: "log_uniform", low: 1e-6, high: 1 }]));
  const space = validateSpace(raw);
  const trials = sweep(space, 5000, (p, e) => ({ objective: lg(p.p0) + e }), 9);
  const a = analyzeSweep({ space, objective: { metric: "m", goal: "max" }, trials });
  expect(a.importance[0].param).toBe("p0");
  expect(boundaryParams(a.alerts).map((b) => b.param)).toEqual(["p0"]);
});

// The next stage as a demanding user expects it: centred on the top trials in log space, narrower than
// the old range, moved past an edge only when the best sit on it (centred on that edge then).
describe("refineSpace: where the next stage's range goes (table)", () => {
  const DEMO = validateSpace({ lr: { distribution: "log_uniform", low: 1e-3, high: 1e-1 } });
  // npm run demo:sweep, stage 1 (seed 7, the spiral MLP): lr and best val/acc of its 10 trials. Trials 1
  // and 2 tie at 0.7222 (36 validation points): the third best is either 0.0071 or 0.0415.
  const demo: Array<[number, number]> = [
    [0.0016359, 0.4722],
    [0.0070938, 0.7222],
    [0.0414758, 0.7222],
    [0.0016201, 0.5444],
    [0.0440877, 0.75],
    [0.0015226, 0.5167],
    [0.012715, 0.4944],
    [0.0691981, 0.9833],
    [0.0054047, 0.5278],
    [0.002657, 0.5333],
  ];
  const demoTrials = demo.map(([lr, acc], i) => trial(i, { lr }, { objective: acc }));
  const lrs = (xs: number[], accOf: (lr: number) => number) => xs.map((lr, i) => trial(i, { lr }, { objective: accOf(lr) }));
  const LR3 = validateSpace({ lr: { distribution: "log_uniform", low: 1e-4, high: 1e-1 } });
  const decades = (s: { low: number; high: number }) => Math.log10(s.high / s.low);
  const centre = (s: { low: number; high: number }) => Math.sqrt(s.low * s.high);
  const near = (a: number, b: number, rel = 0.02) => Math.abs(a / b - 1) <= rel;

  test.each<[string, Space, () => TrialSummary[], "max" | "min", (s: { low: number; high: number }) => void]>([
    [
      "demo:sweep stage 1: best on the upper edge, a tie for third: centred on the edge, from just below the top three",
      DEMO,
      () => demoTrials,
      "max",
      (s) => {
        expect(s.low).toBeGreaterThanOrEqual(0.0415 / 10 ** 0.2 / 1.01); // the top three (0.0415-0.069), a margin of 0.2 decades
        expect(s.low).toBeLessThan(0.0415);
        expect(s.high).toBeGreaterThan(0.1);
        expect(near(centre(s), 0.1)).toBe(true);
        expect(decades(s)).toBeLessThan(2);
      },
    ],
    [
      "the same trials in the other order: the tie breaks the same way",
      DEMO,
      () => [...demoTrials].reverse(),
      "max",
      (s) =>
        expect([s.low, s.high]).toEqual([
          range(refineSpace(DEMO, demoTrials, "max", 3), "lr").low,
          range(refineSpace(DEMO, demoTrials, "max", 3), "lr").high,
        ]),
    ],
    [
      "best inside: within the old range, around the top trials, narrower",
      LR3,
      () => lrs([1e-4, 3e-4, 8e-4, 1.5e-3, 2e-3, 2.5e-3, 1e-2, 3e-2, 9e-2], (lr) => 0.9 - 0.1 * Math.log10(lr / 2e-3) ** 2),
      "max",
      (s) => {
        expect(s.low).toBeGreaterThan(1e-4);
        expect(s.high).toBeLessThan(1e-1);
        expect(s.low).toBeLessThanOrEqual(1.5e-3);
        expect(s.high).toBeGreaterThanOrEqual(2.5e-3);
        expect(near(centre(s), Math.sqrt(1.5e-3 * 2.5e-3), 0.05)).toBe(true);
        expect(decades(s)).toBeLessThan(3 * 0.5);
      },
    ],
    [
      "best on the lower edge: centred on it, below the old low",
      LR3,
      () => lrs([1.1e-4, 1.5e-4, 2e-4, 1e-3, 5e-3, 2e-2, 8e-2], (lr) => 0.9 - 0.1 * Math.log10(lr / 1e-4)),
      "max",
      (s) => {
        expect(s.low).toBeLessThan(1e-4);
        expect(s.high).toBeLessThan(1e-1);
        expect(s.high).toBeGreaterThanOrEqual(2e-4);
        expect(near(centre(s), 1e-4)).toBe(true);
        expect(decades(s)).toBeLessThan(3);
      },
    ],
    [
      "the top trials crowd the upper edge: a quarter of the old width each side of it",
      LR3,
      () => lrs([9e-2, 9.5e-2, 9.9e-2, 1e-3, 1e-4, 3e-4], (lr) => Math.log10(lr)),
      "max",
      (s) => {
        expect(near(s.low, 0.1 / 10 ** 0.75)).toBe(true);
        expect(near(s.high, 0.1 * 10 ** 0.75)).toBe(true);
      },
    ],
    [
      "best on the edge, the other top trials across the range: moved by half the old width, no wider",
      LR3,
      () => lrs([9.9e-2, 1.1e-4, 1.3e-4, 1e-2, 1e-3], (lr) => (lr > 5e-2 ? 0.95 : lr < 2e-4 ? 0.9 : 0.5)),
      "max",
      (s) => {
        expect(near(s.low, 0.1 / 10 ** 1.5)).toBe(true);
        expect(near(s.high, 0.1 * 10 ** 1.5)).toBe(true);
      },
    ],
    [
      "minimized loss, best on the upper edge: the same, by the goal",
      DEMO,
      () => demoTrials.map((t) => ({ ...t, objective: 1 - (t.objective as number) })),
      "min",
      (s) =>
        expect([s.low, s.high]).toEqual([
          range(refineSpace(DEMO, demoTrials, "max", 3), "lr").low,
          range(refineSpace(DEMO, demoTrials, "max", 3), "lr").high,
        ]),
    ],
  ])("%s", (_label, space, make, goal, check) => {
    const s = range(refineSpace(space, make(), goal, 3), "lr");
    expect(s.distribution).toBe("log_uniform");
    check(s);
  });

  test("the demo's suggestion and its boundary alert agree", () => {
    const a = analyzeSweep({ space: DEMO, objective: { metric: "val/acc", goal: "max" }, trials: demoTrials });
    expect(boundaryParams(a.alerts)).toEqual([
      { param: "lr", edge: "high", next: [range(a.suggestion as Space, "lr").low, range(a.suggestion as Space, "lr").high] },
    ]);
  });
});

describe("inferSpace", () => {
  test("numbers that vary become ranges (log when > 0 over 2 decades), strings choices; constants and identifiers are left out", () => {
    const trials = Array.from({ length: 6 }, (_, i) =>
      trial(
        i,
        { lr: 10 ** (-5 + i * 0.6), wd: 0.1 * i, layers: 1 + (i % 3), act: i % 2 ? "relu" : "tanh", path: `/data/run${i}`, epochs: 5, ok: true },
        { objective: i },
      ),
    );
    const s = inferSpace(trials);
    expect(Object.keys(s)).toEqual(["lr", "wd", "layers", "act"]);
    expect(s.lr).toMatchObject({ distribution: "log_uniform" });
    expect(range(s, "lr").low).toBeCloseTo(1e-5, 15);
    expect(s.wd).toEqual({ distribution: "uniform", low: 0, high: 0.5 });
    expect(s.layers).toEqual({ distribution: "int_uniform", low: 1, high: 3 });
    expect(s.act).toEqual({ distribution: "choice", values: ["tanh", "relu"] });
    expect(Object.getPrototypeOf(s)).toBeNull();
    expect(() => validateSpace(JSON.parse(JSON.stringify(s)))).not.toThrow();
  });

  test("user-named keys such as __proto__ are kept as data", () => {
    const trials = [0, 1, 2].map((i) => trial(i, JSON.parse(`{"__proto__": ${i + 1}, "constructor": "${i}"}`), { objective: i }));
    const s = inferSpace(trials);
    expect(Object.keys(s)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(s, "__proto__")?.value).toEqual({ distribution: "int_uniform", low: 1, high: 3 });
  });
});

describe("shouldStop (median stopping)", () => {
  const curve = (...vs: number[]): Array<[number, number]> => vs.map((v, i) => [i, v]);
  const peers = [curve(0.5, 0.6, 0.7), curve(0.5, 0.62, 0.72), curve(0.4, 0.6, 0.69), curve(0.5, 0.64, 0.75), curve(0.3, 0.5, 0.6)];
  const median = { rule: "median" as const, minTrials: 4, warmupSteps: 0 };
  test.each<
    [string, Array<[number, number]>, Array<Array<[number, number]>>, Goal, typeof median | typeof DEFAULT_EARLY_STOP, boolean, string | null]
  >([
    ["no points yet", [], peers, "max", median, false, null],
    ["NaN objective: diverged at any step", curve(0.5, Number.NaN), peers, "max", median, true, "diverged: the objective is NaN at step 1"],
    ["Infinity loss before the warmup", curve(2.3, Number.POSITIVE_INFINITY), peers, "min", { ...median, warmupSteps: 100 }, true, "diverged"],
    ["loss exploding past 10x its first value", curve(2.3, 5, 40), [], "min", median, true, "over 10x its first value"],
    ["clearly below the median of 5 others at step 2", curve(0.2, 0.3, 0.35), peers, "max", median, true, "below the median"],
    ["above the median", curve(0.6, 0.7, 0.8), peers, "max", median, false, null],
    ["below the median but before the warmup", curve(0.2, 0.3, 0.35), peers, "max", { ...median, warmupSteps: 5 }, false, null],
    ["below, but only 3 others reached its step", curve(0.2, 0.3, 0.35), peers.slice(0, 3), "max", median, false, null],
    [
      "others that have not reached the step do not count",
      curve(0.2, 0.3, 0.35),
      [...peers.slice(0, 3), curve(0.9), curve(0.9, 0.95)],
      "max",
      median,
      false,
      null,
    ],
    ["rule none never stops a finite trial", curve(0.2, 0.3, 0.35), peers, "max", { ...median, rule: "none" }, false, null],
    ["rule none still stops a NaN", curve(0.2, Number.NaN), peers, "max", { ...median, rule: "none" }, true, "diverged"],
    [
      "minimizing: a loss above the others' median",
      curve(2.3, 2.2, 2.1),
      [curve(2.3, 1.5, 1), curve(2.3, 1.4, 1.1), curve(2.2, 1.6, 0.9), curve(2.3, 1.2, 0.8)],
      "min",
      median,
      true,
      "below the median",
    ],
    ["the default rule", curve(0.2, 0.3, 0.35), peers, "max", DEFAULT_EARLY_STOP, true, "below the median"],
  ])("%s", (_label, t, others, goal, opts, stop, reason) => {
    const r = shouldStop(t, others, goal, opts);
    expect(r.stop).toBe(stop);
    if (reason === null) expect(r.reason).toBeNull();
    else expect(r.reason).toContain(reason);
    if (stop && reason?.startsWith("below")) expect(r.evidence).toMatchObject({ step: 2, others: expect.any(Number), median: expect.any(Number) });
  });

  test("compares with the others' best up to the same step, not their later values", () => {
    const late = [curve(0.1, 0.1, 0.1, 0.99), curve(0.1, 0.1, 0.1, 0.99), curve(0.1, 0.1, 0.1, 0.99), curve(0.1, 0.1, 0.1, 0.99)];
    expect(shouldStop(curve(0.2, 0.2, 0.2), late, "max", median).stop).toBe(false);
  });
});

describe("resolveObjective", () => {
  test.each<[string, { metric: string; goal: Goal } | null, string[], { metric: string; goal: Goal; declared: boolean }]>([
    ["declared wins", { metric: "val/f1", goal: "max" }, ["val/acc"], { metric: "val/f1", goal: "max", declared: true }],
    ["val/acc first", null, ["train/loss", "val/loss", "val/acc"], { metric: "val/acc", goal: "max", declared: false }],
    ["else val/loss", null, ["train/loss", "val/loss"], { metric: "val/loss", goal: "min", declared: false }],
    ["else train/loss", null, ["train/loss", "lr"], { metric: "train/loss", goal: "min", declared: false }],
    ["else loss", null, ["accuracy"], { metric: "loss", goal: "min", declared: false }],
  ])("%s", (_label, declared, keys, want) => {
    expect(resolveObjective(declared, new Set(keys))).toEqual(want);
  });
});

describe("spearman", () => {
  test.each<[number[], number[], number | null]>([
    [[1, 2, 3, 4], [10, 20, 30, 40], 1],
    [[1, 2, 3, 4], [4, 3, 2, 1], -1],
    [[1, 2, 3], [5, 5, 5], null],
    [[1, 2], [1, 2], null],
    [[1, 2, 2, 3], [1, 2, 2, 3], 1],
  ])("%j vs %j = %s", (a, b, want) => {
    const r = spearman(a, b);
    if (want === null) expect(r).toBeNull();
    else expect(r).toBeCloseTo(want, 12);
  });
});

describe("properties", () => {
  const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  const spec = fc.oneof(
    fc
      .tuple(finite, finite)
      .filter(([a, b]) => a !== b)
      .map(([a, b]) => ({ distribution: "uniform", low: Math.min(a, b), high: Math.max(a, b) })),
    fc
      .tuple(fc.double({ min: -200, max: 200, noNaN: true }), fc.double({ min: 0.01, max: 20, noNaN: true }))
      .map(([e, w]) => ({ distribution: "log_uniform", low: 10 ** e, high: 10 ** (e + w) })),
    fc
      .tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1000 }))
      .map(([a, w]) => ({ distribution: "int_uniform", low: a, high: a + w })),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.boolean()), { minLength: 1, maxLength: 5 }).map((values) => ({ distribution: "choice", values })),
    fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
  );
  const raw = fc.dictionary(fc.constantFrom("lr", "wd", "layers", "act", "é", "__proto__"), spec, { minKeys: 1, maxKeys: 4 });
  const outcomes = fc.array(
    fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 10 }).map((v) => ({ objective: v }) as Outcome),
      fc.constant({ objective: null, failure: "diverged" } as Outcome),
      fc.constant({ objective: null, failure: "crashed", alerts: ["no_learning"] } as Outcome),
    ),
    { maxLength: 40 },
  );

  test("refineSpace always returns a valid space, and analyzeSweep always answers with well-formed alerts", () => {
    fc.assert(
      fc.property(raw, outcomes, fc.constantFrom<Goal>("max", "min"), fc.integer({ min: 1, max: 6 }), fc.nat(1000), (r, outs, goal, top, seed) => {
        const space = validateSpace(JSON.parse(JSON.stringify(r)));
        const trials = outs.map((o, i) => trial(i, { ...sampleTrial(space, seed, i) }, o));
        const refined = refineSpace(space, trials, goal, top);
        validateSpace(JSON.parse(JSON.stringify(refined)));
        for (const inferred of [false, true]) {
          const a = analyzeSweep({ space: inferred ? null : space, objective: { metric: "m", goal }, trials });
          for (const al of a.alerts) {
            expect(SWEEP_ALERT_CODES).toContain(al.code);
            expect(al.message.length).toBeGreaterThan(20);
            expect(Object.keys(al.evidence).length).toBeGreaterThan(0);
          }
          if (a.suggestion) validateSpace(JSON.parse(JSON.stringify(a.suggestion)));
          if (inferred && Object.keys(a.space).length > 0) validateSpace(JSON.parse(JSON.stringify(a.space)));
        }
      }),
      { numRuns: 300, seed: 11 },
    );
  });

  test("the refined range of a numeric parameter is never wider than the old one (in scale units)", () => {
    fc.assert(
      fc.property(
        fc.nat(10_000),
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: -3, max: 3, noNaN: true }),
        (seed, n, top, slope) => {
          // an objective with a trend (either way) puts the best on an edge in many of these
          const trials = sweep(LR_MOM, n, (p, e) => ({ objective: slope * lg(p.lr) + (p.momentum as number) + e }), seed + 1);
          const r = refineSpace(LR_MOM, trials, "max", top);
          const lr = range(r, "lr");
          // ranges are rounded outward to 3 significant digits
          expect(Math.log10(lr.high / lr.low)).toBeLessThanOrEqual(3 + 0.01);
          const m = range(r, "momentum");
          expect(m.high - m.low).toBeLessThanOrEqual((0.99 - 0.8) * 1.01);
        },
      ),
      { numRuns: 300, seed: 17 },
    );
  });

  test("the refined range of a numeric parameter holds the best trial's value", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 5 }), (seed, n, top) => {
        const trials = sweep(LR_MOM, n, (_p, e) => ({ objective: e }), seed + 1);
        const best = [...trials].sort((a, b) => (b.objective as number) - (a.objective as number))[0];
        const r = refineSpace(LR_MOM, trials, "max", top);
        for (const name of ["lr", "momentum"]) {
          const s = range(r, name);
          const v = best.params[name] as number;
          // ranges are rounded outward to 3 significant digits
          expect(v).toBeGreaterThanOrEqual(s.low * (1 - 1e-2));
          expect(v).toBeLessThanOrEqual(s.high * (1 + 1e-2));
        }
        expect((r.act as { values: Scalar[] }).values).toContain(best.params.act);
      }),
      { numRuns: 200, seed: 5 },
    );
  });
});

describe("a flat parameter: the alert and the suggestion agree (table)", () => {
  // lr matters (peaked), the second parameter does nothing: the alert says fix it, so the suggested
  // next stage (and refine) fixes it at the best trial's value, never narrows or widens it
  const spaces: Array<[string, Space, string]> = [
    [
      "log_uniform weight decay",
      validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 }, wd: { distribution: "log_uniform", low: 1e-6, high: 1e-2 } }),
      "wd",
    ],
    [
      "uniform dropout",
      validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 }, dropout: { distribution: "uniform", low: 0, high: 0.5 } }),
      "dropout",
    ],
    [
      "int_uniform layers",
      validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 }, layers: { distribution: "int_uniform", low: 1, high: 8 } }),
      "layers",
    ],
  ];
  test.each(spaces)("%s", (_what, space, param) => {
    let raised = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const trials = sweep(space, 40, peaked(3e-4, 0.004), seed);
      const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials });
      const flat = byCode(a.alerts, "search_flat_parameter");
      const named = (flat?.evidence.params as Array<{ param: string }> | undefined)?.some((p) => p.param === param) ?? false;
      const spec = a.suggestion?.[param];
      if (named) {
        raised++;
        // fixed at the best trial's value, which the alert names
        expect(spec).toBe(a.best[0].params[param]);
        expect(flat?.message).toContain("the suggested next stage fixes it at the best trial's");
        expect(a.flat).toContainEqual({ param, value: a.best[0].params[param] });
      } else if (spec !== null && typeof spec === "object" && "low" in spec) {
        // not judged flat: whatever the suggestion does, it stays a valid range
        expect(spec.high).toBeGreaterThan(spec.low);
      }
      expect(a.suggestion?.lr).toMatchObject({ distribution: "log_uniform" });
    }
    expect(raised).toBeGreaterThanOrEqual(10);
  });

  test("the weight decay of the report: flat, best on its low edge -> fixed, not widened down past 1e-6", () => {
    const space = spaces[0][1];
    // the best trial has the smallest weight decay: without the fix the suggestion widened wd down
    const trials = sweep(space, 40, peaked(3e-4, 0.004), 3);
    const best = [...trials].sort((x, y) => (y.objective as number) - (x.objective as number))[0];
    const lowest = trials.reduce((lo, t) => Math.min(lo, t.params.wd as number), Number.POSITIVE_INFINITY);
    best.params.wd = lowest;
    const a = analyzeSweep({ space, objective: { metric: "val/acc", goal: "max" }, trials });
    if (byCode(a.alerts, "search_flat_parameter")) {
      expect(a.suggestion?.wd).toBe(lowest);
    } else {
      const wd = a.suggestion?.wd as { low: number };
      expect(typeof wd === "number" || wd.low >= 1e-6).toBe(true);
    }
  });
});

describe("pruned trials (should-stop told them to stop)", () => {
  test("refine narrows around trials that ran to their end; a pruned trial's best so far does not pick the region", () => {
    // the top value comes from a pruned trial at lr 1e-5 (its early best happens to be high); the
    // finished trials peak near 1e-3
    const trials = Array.from({ length: 12 }, (_, i) => {
      const lr = 10 ** (-5 + (3 * i) / 11);
      return trial(i, { lr }, { objective: 0.9 - 0.04 * (Math.log10(lr) + 3) ** 2 });
    });
    const pruned = trial(99, { lr: 1.2e-5 }, { objective: 0.95 });
    pruned.pruned = { rule: "median", reason: "below the median", step: 2, at: 1 };
    const all = [...trials, pruned];
    const withPruned = refineSpace(LR, all, "max", 3);
    const r = range(withPruned, "lr");
    expect(r.low).toBeGreaterThan(1e-5);
    expect(r.low).toBeLessThan(1e-3);
    expect(r.high).toBeGreaterThan(1e-3);
    // the same trial unmarked would pull the range down to the low edge
    const unmarked = refineSpace(LR, [...trials, trial(99, { lr: 1.2e-5 }, { objective: 0.95 })], "max", 3);
    expect(range(unmarked, "lr").low).toBeLessThan(r.low);
  });

  test("when every scored trial was pruned, they still say where to look", () => {
    const trials = Array.from({ length: 6 }, (_, i) => {
      const t = trial(i, { lr: 10 ** (-5 + (3 * i) / 5) }, { objective: 0.5 + 0.01 * i });
      t.pruned = { rule: "median", reason: "below the median", step: 1, at: 1 };
      return t;
    });
    const r = range(refineSpace(LR, trials, "max", 3), "lr");
    expect(r.high).toBeGreaterThan(1e-3);
  });
});
