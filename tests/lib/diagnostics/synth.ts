// Synthetic runs for the rule tests: deterministic noise, any logging frequency.

import type { HistogramRecord, RunData, RunEvent, SeriesPoints } from "../../../lib/diagnostics/types";

/** Deterministic PRNG (mulberry32) so that every test run sees the same "noise". */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal noise from a seeded generator. */
export function gauss(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

/**
 * n points logged every `every` steps from `start`; f gets the point index and the progress
 * 0..1 through the run.
 */
export function series(n: number, f: (i: number, p: number) => number, every = 1, start = 1): SeriesPoints {
  const steps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    steps.push(start + i * every);
    values.push(f(i, n > 1 ? i / (n - 1) : 1));
  }
  return { steps, values };
}

export const constant = (n: number, v: number, every = 1): SeriesPoints => series(n, () => v, every);

/** A healthy classification loss: ~ln 10 at the start, decaying towards `floor`, minibatch noise. */
export function decayingLoss(n: number, opts: { start?: number; floor?: number; tau?: number; noise?: number; seed?: number } = {}): SeriesPoints {
  const { start = 2.35, floor = 0.02, tau = 0.15, noise = 0.08, seed = 1 } = opts;
  const g = gauss(seed);
  return series(n, (_, p) => {
    const level = floor + (start - floor) * Math.exp(-p / tau);
    return Math.max(1e-4, level * (1 + noise * g()));
  });
}

export interface RunSpec {
  config?: Record<string, any>;
  series?: Record<string, SeriesPoints>;
  histograms?: Record<string, HistogramRecord[]>;
  events?: RunEvent[];
  finished?: boolean;
}

export function makeRun(spec: RunSpec = {}): RunData {
  return {
    config: spec.config ?? {},
    series: new Map(Object.entries(spec.series ?? {})),
    histograms: new Map(Object.entries(spec.histograms ?? {})),
    events: spec.events ?? [],
    finished: spec.finished ?? false,
  };
}

/** A 30-bin histogram over [lo, hi] from a density (unnormalized) evaluated at the bin centres. */
export function hist(step: number, lo: number, hi: number, density: (x: number) => number, total = 10000): HistogramRecord {
  const bins = 30;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const w = edges.slice(0, bins).map((e, i) => Math.max(0, density((e + edges[i + 1]) / 2)));
  const sum = w.reduce((a, b) => a + b, 0) || 1;
  return { step, edges, counts: w.map((x) => Math.round((x / sum) * total)) };
}

/** The first `frac` of every series of a run (what the server has seen part-way through). */
export function truncate(run: RunData, frac: number): RunData {
  const lastStep = Math.max(...[...run.series.values()].map((s) => s.steps[s.steps.length - 1] ?? 0));
  const cut = lastStep * frac;
  const series = new Map<string, SeriesPoints>();
  for (const [k, s] of run.series) {
    const n = s.steps.filter((x) => x <= cut).length;
    if (n > 0) series.set(k, { steps: s.steps.slice(0, n), values: s.values.slice(0, n) });
  }
  const histograms = new Map<string, HistogramRecord[]>();
  for (const [k, h] of run.histograms)
    histograms.set(
      k,
      h.filter((r) => r.step <= cut),
    );
  return { ...run, series, histograms, finished: false };
}
