// A small real search, end to end through the pure functions: a linear model really trained by
// minibatch SGD on seeded data, its learning rate sampled log-uniformly, a trial that diverges
// (its loss goes non-finite or explodes) marked failed as the server does, early stopping by the
// median rule between epochs, then analyzeSweep and a coarse-to-fine refine.
import { describe, expect, test } from "vitest";
import { analyzeSweep, curveDiverged, DEFAULT_EARLY_STOP, refineSpace, shouldStop } from "@/lib/sweeps/analysis";
import { sampleTrial, validateSpace } from "@/lib/sweeps/sampler";
import type { Space, SweepAlert, TrialSummary } from "@/lib/sweeps/types";

function lcg(seed: number) {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}
function gauss(rand: () => number) {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

// y = w.x + noise with features of different scales (the largest curvature sets where SGD diverges)
const D = 4;
const W = [1.5, -2, 0.5, 1];
const SCALES = [2, 1, 0.5, 1.5];
function data(n: number, seed: number) {
  const rand = lcg(seed);
  return Array.from({ length: n }, () => {
    const x = SCALES.map((s) => s * gauss(rand));
    return { x, y: x.reduce((a, v, i) => a + v * W[i], 0) + 0.3 * gauss(rand) };
  });
}
const TRAIN = data(256, 7);
const VAL = data(128, 8);
const EPOCHS = 4;

const mse = (w: number[], rows: typeof VAL) => rows.reduce((a, r) => a + (r.x.reduce((s, v, i) => s + v * w[i], 0) - r.y) ** 2, 0) / rows.length;

/** One trial: SGD with batch 16 for EPOCHS epochs, the val loss after each; stops early when told. */
function train(lr: number, stop: (curve: Array<[number, number]>) => boolean): { curve: Array<[number, number]>; stopped: boolean } {
  const w = new Array(D).fill(0);
  const curve: Array<[number, number]> = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    for (let b = 0; b < TRAIN.length; b += 16) {
      const g = new Array(D).fill(0);
      for (const r of TRAIN.slice(b, b + 16)) {
        const err = r.x.reduce((s, v, i) => s + v * w[i], 0) - r.y;
        for (let i = 0; i < D; i++) g[i] += (2 * err * r.x[i]) / 16;
      }
      for (let i = 0; i < D; i++) w[i] -= lr * g[i];
    }
    curve.push([epoch, mse(w, VAL)]);
    if (stop(curve)) return { curve, stopped: true };
  }
  return { curve, stopped: false };
}

/** Runs n trials of a space in order, each asking shouldStop against the trials before it. */
function search(space: Space, n: number, seed: number, earlyStop: boolean) {
  const trials: TrialSummary[] = [];
  let epochs = 0;
  for (let i = 0; i < n; i++) {
    const params = { ...sampleTrial(space, seed, i) };
    const others = trials.map((t) => t.curve);
    const { curve } = train(params.lr as number, (c) => {
      epochs++;
      return earlyStop ? shouldStop(c, others, "min", DEFAULT_EARLY_STOP).stop : curveDiverged(c, "min").diverged;
    });
    const diverged = curveDiverged(curve, "min").diverged;
    const finite = curve.filter(([, v]) => Number.isFinite(v)).map(([, v]) => v);
    trials.push({
      runId: `s${seed}-t${i}`,
      name: `trial ${i}`,
      index: i,
      status: "finished",
      params,
      objective: diverged || finite.length === 0 ? null : Math.min(...finite),
      failed: diverged,
      failure: diverged ? "diverged" : null,
      alerts: diverged ? ["divergence"] : [],
      curve,
      startedAt: i,
      finishedAt: i + 1,
    });
  }
  return { trials, epochs };
}

const objective = { metric: "val/loss", goal: "min" as const };
const code = (alerts: SweepAlert[], c: string) => alerts.find((a) => a.code === c);

describe("a small real search (linear model, SGD, 4 epochs per trial)", () => {
  test("coarse range [1e-5, 1e-2]: the best lr sits on the upper edge; refine moves past it and finds a better loss", () => {
    const coarse = validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-2 } });
    const s1 = search(coarse, 16, 3, false);
    expect(s1.trials.every((t) => !t.failed)).toBe(true);
    const a1 = analyzeSweep({ space: coarse, objective, trials: s1.trials });
    const boundary = code(a1.alerts, "search_boundary") as SweepAlert;
    expect(boundary).toBeDefined();
    expect(boundary.evidence.params).toMatchObject([{ param: "lr", edge: "high", scale: "log" }]);
    const fine = a1.suggestion as Space;
    const r = fine.lr as { low: number; high: number };
    expect(r.high).toBeGreaterThan(1e-2);
    const s2 = search(fine, 16, 4, false);
    const best = (ts: TrialSummary[]) => Math.min(...ts.filter((t) => !t.failed).map((t) => t.objective as number));
    // the next stage finds a clearly better loss (it is where the better region lay)
    expect(best(s2.trials)).toBeLessThan(best(s1.trials) * 0.5);
  });

  test("wide range [1e-2, 1e2]: most trials diverge; the alerts name lr and the working sub-range, no boundary", () => {
    const wide = validateSpace({ lr: { distribution: "log_uniform", low: 1e-2, high: 1e2 } });
    const { trials } = search(wide, 20, 5, false);
    const failed = trials.filter((t) => t.failed);
    expect(failed.length).toBeGreaterThanOrEqual(10);
    const a = analyzeSweep({ space: wide, objective, trials });
    expect(code(a.alerts, "search_boundary")).toBeUndefined();
    const tooWide = code(a.alerts, "search_range_too_wide") as SweepAlert;
    expect(tooWide.message).toMatch(/Trials with lr above [0-9.]+ failed/);
    const suggested = tooWide.evidence.suggested as { param: string; low: number; high: number };
    expect(suggested.param).toBe("lr");
    // every working trial's lr lies inside the suggested range, every diverged one above it
    for (const t of trials) {
      const lr = t.params.lr as number;
      if (t.failed) expect(lr).toBeGreaterThan(suggested.high);
      else expect(lr).toBeLessThanOrEqual(suggested.high);
    }
    expect(code(a.alerts, "search_trials_failing")?.message).toContain("lower its upper end");
    // refine stays below where training broke
    const next = refineSpace(wide, trials, "min", 3).lr as { high: number };
    expect(next.high).toBeLessThan(Math.min(...failed.map((t) => t.params.lr as number)));
  });

  test("median early stopping spends fewer epochs and keeps the best trial", () => {
    const space = validateSpace({ lr: { distribution: "log_uniform", low: 1e-5, high: 1e-1 } });
    const full = search(space, 24, 6, false);
    const early = search(space, 24, 6, true);
    const bestId = (ts: TrialSummary[]) =>
      [...ts].filter((t) => !t.failed).sort((a, b) => (a.objective as number) - (b.objective as number))[0].runId;
    expect(bestId(early.trials)).toBe(bestId(full.trials));
    expect(early.epochs).toBeLessThan(full.epochs * 0.8);
  });
});
