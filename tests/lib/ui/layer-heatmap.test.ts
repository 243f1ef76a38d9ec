import { describe, expect, test } from "vitest";
import { Cell, cellAt, colSteps, layerHeat, scaleOf } from "../../../lib/ui/layer-heatmap";
import type { Bucket } from "../../../lib/ui/series";

// The layers x steps heat map of a family chart: cells, non-finite marking, log colour scale, hover.

const pt = (step: number, v: number): Bucket => ({
  step,
  lastStep: step,
  time: step,
  min: Number.isFinite(v) ? v : null,
  max: Number.isFinite(v) ? v : null,
  mean: Number.isFinite(v) ? v : null,
  last: v,
  count: 1,
  nan: Number.isNaN(v) ? 1 : 0,
  posInf: v === Infinity ? 1 : 0,
  negInf: v === -Infinity ? 1 : 0,
});
const layer = (label: string, values: number[], from = 0) => ({ label, buckets: values.map((v, i) => pt(from + i, v)) });

describe("layerHeat", () => {
  test("one row per layer, one column per step when there is room; cells hold the values", () => {
    const h = layerHeat([layer("fc1", [1, 2, 3]), layer("fc2", [4, 5, 6])], 100, false);
    expect(h.layers).toEqual(["fc1", "fc2"]);
    expect(h.cols).toBe(3);
    expect([...h.value]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...h.kind]).toEqual(Array(6).fill(Cell.Finite));
    expect([h.lo, h.hi]).toEqual([1, 6]);
  });

  test("more steps than columns: each column is the mean of its steps, and its step range is exact", () => {
    const h = layerHeat([layer("l", Array.from({ length: 100 }, (_, i) => i))], 10, false);
    expect(h.cols).toBe(10);
    expect(h.value[0]).toBe(4.5);
    expect(colSteps(h, 0)).toEqual({ from: 0, to: 9 });
    expect(colSteps(h, 9)).toEqual({ from: 90, to: 99 });
  });

  test.each([
    ["NaN", Number.NaN, Cell.NaN],
    ["+Inf", Infinity, Cell.PosInf],
    ["-Inf", -Infinity, Cell.NegInf],
  ])("a %s among finite values marks its cell, it is never averaged away", (_n, v, kind) => {
    const h = layerHeat([layer("l", [1, v, 3, 4])], 2, false);
    expect(h.kind[0]).toBe(kind);
    expect(h.kind[1]).toBe(Cell.Finite);
    expect(h.value[1]).toBe(3.5);
  });

  test("on a log scale, 0 and negatives are off the scale; colours run over log10 of the range", () => {
    const h = layerHeat([layer("l", [1e-4, 1e-3, 1e-2, 0, -1])], 10, true);
    expect([...h.kind]).toEqual([Cell.Finite, Cell.Finite, Cell.Finite, Cell.OffScale, Cell.OffScale]);
    expect([h.lo, h.hi]).toEqual([1e-4, 1e-2]);
    expect(scaleOf(h, 1e-3)).toBeCloseTo(0.5);
    expect(scaleOf(h, 1e-4)).toBe(0);
    expect(scaleOf(h, 1)).toBe(1);
  });

  test("layers with different step ranges share columns; missing steps are empty", () => {
    const h = layerHeat([layer("a", [1, 1], 0), layer("b", [2, 2], 2)], 10, false);
    expect([h.fromStep, h.toStep, h.cols]).toEqual([0, 3, 4]);
    expect([...h.kind]).toEqual([Cell.Finite, Cell.Finite, Cell.Empty, Cell.Empty, Cell.Empty, Cell.Empty, Cell.Finite, Cell.Finite]);
  });

  test("no data: an empty map, not a crash", () => {
    const h = layerHeat([layer("a", [])], 10, true);
    expect(h.cols).toBe(1);
    expect([...h.kind]).toEqual([Cell.Empty]);
  });
});

describe("cellAt", () => {
  const h = layerHeat(Array.from({ length: 48 }, (_, i) => layer(`l${i}`, [1, 2, 3, 4])), 100, false);
  test.each([
    [0, 0, { row: 0, col: 0 }],
    [399, 239, { row: 47, col: 3 }],
    [150, 120, { row: 24, col: 1 }],
    [400, 10, null],
    [-1, 10, null],
  ])("(%i, %i) on a 400 x 240 map -> %o", (x, y, cell) => {
    expect(cellAt(h, x, y, 400, 240)).toEqual(cell);
  });
});
