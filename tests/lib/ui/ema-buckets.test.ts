import { describe, expect, test } from "vitest";
import { type EmaState, type SmoothIn, chartUnit, emaFold, lineSpacing, smooth } from "@/lib/ui/ema";

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

/** A bucket of `n` finite values of mean `y` over steps step..lastStep (`count` points in all). */
const bucket = (y: number | null, n: number, step: number, lastStep = step, count = n): SmoothIn => ({
  step,
  lastStep,
  mean: y,
  count,
  nan: count - n,
  posInf: 0,
  negInf: 0,
});

/** Raw points, one a bucket, at steps `first`, `first + every`, … */
const raw = (values: readonly number[], first = 0, every = 1): SmoothIn[] => values.map((y, i) => bucket(y, 1, first + i * every));

/** The smoothed values (all the chart draws of a line is these and where they break). */
const emaPoints = (points: readonly SmoothIn[], w: number, from?: ReturnType<typeof emaFold>) => smooth(points, w, { from }).values;

/** Buckets of `size` consecutive points (steps = indices), as the server sends them: mean of finite values, count. */
function bucketed(values: number[], size: number, first = 0): { buckets: SmoothIn[]; lastIndex: number[] } {
  const buckets: SmoothIn[] = [];
  const lastIndex: number[] = [];
  for (let i = 0; i < values.length; i += size) {
    const all = values.slice(i, i + size);
    const part = all.filter(Number.isFinite);
    const mean = part.length ? part.reduce((a, b) => a + b, 0) / part.length : null;
    buckets.push(bucket(mean, part.length, first + i, first + i + all.length - 1, all.length));
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
    expect(Math.abs(emaPoints(raw(bucketed(long, 100).buckets.map((b) => b.mean as number)), w)[lastIndex(long, 100, at)]! - exact)).toBeGreaterThan(
      0.05,
    );
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
    const sm = emaPoints(raw(values), w);
    const exact = rawEma(values, w);
    sm.forEach((v, i) => expect(v).toBeCloseTo(exact[i], 12));
  });

  test("a straight run of points gives the raw EMA exactly, whatever the buckets' sizes", () => {
    const sizes = [1, 7, 30, 2, 100, 1, 13, 50];
    const values = Array.from({ length: sizes.reduce((a, b) => a + b, 0) }, (_, i) => 3 - 0.01 * i);
    const exact = rawEma(values, w);
    const buckets: SmoothIn[] = [];
    let start = 0;
    for (const n of sizes) {
      buckets.push(bucket(values.slice(start, start + n).reduce((a, b) => a + b, 0) / n, n, start, start + n - 1));
      start += n;
    }
    let end = -1;
    emaPoints(buckets, w).forEach((v, i) => {
      end += sizes[i];
      expect(v).toBeCloseTo(exact[end], 10);
    });
  });

  test("a zoomed range, seeded by the coarse buckets before it, reads as the whole series does", () => {
    const exact = rawEma(long, w);
    // zoom on steps 40,000..41,000 at full resolution; the 40,000 steps before it in 200 buckets
    const seed = emaFold(bucketed(long.slice(0, 40_000), 200).buckets, w);
    const zoom = long.slice(40_000, 41_000);
    const sm = emaPoints(raw(zoom, 40_000), w, seed);
    sm.forEach((v, i) => expect(Math.abs(v! - exact[40_000 + i])).toBeLessThan(0.005));
    // unseeded, the zoom would restart the average (what it did before)
    const restarted = emaPoints(raw(zoom, 40_000), w);
    expect(restarted[0]).toBe(zoom[0]);
  });

  test("NaN points in a bucket do not count: a bucket's weight is its finite points", () => {
    // raw: 1, NaN, NaN, 2, 3, NaN, 4, 5 in buckets [1], [NaN, NaN], [2], [3, NaN, 4], [5]
    const exact = rawEma([1, 2, 3, 4, 5], 0.6);
    const sm = emaPoints([bucket(1, 1, 0), bucket(null, 0, 1, 2, 2), bucket(2, 1, 3), bucket(3.5, 2, 4, 6, 3), bucket(5, 1, 7)], 0.6);
    expect(sm[1]).toBeNull();
    expect(sm[0]).toBeCloseTo(exact[0], 12);
    expect(sm[2]).toBeCloseTo(exact[1], 12);
    expect(sm[3]).toBeCloseTo(exact[3], 12);
    expect(sm[4]).toBeCloseTo(exact[4], 12);
  });
});

describe("a sparse series does not lag behind its own dots", () => {
  // one validation point per epoch: 10 points, smoothed heavily
  const dots = [2.0, 1.4, 1.1, 0.95, 0.9, 0.86, 0.84, 0.83, 0.82, 0.82];

  test.each([0.6, 0.9, 0.95, 0.99])("weight %f: starts on the first dot, and is TensorBoard's debiased EMA", (w) => {
    const sm = emaPoints(raw(dots, 0, 500), w);
    expect(sm[0]).toBe(dots[0]);
    const exact = rawEma(dots, w);
    sm.forEach((v, i) => expect(v).toBeCloseTo(exact[i], 12));
    // never below the dots' own range (an undebiased EMA starts at (1 - w) x the first dot)
    for (const v of sm) expect(v!).toBeGreaterThanOrEqual(Math.min(...dots) - 1e-12);
  });
});

describe("smoothing decays by steps, in the chart's finest logging interval", () => {
  // train logged every step, validation every 500 steps, one chart: the same curve underneath
  const curve = (step: number) => 0.3 + 1.7 * Math.exp(-step / 3000);
  const train = Array.from({ length: 10_000 }, (_, s) => curve(s));
  const valSteps = Array.from({ length: 20 }, (_, i) => i * 500);
  const val = raw(
    valSteps.map((s) => curve(s) + 0.05),
    0,
    500,
  );

  test.each<[string, SmoothIn[], number]>([
    ["raw, every step", raw(train), 1],
    ["10 points a bucket", bucketed(train, 10).buckets, 1],
    ["100 points a bucket", bucketed(train, 100).buckets, 1],
    ["a zoom at full resolution", raw(train.slice(4000, 4300), 4000), 1],
    ["every 500 steps", val, 500],
    [
      "every 7 steps, 30 points a bucket",
      bucketed(Array(3000).fill(1), 30).buckets.map((b) => ({ ...b, step: b.step * 7, lastStep: b.lastStep * 7 })),
      7,
    ],
  ])("a line's logging interval reads the same at any bucketing: %s", (_what, points, interval) => {
    expect(lineSpacing(points)).toBeCloseTo(interval, 9);
  });

  test.each([0.6, 0.9, 0.99])("weight %f: the validation line lags its dots no more than the train line beside it lags the curve", (w) => {
    const unit = chartUnit([lineSpacing(raw(train)), lineSpacing(val)]);
    expect(unit).toBe(1);
    const trainSm = smooth(raw(train), w, { unit }).values;
    const valSm = smooth(val, w, { unit }).values;
    valSteps.forEach((s, i) => {
      const valLag = Math.abs(valSm[i]! - (val[i].mean as number));
      const trainLag = Math.abs(trainSm[s]! - train[s]);
      expect(valLag).toBeLessThanOrEqual(trainLag + 1e-9);
    });
    if (w === 0.6) valSm.forEach((v, i) => expect(v).toBeCloseTo(val[i].mean as number, 9));
    // smoothed point by point (what it did before), validation at 0.6 sat 1.5 epochs behind its dots
    if (w === 0.6) expect(Math.abs(smooth(val, w).values[1]! - (val[1].mean as number))).toBeGreaterThan(0.05);
  });

  test("points ten million units apart (the decay underflows to 0): each reads its own value, never NaN", () => {
    // the middle bucket's two points are 10 million steps apart too: it reads its last point's estimate
    const far = [bucket(1, 1, 0), bucket(2, 2, 10_000_000, 20_000_000), bucket(3, 1, 30_000_000)];
    const { values } = smooth(far, 0.99, { unit: 1, spacing: 1e9 });
    expect(values[0]).toBe(1);
    expect(values[1]).toBeCloseTo(2 + 0.5 * (2 / 3), 12);
    expect(values[2]).toBe(3);
  });

  test("the validation line's smoothing does not change with how the train line is bucketed (length, zoom)", () => {
    const at = (trainPoints: SmoothIn[]) => smooth(val, 0.99, { unit: chartUnit([lineSpacing(trainPoints), lineSpacing(val)]) }).values;
    expect(at(bucketed(train, 100).buckets)).toEqual(at(raw(train)));
    expect(at(raw(train.slice(2000, 2600), 2000))).toEqual(at(raw(train)));
  });
});

describe("a gap restarts the average and breaks the line", () => {
  // steps 0..999, then nothing until a resume at 5,000..5,999 on another level
  const before = Array.from({ length: 1000 }, (_, i) => loss(i));
  const after = Array.from({ length: 1000 }, (_, i) => loss(i) - 0.5);
  const resumed = [...raw(before), ...raw(after, 5000)];

  test("raw points: the first point after the gap is smoothed from itself alone", () => {
    const { values, breaks } = smooth(resumed, 0.99);
    expect(breaks).toEqual([1000]);
    expect(values[1000]).toBe(after[0]);
    const restarted = rawEma(after, 0.99);
    for (let i = 0; i < 1000; i++) expect(values[1000 + i]).toBeCloseTo(restarted[i], 9);
  });

  test.each([10, 100])("%i points a bucket: the break is at the same step and the line after it reads the restarted EMA", (size) => {
    const points = [...bucketed(before, size).buckets, ...bucketed(after, size, 5000).buckets];
    const { values, breaks } = smooth(points, 0.95);
    expect(breaks).toEqual([1000 / size]);
    expect(points[breaks[0]].step).toBe(5000);
    const restarted = rawEma(after, 0.95);
    bucketed(after, size).lastIndex.forEach((last, i) => expect(Math.abs(values[1000 / size + i]! - restarted[last])).toBeLessThan(0.01));
  });

  test.each<[string, SmoothIn[], EmaState | undefined]>([
    [
      "a run of 50 NaN steps",
      [...raw(before.slice(0, 100)), ...Array.from({ length: 50 }, (_, i) => bucket(null, 0, 100 + i, 100 + i, 1)), ...raw(before.slice(150), 150)],
      undefined,
    ],
    ["a line logged every 500 steps", raw(before.slice(0, 20), 0, 500), undefined],
    ["a zoom seeded by the steps before it", raw(before.slice(500, 600), 500), emaFold(bucketed(before.slice(0, 500), 50).buckets, 0.9)],
  ])("no gap, no break: %s", (_what, points, from) => {
    const { values, breaks } = smooth(points, 0.9, { from });
    expect(breaks).toEqual([]);
    // and no restart: the average runs on
    const firstAfter = values.findIndex((v, i) => i > 0 && v !== null);
    expect(values[firstAfter]).not.toBe(points[firstAfter].mean);
  });
});
