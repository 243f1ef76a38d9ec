import { describe, expect, test } from "vitest";
import { logTickLabelled, pointRadii, xAscending, xExtent } from "@/lib/ui/chart-geometry";
import { type XContext, firstPointKeys, xOf } from "@/lib/ui/x-axis";

// Every logged value is drawn: a finite value with no finite neighbour gets a dot (a line has no
// segment to it); the x axis spans every point whatever order x comes in; log axes keep labels.

const N = NaN;
const I = Infinity;

describe("pointRadii: isolated finite values get a dot", () => {
  test.each<[string, (number | null)[], number[]]>([
    ["finite between two NaNs", [N, 1, N], [0, 2, 0]],
    ["finite between two +Inf", [I, 1, I], [0, 2, 0]],
    ["finite between -Inf and a gap", [-I, 1, null], [0, 2, 0]],
    ["a single point", [5], [2]],
    ["first and last points next to NaN", [1, N, N, 2], [2, 0, 0, 2]],
    ["a run of two finite values is a segment: no dots", [N, 1, 2, N], [0, 0, 0, 0]],
    ["NaN on 4 steps of 5", [1, N, N, N, N, 2, N, N, N, N, 3, N], [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0]],
  ])("%s", (_what, ys, want) => {
    expect(pointRadii(ys, false)).toEqual(want);
  });

  test("a series NaN on 4 steps of 5, longer than 40 points, draws every finite value", () => {
    const ys = Array.from({ length: 500 }, (_, i) => (i % 5 === 0 ? Math.sqrt(i) : NaN));
    const r = pointRadii(ys, false);
    expect(r.filter((x) => x > 0).length).toBe(100);
    ys.forEach((y, i) => expect(r[i] > 0).toBe(Number.isFinite(y)));
  });

  test("short lines get dots on every finite value, none on the others", () => {
    expect(pointRadii([1, 2, N, 3], true)).toEqual([2, 2, 0, 2]);
  });
});

describe("the x range covers every point, whatever order x comes in", () => {
  test.each<[string, number[], { min: number; max: number }, boolean]>([
    ["ascending", [0, 1, 2, 3], { min: 0, max: 3 }, true],
    ["a client clock that steps back an hour", [7200, 7201, 3602, 3603], { min: 3602, max: 7201 }, false],
    ["an epoch that goes back at validation rows", [0.5, 1, 0.99, 1.5, 2, 1.99], { min: 0.5, max: 2 }, false],
    ["the lowest x last", [5, 6, 7, -1], { min: -1, max: 7 }, false],
    ["repeated x", [1, 1, 1], { min: 1, max: 1 }, true],
  ])("%s", (_what, xs, extent, ascending) => {
    expect(xExtent(xs)).toEqual(extent);
    expect(xAscending(xs)).toBe(ascending);
  });

  test("no points: no extent", () => {
    expect(xExtent([])).toBeNull();
  });
});

describe("relative time starts at the run's own first point", () => {
  test("a client clock an hour behind the server starts at 0, not -1h", () => {
    const serverCreatedAt = 1_700_003_600;
    const firstPointTime = serverCreatedAt - 3600; // the client's clock
    const ctx: XContext = { t0: firstPointTime, epoch: null };
    expect(xOf("relative", 0, firstPointTime, ctx)).toBe(0);
    expect(xOf("relative", 10, firstPointTime + 75, ctx)).toBe(75);
    void serverCreatedAt;
  });

  test("until the first point's time is known there is no relative x (the chart draws by step)", () => {
    expect(xOf("relative", 3, 100, { t0: null, epoch: null })).toBeNull();
  });

  test.each<[string, { key: string; firstStep: number; count?: number }[], { step: number; keys: string[] } | null]>([
    [
      "the keys at the lowest first step",
      [
        { key: "val/loss", firstStep: 99 },
        { key: "train/loss", firstStep: 0 },
        { key: "lr", firstStep: 0 },
      ],
      { step: 0, keys: ["train/loss", "lr"] },
    ],
    ["a run that resumed later", [{ key: "loss", firstStep: 5000 }], { step: 5000, keys: ["loss"] }],
    [
      "keys without points do not count",
      [
        { key: "a", firstStep: 0, count: 0 },
        { key: "b", firstStep: 3, count: 2 },
      ],
      { step: 3, keys: ["b"] },
    ],
    ["no keys", [], null],
  ])("firstPointKeys: %s", (_what, keys, want) => {
    expect(firstPointKeys(keys)).toEqual(want);
  });
});

/** chart.js's log ticks: every 1-9 x 10^k between lo and hi. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (let m = 1; m <= 9; m++) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12)) out.push(v);
    }
  }
  return out;
}

describe("log axis labels", () => {
  test.each<[string, number, number]>([
    ["within one decade, no power of ten", 2, 9],
    ["within one decade, one power of ten", 0.2, 1],
    ["less than a decade across one", 0.3, 3],
    ["a narrow range", 3, 6],
    ["tiny values", 2e-7, 9e-7],
    ["a few decades", 1e-5, 1e-1],
    ["many decades", 1e-9, 1e3],
  ])("%s (%f..%f) keeps at least two labels", (_what, lo, hi) => {
    const ticks = logTicks(lo, hi);
    const labelled = logTickLabelled(ticks);
    const n = labelled.filter(Boolean).length;
    expect(n).toBeGreaterThanOrEqual(Math.min(2, ticks.length));
    if (ticks.length > 8) expect(n).toBeLessThan(ticks.length);
  });

  test("over several decades only the powers of ten are labelled", () => {
    const ticks = logTicks(1e-5, 1e-1);
    const labelled = ticks.filter((_, i) => logTickLabelled(ticks)[i]);
    expect(labelled).toEqual([1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
  });

  test("within a decade, 1-2-5 are labelled", () => {
    const ticks = logTicks(0.1, 0.9);
    expect(ticks.filter((_, i) => logTickLabelled(ticks)[i])).toEqual([0.1, 0.2, 0.5]);
  });
});
