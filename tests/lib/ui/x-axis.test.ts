import { describe, expect, test } from "vitest";
import { epochAt, formatDuration, stepRangeOf, xOf } from "@/lib/ui/x-axis";

const epoch = { steps: [0, 100, 200], values: [0, 1, 2] };

describe("x axis mapping", () => {
  test.each([
    [0, 0],
    [50, 0.5],
    [100, 1],
    [150, 1.5],
    [250, 2.5], // past the last epoch point: extended along the last segment
  ])("epoch at step %d is %d", (step, want) => {
    expect(epochAt(epoch, step)).toBeCloseTo(want, 12);
  });

  test("epoch logged only at epoch ends still maps the steps in between", () => {
    const sparse = { steps: [99, 199], values: [1, 2] };
    expect(epochAt(sparse, 149)).toBeCloseTo(1.5, 12);
    expect(epochAt(sparse, 0)).toBeCloseTo(0.01, 12);
    expect(epochAt({ steps: [], values: [] }, 3)).toBeNull();
    expect(epochAt({ steps: [5], values: [7] }, 3)).toBe(7);
  });

  test.each([
    ["step", 120, 120],
    ["epoch", 120, 1.2],
    ["relative", 120, 30],
    ["absolute", 120, 1_000_030_000],
  ] as const)("%s", (mode, step, want) => {
    expect(xOf(mode, step, 1_000_030, { t0: 1_000_000, epoch })).toBeCloseTo(want, 9);
  });

  test("epoch mode without an epoch series has no x", () => {
    expect(xOf("epoch", 5, 0, { t0: 0, epoch: null })).toBeNull();
  });

  test.each([
    [0.5, "0.5s"],
    [42, "42s"],
    [75, "1m15s"],
    [3725, "1h02m"],
    [90000, "1d01h"],
  ])("duration %d -> %s", (s, want) => {
    expect(formatDuration(s)).toBe(want);
  });
});

describe("stepRangeOf (drag to zoom)", () => {
  const pts = [0, 10, 20, 30, 40].map((x) => ({ x, step: x * 10, lastStep: x * 10 + 9 }));
  test("covers the buckets inside the selection, whichever way it was dragged", () => {
    expect(stepRangeOf(pts, 9, 31)).toEqual({ from: 100, to: 309 });
    expect(stepRangeOf(pts, 31, 9)).toEqual({ from: 100, to: 309 });
  });
  test("a selection between two points widens to them", () => {
    expect(stepRangeOf(pts, 12, 18)).toEqual({ from: 100, to: 209 });
  });
  test("nothing drawn, nothing to zoom", () => {
    expect(stepRangeOf([], 0, 1)).toBeNull();
  });
});
