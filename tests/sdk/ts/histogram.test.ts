// Histograms binned in the SDK (computeHistogram): what the dashboard will draw from raw values.
import { describe, expect, test } from "vitest";

import { computeHistogram } from "../../../sdk/ts/src/index";

describe("computeHistogram", () => {
  test.each([
    ["two bins", [0, 1, 1, 2], 2, { edges: [0, 1, 2], counts: [1, 3] }],
    ["non-finite values are not binned", [0, NaN, 2, Infinity, -Infinity], 2, { edges: [0, 1, 2], counts: [1, 1] }],
    ["a constant gets a ±0.5 range", [3, 3, 3], 2, { edges: [2.5, 3, 3.5], counts: [0, 3] }],
    ["the max lands in the last bin", [0, 10], 5, { edges: [0, 2, 4, 6, 8, 10], counts: [1, 0, 0, 0, 1] }],
    ["typed arrays", new Float32Array([-1, 1]), 2, { edges: [-1, 0, 1], counts: [1, 1] }],
    ["iterables", new Set([1, 2, 3, 4]), 3, { edges: [1, 2, 3, 4], counts: [1, 1, 2] }],
  ])("%s", (_name, values, bins, expected) => {
    expect(computeHistogram(values as Iterable<number>, bins)).toEqual(expected);
  });

  test.each([
    ["empty", []],
    ["only non-finite", [NaN, Infinity, -Infinity]],
  ])("no finite value (%s) -> null", (_name, values) => {
    expect(computeHistogram(values)).toBeNull();
  });

  test("30 bins by default, every finite value counted, edges finite and non-decreasing even at the extremes", () => {
    const values = [-Number.MAX_VALUE, 0, Number.MAX_VALUE, 1e-300, NaN];
    const h = computeHistogram(values)!;
    expect(h.counts).toHaveLength(30);
    expect(h.edges).toHaveLength(31);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(h.edges.every(Number.isFinite)).toBe(true);
    expect(h.edges.every((e, i) => i === 0 || e >= h.edges[i - 1]!)).toBe(true);
    expect(h.counts[0]).toBe(1);
    expect(h.counts[29]).toBe(1);
  });
});
