import { describe, expect, test } from "vitest";
import { MAX_SERIES_POINTS, MIN_SERIES_POINTS, diagnosticsBudget, histogramCap, memoryBudgetBytes, seriesCap } from "@/lib/memory-budget";
import { diagnose } from "@/lib/diagnostics";
import { HEAD_POINTS, thinEvents, thinHistograms, thinSeries } from "@/lib/diagnostics/thin";
import type { SeriesPoints } from "@/lib/diagnostics/types";
import { decayingLoss, gauss, hist, makeRun, series } from "../diagnostics/synth";

const copy = (s: SeriesPoints): SeriesPoints => ({ steps: [...s.steps], values: [...s.values] });

/** Appends points one batch at a time, thinning after each like the live watcher does. */
function stream(full: SeriesPoints, cap: number, batch = 500): SeriesPoints {
  const s: SeriesPoints = { steps: [], values: [] };
  for (let i = 0; i < full.steps.length; i += batch) {
    s.steps.push(...full.steps.slice(i, i + batch));
    s.values.push(...full.values.slice(i, i + batch));
    thinSeries(s, cap);
  }
  return s;
}

describe("thinning a long series for the diagnostics", () => {
  const g = gauss(7);
  const full = series(100_000, (i) => Math.sin(i / 500) + 0.1 * g());
  full.values[40_000] = 50; // a spike in the middle
  full.values[41_000] = -50;
  full.values[50_000] = Number.NaN;
  full.values[60_000] = Number.POSITIVE_INFINITY;
  full.values[60_001] = Number.NEGATIVE_INFINITY;

  test.each([64, 4096, 10_000, 30_000])("cap %i: bounded, sorted, start and recent half exact, extremes and non-finite values kept", (cap) => {
    const s = stream(full, cap);
    expect(s.steps.length).toBeLessThanOrEqual(cap);
    for (let i = 1; i < s.steps.length; i++) expect(s.steps[i]).toBeGreaterThan(s.steps[i - 1]);
    const head = Math.min(HEAD_POINTS, Math.floor(cap / 8));
    expect(s.steps.slice(0, head)).toEqual(full.steps.slice(0, head));
    const tail = Math.floor(cap / 2);
    expect(s.values.slice(-tail)).toEqual(full.values.slice(-tail));
    expect(s.steps.slice(-tail)).toEqual(full.steps.slice(-tail));
    const at = (step: number) => s.values[s.steps.indexOf(step)];
    expect(at(full.steps[40_000])).toBe(50);
    expect(at(full.steps[41_000])).toBe(-50);
    expect(at(full.steps[50_000])).toBeNaN();
    expect(at(full.steps[60_000])).toBe(Number.POSITIVE_INFINITY);
    expect(at(full.steps[60_001]) === Number.NEGATIVE_INFINITY || s.values.includes(Number.NEGATIVE_INFINITY)).toBe(true);
    // every kept point is a real logged point
    for (let i = 0; i < s.steps.length; i++) {
      const v = full.values[full.steps.indexOf(s.steps[i])];
      expect(Object.is(v, s.values[i]) || (Number.isNaN(v) && Number.isNaN(s.values[i]))).toBe(true);
    }
  });

  test("a series within its cap is untouched", () => {
    const s = copy(full);
    s.steps.length = s.values.length = 5000;
    expect(thinSeries(s, 5000)).toBe(false);
    expect(s.steps.length).toBe(5000);
  });

  test("thinning is amortized: a 1M-point stream thins a bounded number of times", () => {
    const s: SeriesPoints = { steps: [], values: [] };
    let thinnings = 0;
    for (let i = 0; i < 1_000_000; i++) {
      s.steps.push(i);
      s.values.push(i % 7);
      if (i % 100 === 99 && thinSeries(s, 10_000)) thinnings++;
    }
    expect(s.steps.length).toBeLessThanOrEqual(10_000);
    expect(thinnings).toBeLessThanOrEqual(1_000_000 / 1000);
  });
});

describe("the diagnoses of a thinned run are those of the full run", () => {
  const n = 60_000;
  const cases: [string, () => ReturnType<typeof makeRun>][] = [
    ["a healthy long run", () => makeRun({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(n) } })],
    [
      "a run that diverges to NaN",
      () => {
        const loss = decayingLoss(n, { seed: 3 });
        for (let i = 45_000; i < n; i++) loss.values[i] = i < 45_100 ? loss.values[i] * 1.2 ** (i - 45_000) : Number.NaN;
        return makeRun({ config: { num_classes: 10 }, series: { "train/loss": loss } });
      },
    ],
    [
      "a run whose loss starts far from ln C",
      () => makeRun({ config: { num_classes: 10 }, series: { "train/loss": decayingLoss(n, { start: 40, seed: 5 }) } }),
    ],
  ];
  test.each(cases)("%s", (_, make) => {
    const full = makeRun({});
    const run = make();
    full.config = run.config;
    for (const [k, s] of run.series) full.series.set(k, copy(s));
    // the cap each of 100 series gets at the smallest budget (BABYSIT_MEMORY_MB=16)
    for (const s of run.series.values()) thinSeries(s, seriesCap(diagnosticsBudget(16 * 1024 * 1024), 100));
    expect(run.series.get("train/loss")!.steps.length).toBeLessThan(n / 10);
    const codes = (r: typeof run) =>
      diagnose(r)
        .map((d) => `${d.code}:${d.severity}`)
        .sort();
    expect(codes(run)).toEqual(codes(full));
  });
});

describe("histograms and events", () => {
  test("histogram records: bounded, first and recent kept", () => {
    const list = Array.from({ length: 5000 }, (_, i) => hist(i * 10, -1, 1, (x) => Math.exp(-x * x)));
    for (const cap of [24, 100, 256]) {
      const l = [...list];
      thinHistograms(l, cap);
      expect(l.length).toBeLessThanOrEqual(cap);
      expect(l[0].step).toBe(0);
      expect(l[l.length - 1].step).toBe(49_990);
      for (let i = 1; i < l.length; i++) expect(l[i].step).toBeGreaterThan(l[i - 1].step);
    }
  });

  test("events: the first ones and the most recent are kept", () => {
    const events = Array.from({ length: 25_000 }, (_, i) => ({ type: i === 0 ? "input_stats" : "note", step: i, data: {} }));
    thinEvents(events, 10_000);
    expect(events.length).toBe(9000);
    expect(events[0].type).toBe("input_stats");
    expect(events[events.length - 1].step).toBe(24_999);
  });
});

describe("the budget", () => {
  test.each([
    [undefined, 512],
    ["256", 256],
    ["2048", 2048],
    ["junk", 512],
    ["1", 512],
  ])("BABYSIT_MEMORY_MB=%s -> %i MiB", (v, mb) => {
    expect(memoryBudgetBytes({ BABYSIT_MEMORY_MB: v })).toBe(mb * 1024 * 1024);
  });

  test("caps shrink with the number of live series, within bounds", () => {
    const b = 1024 * 1024 * 1024;
    expect(seriesCap(b, 1)).toBe(MAX_SERIES_POINTS);
    expect(seriesCap(b, 2000)).toBeLessThan(seriesCap(b, 100));
    expect(seriesCap(b, 10_000_000)).toBe(MIN_SERIES_POINTS);
    // what the caps allow fits the budget while they are above the floor
    expect(seriesCap(b, 2000) * 2000 * 2 * 12).toBeLessThanOrEqual(b);
    expect(histogramCap(b, 500, 2001)).toBeLessThan(histogramCap(b, 5, 2001));
    expect(histogramCap(b, 1e6, 2001)).toBe(24);
  });
});
