import { describe, expect, test } from "vitest";
import { type SmoothIn, smooth } from "@/lib/ui/ema";

// TensorBoard's smoothing of raw points (one bucket each, one step apart): debiased, NaN-proof.

/** Raw values logged at steps 0, 1, 2, … (null: nothing finite there). */
const points = (values: readonly (number | null)[]): SmoothIn[] =>
  values.map((v, step) => ({
    step,
    lastStep: step,
    mean: v !== null && Number.isFinite(v) ? v : null,
    count: 1,
    nan: v !== null && Number.isNaN(v) ? 1 : 0,
    posInf: v === Infinity ? 1 : 0,
    negInf: v === -Infinity ? 1 : 0,
  }));
const ema = (values: readonly (number | null)[], w: number) => smooth(points(values), w).values;

describe("TensorBoard smoothing of raw points", () => {
  test("is debiased: the first smoothed value is the first value, not pulled towards 0", () => {
    const out = ema([10, 10, 10], 0.9);
    expect(out[0]).toBeCloseTo(10, 12);
    expect(out[2]).toBeCloseTo(10, 12);
  });

  test("matches TensorBoard's recurrence", () => {
    const w = 0.6;
    const values = [1, 3, 2, 5];
    let last = 0;
    const expected = values.map((v, i) => {
      last = last * w + (1 - w) * v;
      return last / (1 - w ** (i + 1));
    });
    expect(ema(values, w)).toEqual(expected.map((e) => expect.closeTo(e, 12)));
  });

  test.each([
    ["NaN", NaN],
    ["+Infinity", Infinity],
    ["-Infinity", -Infinity],
    ["missing", null],
  ])("skips %s without poisoning later values", (_name, bad) => {
    const out = ema([2, bad, 2, 4], 0.5);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeCloseTo(2, 12);
    // same as smoothing [2, 2, 4]
    expect(out[3]).toBeCloseTo(ema([2, 2, 4], 0.5)[2]!, 12);
  });

  test("weight 0 returns the values; a leading NaN does not start the average at 0", () => {
    expect(ema([1, NaN, 3], 0)).toEqual([1, null, 3]);
    expect(ema([NaN, 5], 0.9)[1]).toBeCloseTo(5, 12);
  });

  test("weight is clamped to 0.99 so the line still moves", () => {
    const out = ema([0, 100], 1);
    expect(out[1]).toBeGreaterThan(49);
  });
});

test("a constant series stays exactly constant (no float noise that a chart would magnify)", () => {
  const out = ema(Array(50).fill(0.01), 0.9);
  expect(out.every((v) => v === 0.01)).toBe(true);
});
