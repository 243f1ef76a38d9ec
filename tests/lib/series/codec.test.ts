import { describe, expect, test } from "vitest";
import { decodeChunk, decodePending, encodeChunk, encodePending, sortDedupe, summarize } from "@/lib/series/codec";

const cases: [string, { steps: number[]; values: number[]; times: number[] }][] = [
  ["consecutive steps", { steps: [0, 1, 2, 3], values: [2.3, 1.1, 0.5, 0.25], times: [100, 100.1, 100.2, 100.3] }],
  [
    "gaps and huge steps",
    { steps: [5, 1000, 2 ** 40, Number.MAX_SAFE_INTEGER], values: [1, 2, 3, 4], times: [1795698225.421, 1795698226.5, 1795698227, 1795698200] },
  ],
  ["non-finite values", { steps: [1, 2, 3, 4], values: [NaN, Infinity, -Infinity, -0.5], times: [1, 2, 3, 4] }],
  ["extreme doubles", { steps: [0, 1, 2], values: [Number.MAX_VALUE, Number.MIN_VALUE, -1e-300], times: [0, 0, 0] }],
];

describe("chunk codec", () => {
  test.each(cases)("%s round-trips exactly", (_name, p) => {
    const back = decodeChunk(encodeChunk(p));
    expect(back.steps).toEqual(p.steps);
    expect(back.values).toEqual(p.values); // toEqual treats NaN as equal to NaN
    back.times.forEach((t, i) => expect(t).toBeCloseTo(p.times[i], 3));
  });

  test.each(cases)("%s round-trips through a pending batch, beside another series", (_name, p) => {
    const other = { steps: [7], values: [NaN], times: [1] };
    expect(
      decodePending(
        encodePending([
          [12, p],
          [3, other],
        ]),
      ),
    ).toEqual([
      [12, p],
      [3, other],
    ]);
  });

  test("a realistic chunk compresses well below 20 bytes per point", () => {
    const n = 1024;
    const p = { steps: [] as number[], values: [] as number[], times: [] as number[] };
    for (let i = 0; i < n; i++) {
      p.steps.push(10_000 + i);
      p.values.push(2.3 * Math.exp(-i / 300) + 0.05 * Math.sin(i * 12.9898));
      p.times.push(1795698225 + i * 0.037);
    }
    expect(encodeChunk(p).length / n).toBeLessThan(12);
  });
});

describe("sortDedupe", () => {
  test("sorts by step and lets the later of equal steps win", () => {
    const out = sortDedupe({ steps: [3, 1, 3, 2], values: [30, 10, 31, 20], times: [0, 0, 1, 0] });
    expect(out).toEqual({ steps: [1, 2, 3], values: [10, 20, 31], times: [0, 0, 1] });
  });
});

describe("summaries", () => {
  test("count non-finite values apart and keep finite min/max", () => {
    const s = summarize({ steps: [1, 2, 3, 4, 5], values: [1, NaN, 7, -Infinity, Infinity], times: [0, 0, 0, 0, 0] });
    expect(s).toMatchObject({ count: 5, finite: 2, min: 1, max: 7, sum: 8, nan: 1, posInf: 1, negInf: 1, startStep: 1, endStep: 5 });
    expect(s.last).toBe(Infinity);
  });
});
