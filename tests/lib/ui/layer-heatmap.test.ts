import { describe, expect, test } from "vitest";
import { Cell, cellAt, cellCounts, cellKinds, cellKindsPresent, cellText, colSteps, layerHeat, scaleOf } from "../../../lib/ui/layer-heatmap";
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
    const h = layerHeat(
      [
        layer(
          "l",
          Array.from({ length: 100 }, (_, i) => i),
        ),
      ],
      10,
      false,
    );
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

  // two steps in one column (2 columns for 4 steps): the cell holds both values' kinds
  test.each<[string, number[], Cell[], string]>([
    ["NaN and +Inf", [Number.NaN, Infinity], [Cell.NaN, Cell.PosInf], "NaN, +Inf"],
    ["+Inf and NaN", [Infinity, Number.NaN], [Cell.NaN, Cell.PosInf], "NaN, +Inf"],
    ["NaN and -Inf", [Number.NaN, -Infinity], [Cell.NaN, Cell.NegInf], "NaN, -Inf"],
    ["+Inf and -Inf", [Infinity, -Infinity], [Cell.PosInf, Cell.NegInf], "+Inf, -Inf"],
    ["+Inf and a finite value", [Infinity, 2], [Cell.PosInf], "+Inf"],
    ["NaN twice", [Number.NaN, Number.NaN], [Cell.NaN], "NaN"],
  ])("a cell holding %s shows and names every kind in it", (_what, pair, kinds, text) => {
    const h = layerHeat([layer("l", [...pair, 3, 4])], 2, false);
    expect(cellKinds(h, 0)).toEqual(kinds);
    expect(cellText(h, 0)).toBe(text);
    expect(cellKindsPresent(h)).toEqual(kinds);
    for (const k of kinds) expect(cellCounts(h).get(k)).toBe(1);
    // the other cell is a plain value
    expect(cellKinds(h, 1)).toEqual([Cell.Finite]);
    expect(cellText(h, 1)).toBe("3.5");
  });

  test("downsampled buckets holding NaN and -Inf in one bucket: both kinds, both counted", () => {
    const b = { ...pt(0, 1), lastStep: 9, count: 10, nan: 2, negInf: 1 };
    const h = layerHeat([{ label: "l", buckets: [b] }, layer("m", [Infinity])], 10, false);
    expect(cellKinds(h, 0)).toEqual([Cell.NaN, Cell.NegInf]);
    expect(cellKinds(h, 1)).toEqual([Cell.PosInf]);
    expect(cellKindsPresent(h)).toEqual([Cell.NaN, Cell.PosInf, Cell.NegInf]);
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

  // watch(every=k) logs every k-th step: columns follow the logged steps, never the step axis
  test.each([
    [10, 5, 100],
    [10, 50, 400],
    [7, 30, 1000],
    [100, 200, 150],
    [3, 1000, 400],
  ])("logged every %i steps, %i times, %i columns wide: no empty cell", (every, times, width) => {
    const values = (seed: number) => Array.from({ length: times }, (_, i) => seed + i);
    const logged = (label: string, seed: number) => ({ label, buckets: values(seed).map((v, i) => pt(i * every, v)) });
    const h = layerHeat([logged("a", 1), logged("b", 2), logged("c", 3)], width, false);
    expect(h.cols).toBe(Math.min(width, times));
    expect([...h.kind].filter((k) => k === Cell.Empty)).toEqual([]);
    expect(colSteps(h, 0).from).toBe(0);
    expect(colSteps(h, h.cols - 1).to).toBe((times - 1) * every);
    // the columns tile the logged steps in order
    for (let c = 1; c < h.cols; c++) expect(colSteps(h, c).from).toBeGreaterThan(colSteps(h, c - 1).to);
  });

  test("one column per logged step when there is room; a column's steps are that step", () => {
    const h = layerHeat([{ label: "a", buckets: [pt(0, 1), pt(10, 2), pt(20, 3)] }], 400, false);
    expect(h.cols).toBe(3);
    expect([...h.value]).toEqual([1, 2, 3]);
    expect([0, 1, 2].map((c) => colSteps(h, c))).toEqual([
      { from: 0, to: 0 },
      { from: 10, to: 10 },
      { from: 20, to: 20 },
    ]);
  });

  test("downsampled buckets: a column covers its buckets' whole ranges", () => {
    const bucket = (step: number, lastStep: number, v: number): Bucket => ({ ...pt(step, v), lastStep, count: 5 });
    const h = layerHeat([{ label: "a", buckets: [bucket(0, 40, 1), bucket(50, 90, 2)] }], 400, false);
    expect(h.cols).toBe(2);
    expect([colSteps(h, 0), colSteps(h, 1)]).toEqual([
      { from: 0, to: 40 },
      { from: 50, to: 90 },
    ]);
    expect([h.fromStep, h.toStep]).toEqual([0, 90]);
  });

  test("downsampled layers on different bucket grids (one began later): no stripes in either row", () => {
    const bucket = (step: number, lastStep: number, v: number): Bucket => ({ ...pt(step, v), lastStep, count: lastStep - step + 1 });
    const grid = (from: number, to: number, n: number, v: number) =>
      Array.from({ length: n }, (_, i) =>
        bucket(from + Math.floor((i * (to - from + 1)) / n), from + Math.floor(((i + 1) * (to - from + 1)) / n) - 1, v),
      );
    const h = layerHeat(
      [
        { label: "early", buckets: grid(0, 9999, 100, 1) },
        { label: "late", buckets: grid(5050, 9999, 100, 2) },
      ],
      400,
      false,
    );
    const row = (r: number) => [...h.kind.slice(r * h.cols, (r + 1) * h.cols)];
    expect(row(0).every((k) => k === Cell.Finite)).toBe(true);
    const late = row(1);
    const first = late.indexOf(Cell.Finite);
    expect(late.slice(0, first).every((k) => k === Cell.Empty)).toBe(true);
    expect(late.slice(first).every((k) => k === Cell.Finite)).toBe(true);
    expect(colSteps(h, first).from).toBeGreaterThanOrEqual(4950);
    expect(colSteps(h, first).from).toBeLessThanOrEqual(5050);
  });

  test("the legend names exactly the cell kinds the map holds", () => {
    expect(cellKindsPresent(layerHeat([layer("a", [1, 2])], 10, false))).toEqual([]);
    expect(cellKindsPresent(layerHeat([layer("a", [1, Number.NaN]), layer("b", [-1], 1)], 10, true))).toEqual([Cell.NaN, Cell.OffScale, Cell.Empty]);
    expect(cellKindsPresent(layerHeat([layer("a", [Infinity, -Infinity])], 10, false))).toEqual([Cell.PosInf, Cell.NegInf]);
  });

  test("no data: an empty map, not a crash", () => {
    const h = layerHeat([layer("a", [])], 10, true);
    expect(h.cols).toBe(1);
    expect([...h.kind]).toEqual([Cell.Empty]);
  });
});

describe("cellAt", () => {
  const h = layerHeat(
    Array.from({ length: 48 }, (_, i) => layer(`l${i}`, [1, 2, 3, 4])),
    100,
    false,
  );
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
