import { describe, expect, test } from "vitest";
import { CELL_COLORS, Cell } from "../../../lib/ui/layer-heatmap";
import { MARKER_STYLES, markerStyle, markerText, nonFiniteKinds } from "../../../lib/ui/nonfinite-markers";
import type { Bucket } from "../../../lib/ui/series";

// NaN, +Inf and -Inf are told apart on a chart at a glance: each its own shape, colour and height.

const bucket = (over: Partial<Bucket>): Bucket => ({
  step: 5,
  lastStep: 5,
  time: 0,
  min: null,
  max: null,
  mean: null,
  last: Number.NaN,
  count: 1,
  nan: 0,
  posInf: 0,
  negInf: 0,
  ...over,
});

describe("non-finite markers", () => {
  test("the three kinds differ pairwise in look (shape and rotation), colour and height", () => {
    expect(MARKER_STYLES.map((s) => s.kind)).toEqual(["nan", "posInf", "negInf"]);
    const looks = new Set(MARKER_STYLES.map((s) => `${s.shape}/${s.rotation}`));
    const colours = new Set(MARKER_STYLES.map((s) => s.color.toLowerCase()));
    const heights = new Set(MARKER_STYLES.map((s) => s.y));
    expect([looks.size, colours.size, heights.size]).toEqual([3, 3, 3]);
    // +Inf is off the top, -Inf off the bottom
    expect(markerStyle("posInf").y).toBeGreaterThan(0.5);
    expect(markerStyle("negInf").y).toBeLessThan(0.5);
  });

  test("the heat map's cells use the same colours", () => {
    expect([CELL_COLORS[Cell.NaN], CELL_COLORS[Cell.PosInf], CELL_COLORS[Cell.NegInf]]).toEqual(MARKER_STYLES.map((s) => s.color));
  });

  test.each([
    [{ nan: 1 }, ["nan"]],
    [{ posInf: 2 }, ["posInf"]],
    [{ negInf: 1 }, ["negInf"]],
    [{ nan: 1, posInf: 1, negInf: 1, count: 3 }, ["nan", "posInf", "negInf"]],
    [{ count: 1 }, []],
  ] as const)("a bucket with %o gets the markers %o", (over, kinds) => {
    expect(nonFiniteKinds(bucket(over))).toEqual(kinds);
  });

  test.each([
    [{ nan: 1 }, "nan", "NaN at step 5"],
    [{ posInf: 1 }, "posInf", "+Inf at step 5"],
    [{ negInf: 1 }, "negInf", "-Inf at step 5"],
    [{ nan: 2, posInf: 1, count: 9, lastStep: 12 }, "posInf", "1 +Inf in steps 5–12"],
    [{ nan: 2, posInf: 1, count: 9, lastStep: 12 }, "nan", "2 NaN in steps 5–12"],
  ] as const)("tooltip of %o as %s: %s", (over, kind, text) => {
    expect(markerText(bucket(over), kind)).toBe(text);
  });
});
