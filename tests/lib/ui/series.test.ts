import { describe, expect, test } from "vitest";
import { type Bucket, appendLive, decodeBucket, nonFiniteCounts, pointBucket } from "@/lib/ui/series";
import { heatGrid } from "@/lib/ui/heatmap";
import { formatValue } from "@/lib/ui/format";

const exact = (step: number, v: number) => pointBucket(step, v, 1000 + step);
const steps = (bs: Bucket[]) => bs.map((b) => [b.step, b.lastStep]);

describe("decodeBucket", () => {
  test("wire NaN/Infinity become counts and null min/max/mean, never numbers on the line", () => {
    const b = decodeBucket({
      step: 5,
      lastStep: 5,
      time: 1,
      min: "NaN",
      max: "NaN",
      mean: "NaN",
      last: "NaN",
      count: 1,
      nan: 1,
      posInf: 0,
      negInf: 0,
    });
    expect(b).toMatchObject({ min: null, max: null, mean: null, nan: 1 });
    expect(Number.isNaN(b.last)).toBe(true);
  });
});

describe("appendLive (live points into a chart)", () => {
  test("points past the end are appended as exact points, in step order", () => {
    const { buckets, added } = appendLive(
      [exact(0, 1)],
      [
        [2, 3, 9],
        [1, 2, 8],
      ],
    );
    expect(added).toBe(2);
    expect(buckets.map((b) => [b.step, b.mean])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  test("a re-logged step replaces the exact point (as the server does)", () => {
    const { buckets, added } = appendLive([exact(0, 1), exact(1, 2)], [[1, 5, 9]]);
    expect(added).toBe(0);
    expect(buckets.map((b) => b.mean)).toEqual([1, 5]);
  });

  test("non-finite live values arrive as counted markers, not dropped", () => {
    const { buckets } = appendLive(
      [],
      [
        [0, "NaN", 1],
        [1, "Infinity", 1],
        [2, "-Infinity", 1],
      ],
    );
    expect(nonFiniteCounts(buckets)).toEqual({ nan: 1, posInf: 1, negInf: 1 });
    expect(buckets.every((b) => b.mean === null)).toBe(true);
  });

  test("a point inside a downsampled bucket widens its min/max so a spike still shows", () => {
    const coarse: Bucket = { step: 0, lastStep: 99, time: 0, min: 1, max: 2, mean: 1.5, last: 2, count: 10, nan: 0, posInf: 0, negInf: 0 };
    const { buckets } = appendLive(
      [coarse, exact(150, 1)],
      [
        [50, 100, 5],
        [60, "NaN", 6],
      ],
    );
    expect(buckets[0]).toMatchObject({ min: 1, max: 100, count: 12, nan: 1 });
    expect(steps(buckets)).toEqual([
      [0, 99],
      [150, 150],
    ]);
  });

  test("a point in a gap between buckets is inserted in order; the input is not mutated", () => {
    const before = [exact(0, 1), exact(10, 1)];
    const { buckets } = appendLive(before, [[5, 7, 1]]);
    expect(steps(buckets)).toEqual([
      [0, 0],
      [5, 5],
      [10, 10],
    ]);
    expect(before).toHaveLength(2);
  });
});

describe("heatGrid", () => {
  test("counts are conserved and spread over the rows a bin overlaps", () => {
    const g = heatGrid(
      [
        { step: 0, edges: [0, 1, 2], counts: [4, 0] },
        { step: 1, edges: [0, 2], counts: [8] },
      ],
      4,
    );
    expect([g.lo, g.hi, g.cols]).toEqual([0, 2, 2]);
    expect([...g.cells.slice(0, 4)]).toEqual([2, 2, 0, 0]);
    expect([...g.cells.slice(4, 8)]).toEqual([2, 2, 2, 2]);
    expect([...g.colMax]).toEqual([2, 2]);
  });
  test("a degenerate range still gives a grid", () => {
    const g = heatGrid([{ step: 0, edges: [1, 1], counts: [3] }], 3);
    expect(g.cells.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe("formatValue", () => {
  test.each<[number | string | null, string]>([
    [NaN, "NaN"],
    ["NaN", "NaN"],
    [Infinity, "+Inf"],
    ["-Infinity", "-Inf"],
    [0.123456, "0.1235"],
    [2, "2"],
    [1.5e-5, "1.5e-5"],
    [8e-4, "8e-4"],
    [1.234e7, "1.23e7"],
    [null, "–"],
  ])("%s -> %s", (v, want) => {
    expect(formatValue(v)).toBe(want);
  });
});
