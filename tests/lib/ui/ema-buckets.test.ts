import { describe, expect, test } from "vitest";
import { type SmoothIn, ema, emaFold, emaPoints } from "@/lib/ui/ema";

// The smoothed line is the EMA of the raw points, whatever bucketing the chart drew them in: its
// length (10k or 100k steps in ~1000 buckets), a zoom (the range's buckets, seeded by what came
// before), or raw points one by one. Buckets carry their mean and how many finite points they hold.

/** Deterministic noisy loss curve: the same at a step whatever the run's length. */
function loss(step: number): number {
  const noise = Math.sin(step * 12.9898) * 43758.5453;
  return 0.3 + 1.7 * Math.exp(-step / 3000) + 0.05 * (noise - Math.floor(noise) - 0.5);
}

/** The raw EMA (TensorBoard's, debiased) after each raw point. */
function rawEma(values: number[], w: number): number[] {
  let acc = 0;
  return values.map((v, i) => {
    acc = acc * w + (1 - w) * v;
    return acc / (1 - w ** (i + 1));
  });
}

/** Buckets of `size` consecutive points, as the server sends them: mean of finite values, count. */
function bucketed(values: number[], size: number): { buckets: SmoothIn[]; lastIndex: number[] } {
  const buckets: SmoothIn[] = [];
  const lastIndex: number[] = [];
  for (let i = 0; i < values.length; i += size) {
    const part = values.slice(i, i + size).filter(Number.isFinite);
    buckets.push({ y: part.length ? part.reduce((a, b) => a + b, 0) / part.length : null, n: part.length });
    lastIndex.push(Math.min(values.length, i + size) - 1);
  }
  return { buckets, lastIndex };
}

const lastIndex = (values: number[], size: number, at: number) => bucketed(values, size).lastIndex.indexOf(at);

const steps = (n: number) => Array.from({ length: n }, (_, i) => loss(i));

describe("smoothing does not depend on the series' length or the zoom", () => {
  const w = 0.95;
  const short = steps(10_000);
  const long = steps(100_000);
  // both bucketings end a bucket at step 5,099 (5,090-5,099 and 5,000-5,099): read there
  const at = 5_099;
  const exact = rawEma(short, w)[at];

  test("two runs with the same first 10,000 steps read the raw EMA at step 5,099, one 10k and one 100k steps long", () => {
    // 10k steps in 1,000 buckets of 10, 100k steps in 1,000 buckets of 100 (what a chart asks for)
    const read = (values: number[], size: number) => {
      const { buckets, lastIndex } = bucketed(values, size);
      return emaPoints(buckets, w)[lastIndex.indexOf(at)]!;
    };
    expect(rawEma(long, w)[at]).toBe(exact);
    expect(Math.abs(read(short, 10) - exact)).toBeLessThan(0.005);
    expect(Math.abs(read(long, 100) - exact)).toBeLessThan(0.005);
    // before, each bucket counted as one point: 100 points a bucket smoothed over 20 x 100 steps
    expect(
      Math.abs(
        ema(
          bucketed(long, 100).buckets.map((b) => b.y),
          w,
        )[lastIndex(long, 100, at)]! - exact,
      ),
    ).toBeGreaterThan(0.05);
  });

  // the raw EMA itself wanders by about 0.007 here (the noise it keeps); a bucket's mean cannot know that
  test.each([
    [1, 1e-12],
    [2, 0.01],
    [10, 0.01],
    [100, 0.01],
    [1000, 0.03], // a million steps in 1,000 buckets: the first bucket holds the steepest part
  ])("within a small tolerance of the raw EMA at every bucket end, %i points a bucket", (size, tolerance) => {
    const raw = rawEma(long, w);
    const { buckets, lastIndex } = bucketed(long, size);
    const sm = emaPoints(buckets, w);
    let worst = 0;
    sm.forEach((v, i) => (worst = Math.max(worst, Math.abs(v! - raw[lastIndex[i]]))));
    expect(worst).toBeLessThan(tolerance);
  });

  test("one point a bucket is TensorBoard's smoothing exactly", () => {
    const values = short.slice(0, 500);
    const sm = emaPoints(
      values.map((y) => ({ y, n: 1 })),
      w,
    );
    const raw = rawEma(values, w);
    sm.forEach((v, i) => expect(v).toBeCloseTo(raw[i], 12));
    expect(ema(values, w)).toEqual(sm);
  });

  test("a straight run of points gives the raw EMA exactly, whatever the buckets' sizes", () => {
    const sizes = [1, 7, 30, 2, 100, 1, 13, 50];
    const values = Array.from({ length: sizes.reduce((a, b) => a + b, 0) }, (_, i) => 3 - 0.01 * i);
    const raw = rawEma(values, w);
    const buckets: SmoothIn[] = [];
    let start = 0;
    for (const n of sizes) {
      buckets.push({ y: values.slice(start, start + n).reduce((a, b) => a + b, 0) / n, n });
      start += n;
    }
    let end = -1;
    emaPoints(buckets, w).forEach((v, i) => {
      end += sizes[i];
      expect(v).toBeCloseTo(raw[end], 10);
    });
  });

  test("a zoomed range, seeded by the coarse buckets before it, reads as the whole series does", () => {
    const raw = rawEma(long, w);
    // zoom on steps 40,000..41,000 at full resolution; the 40,000 steps before it in 200 buckets
    const seed = emaFold(bucketed(long.slice(0, 40_000), 200).buckets, w);
    const zoom = long.slice(40_000, 41_000);
    const sm = emaPoints(
      zoom.map((y) => ({ y, n: 1 })),
      w,
      seed,
    );
    sm.forEach((v, i) => expect(Math.abs(v! - raw[40_000 + i])).toBeLessThan(0.005));
    // unseeded, the zoom would restart the average (what it did before)
    const restarted = emaPoints(
      zoom.map((y) => ({ y, n: 1 })),
      w,
    );
    expect(restarted[0]).toBe(zoom[0]);
  });

  test("NaN points in a bucket do not count: a bucket's weight is its finite points", () => {
    // raw: 1, NaN, NaN, 2, 3, NaN, 4, 5 in buckets [1], [NaN, NaN], [2], [3, NaN, 4], [5]
    const raw = rawEma([1, 2, 3, 4, 5], 0.6);
    const sm = emaPoints(
      [
        { y: 1, n: 1 },
        { y: null, n: 0 },
        { y: 2, n: 1 },
        { y: 3.5, n: 2 },
        { y: 5, n: 1 },
      ],
      0.6,
    );
    expect(sm[1]).toBeNull();
    expect(sm[0]).toBeCloseTo(raw[0], 12);
    expect(sm[2]).toBeCloseTo(raw[1], 12);
    expect(sm[3]).toBeCloseTo(raw[3], 12);
    expect(sm[4]).toBeCloseTo(raw[4], 12);
  });
});

describe("a sparse series does not lag behind its own dots", () => {
  // one validation point per epoch: 10 points, smoothed heavily
  const dots = [2.0, 1.4, 1.1, 0.95, 0.9, 0.86, 0.84, 0.83, 0.82, 0.82];

  test.each([0.6, 0.9, 0.95, 0.99])("weight %f: starts on the first dot, and is TensorBoard's debiased EMA", (w) => {
    const sm = emaPoints(
      dots.map((y) => ({ y, n: 1 })),
      w,
    );
    expect(sm[0]).toBe(dots[0]);
    const raw = rawEma(dots, w);
    sm.forEach((v, i) => expect(v).toBeCloseTo(raw[i], 12));
    // never below the dots' own range (an undebiased EMA starts at (1 - w) x the first dot)
    for (const v of sm) expect(v!).toBeGreaterThanOrEqual(Math.min(...dots) - 1e-12);
  });
});
