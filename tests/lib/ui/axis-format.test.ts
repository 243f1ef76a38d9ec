import { describe, expect, test } from "vitest";
import { constantRange } from "../../../lib/ui/chart-geometry";
import { axisTickFormat } from "../../../lib/ui/format";

// A y axis reads as one scale: one number format for all its ticks, and a flat series gets a range
// around its value that does not invent negative values for non-negative data.

describe("axisTickFormat", () => {
  test.each([
    [
      [0.00098, 0.001, 0.00102, 0.00104, 0.00106],
      ["0.00098", "0.00100", "0.00102", "0.00104", "0.00106"],
    ],
    [
      [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1],
      ["0", "0.2", "0.4", "0.6", "0.8", "1.0"],
    ],
    [
      [0, 1e-4, 2e-4, 3e-4],
      ["0", "1e-4", "2e-4", "3e-4"],
    ],
    [
      [1e-5, 1e-4, 1e-3, 1e-2],
      ["1e-5", "1e-4", "1e-3", "1e-2"],
    ],
    [
      [0, 50000, 100000, 150000],
      ["0", "5.0e4", "1.0e5", "1.5e5"],
    ],
    [
      [-1, -0.5, 0, 0.5, 1],
      ["-1.0", "-0.5", "0", "0.5", "1.0"],
    ],
    [
      [0, 500, 1000, 1500],
      ["0", "500", "1000", "1500"],
    ],
    [
      [2.5, 2.75, 3],
      ["2.50", "2.75", "3.00"],
    ],
    // a chart of one point: its value is a bound, the other ticks round; the label shows the value to
    // the axis' resolution, not to its ninth digit
    [
      [0.95, 0.974074078],
      ["0.950", "0.974"],
    ],
    [
      [0.95, 0.955, 0.96, 0.965, 0.97, 0.974074078],
      ["0.9500", "0.9550", "0.9600", "0.9650", "0.9700", "0.9741"],
    ],
    [[0.974074078], ["0.97"]],
    [
      [0.00095, 0.000974074078],
      ["9.50e-4", "9.74e-4"],
    ],
    [
      [12345.6789, 12400],
      ["12346", "12400"],
    ],
  ])("%j -> %j", (ticks, labels) => {
    expect(ticks.map(axisTickFormat(ticks))).toEqual(labels);
  });

  test.each([
    [[0.00098, 0.001, 0.00102, 0.00104, 0.00106]],
    [[9e-4, 9.5e-4, 1e-3, 1.05e-3]],
    [[0, 2e4, 4e4, 6e4, 8e4, 1e5, 1.2e5]],
    [[1e-8, 1e-6, 1e-4, 1e-2, 1]],
  ])("one notation on the axis %j, every label distinct", (ticks) => {
    const labels = ticks.map(axisTickFormat(ticks)).filter((l) => l !== "0");
    const exp = labels.filter((l) => l.includes("e"));
    expect(exp.length === 0 || exp.length === labels.length).toBe(true);
    expect(new Set(labels).size).toBe(labels.length);
  });
});

describe("constantRange", () => {
  test.each([
    [0, { min: 0, max: 1 }],
    [0.5, { min: 0.45, max: 0.55 }],
    [1e-9, { min: 0.9e-9, max: 1.1e-9 }],
    [-2, { min: -2.2, max: -1.8 }],
  ])("all at %d -> %o", (v, range) => {
    const r = constantRange(v, v)!;
    expect(r.min).toBeCloseTo(range.min, 12);
    expect(r.max).toBeCloseTo(range.max, 12);
    if (v >= 0) expect(r.min).toBeGreaterThanOrEqual(0);
    expect(r.min).toBeLessThan(r.max);
  });

  test.each([
    [0, 1],
    [Infinity, -Infinity],
    [Number.NaN, Number.NaN],
  ])("varying or no data (%d..%d): chart.js picks the range", (lo, hi) => {
    expect(constantRange(lo, hi)).toBeNull();
  });
});
