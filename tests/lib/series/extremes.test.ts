import zlib from "node:zlib";
import { describe, expect, test } from "vitest";
import {
  CorruptData,
  type Points,
  decodeChunk,
  decodePending,
  decodeSummaries,
  deltaEncodable,
  encodeChunk,
  encodePending,
  encodeSummaries,
  mergeSummary,
  summarize,
  summaryMean,
} from "@/lib/series/codec";

// Every numeric field over its whole range: what is stored reads back, summaries stay right, and
// no input (stored or hostile) makes an encoder or decoder loop.

const MAX = Number.MAX_VALUE;
const TOP = Number.MAX_SAFE_INTEGER;
const pts = (steps: number[], values: number[], times: number[]): Points => ({ steps, values, times });
const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

const roundTrips: [string, Points, "delta" | "raw"][] = [
  ["time 1e306 (used to loop forever)", pts([0, 1, 2], [1, 2, 3], [1e306, 1e306, 1e306]), "raw"],
  ["time jumps from 0 to 1e306", pts([0, 1], [1, 2], [0, 1e306]), "raw"],
  ["time MAX_VALUE and -MAX_VALUE", pts([0, 1], [1, 2], [MAX, -MAX]), "raw"],
  ["non-finite times", pts([0, 1, 2], [1, 2, 3], [NaN, Infinity, -Infinity]), "raw"],
  ["times whose milliseconds pass 2^53", pts([0, 1], [1, 2], [1e13, 1e13 + 1]), "raw"],
  ["subnormal and negative times", pts([0, 1, 2], [1, 2, 3], [5e-324, -0, -1e300]), "raw"],
  ["ordinary times to the millisecond", pts([0, 1, 2], [1, 2, 3], [1795698225.421, 1795698225.5, 1e10]), "delta"],
  ["steps up to 2^53-1", pts([TOP - 2, TOP - 1, TOP], [1, 2, 3], [1, 2, 3]), "delta"],
  ["steps 0 and 2^53-1", pts([0, TOP], [1, 2], [1, 2]), "delta"],
  ["steps past 2^53 (not safe integers)", pts([TOP, 2 ** 53 + 2], [1, 2], [1, 2]), "raw"],
  ["fractional and negative steps", pts([-5, 0.5, 1], [1, 2, 3], [1, 2, 3]), "raw"],
  [
    "values at the ends of the double range",
    pts([0, 1, 2, 3, 4, 5], [MAX, -MAX, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, -0], [0, 0, 0, 0, 0, 0]),
    "delta",
  ],
  ["NaN and infinities between finite values", pts([0, 1, 2, 3, 4], [NaN, 1e308, Infinity, -1e308, -Infinity], [0, 1, 2, 3, 4]), "delta"],
  ["epochs as values, huge and negative", pts([0, 1, 2], [1e12, -1e12, 1e300], [0, 0, 0]), "delta"],
];

describe("chunk codec over the whole numeric range", () => {
  test.each(roundTrips)("%s round-trips (%s form)", (_name, p, form) => {
    expect(deltaEncodable(p) ? "delta" : "raw").toBe(form);
    const back = decodeChunk(encodeChunk(p));
    expect(same(back.steps, p.steps)).toBe(true);
    expect(same(back.values, p.values)).toBe(true); // -0 stays -0, NaN stays NaN
    if (form === "raw") expect(same(back.times, p.times)).toBe(true);
    else back.times.forEach((t, i) => expect(Math.abs(t - p.times[i])).toBeLessThanOrEqual(0.0005 * Math.max(1, Math.abs(p.times[i]) / 1e12)));
  });

  test.each(roundTrips)("%s round-trips through a pending batch exactly", (_name, p) => {
    const [[id, back]] = decodePending(encodePending([[7, p]]));
    expect(id).toBe(7);
    expect(same(back.steps, p.steps) && same(back.values, p.values) && same(back.times, p.times)).toBe(true);
  });

  test("a chunk appends to points already read, and a full raw chunk of 1,280 points round-trips", () => {
    const n = 1280;
    const p = pts([], [], []);
    for (let i = 0; i < n; i++) {
      p.steps.push(i);
      p.values.push(i % 3 ? 1e308 : -1e308);
      p.times.push(1e306 + i * 1e292);
    }
    const into = decodeChunk(encodeChunk(pts([0], [1], [1])));
    decodeChunk(encodeChunk(p), into);
    expect(into.steps.length).toBe(n + 1);
    expect(same(into.times.slice(1), p.times)).toBe(true);
  });
});

const deflate = (b: number[] | Buffer) => zlib.deflateRawSync(Buffer.from(b));
const f64 = (...v: number[]) => [...new Uint8Array(new Float64Array(v).buffer)];

describe("decoders refuse hostile blobs instead of looping or reading past the end", () => {
  test.each([
    ["not deflate at all", Buffer.from([0xff, 0xff, 0xff, 0x00])],
    ["an endless varint", deflate(Array(100).fill(0xff))],
    ["a count far beyond the bytes", deflate([0xff, 0xff, 0xff, 0x7f, ...f64(0)])],
    ["a delta chunk cut short", encodeChunk(pts([0, 1, 2], [1, 2, 3], [1, 2, 3])).subarray(0, 6)],
    ["a raw chunk with a bad count", deflate([0, 1, 0xff, 0xff, 0x7f, ...f64(1, 2)])],
    ["trailing bytes after the values", deflate([...zlib.inflateRawSync(encodeChunk(pts([0], [1], [1]))), 9, 9])],
    ["an empty blob", Buffer.alloc(0)],
    ["a zip bomb (100 MB of zeros)", zlib.deflateRawSync(Buffer.alloc(100 * 1024 * 1024))],
  ])("chunk: %s", (_name, blob) => {
    expect(() => decodeChunk(blob)).toThrow(CorruptData);
    // decoding into points already read (a series read chunk by chunk) appends nothing of it
    const into = decodeChunk(encodeChunk(pts([0, 1], [5, 6], [1, 2])));
    expect(() => decodeChunk(blob, into)).toThrow(CorruptData);
    expect(into).toEqual(pts([0, 1], [5, 6], [1, 2]));
  });

  test.each([
    ["a negative count", f64(1, -1, 0, 0, 0)],
    ["a NaN count", f64(1, NaN, 0, 0, 0)],
    ["a fractional count", f64(1, 0.5, 0, 0, 0)],
    ["a count past the end", f64(1, 1e9, 0, 0, 0)],
    ["a NaN series id", f64(NaN, 1, 0, 0, 0)],
    ["a length that is not whole float64s", [1, 2, 3]],
  ])("pending batch: %s", (_name, bytes) => {
    expect(() => decodePending(Uint8Array.from(bytes))).toThrow(CorruptData);
  });

  test("summaries: a blob of the wrong length", () => {
    expect(() => decodeSummaries(Buffer.alloc(50))).toThrow(CorruptData);
  });
});

describe("summaries over the whole numeric range", () => {
  test.each([
    ["two 1e308 (mean was null)", [1e308, 1e308], { mean: 1e308, min: 1e308, max: 1e308 }],
    ["two MAX_VALUE", [MAX, MAX], { mean: MAX, min: MAX, max: MAX }],
    ["MAX_VALUE and -MAX_VALUE", [MAX, -MAX], { mean: 0, min: -MAX, max: MAX }],
    ["MAX, MAX, -MAX", [MAX, MAX, -MAX], { mean: MAX / 3, min: -MAX, max: MAX }],
    ["-MAX three times", [-MAX, -MAX, -MAX], { mean: -MAX, min: -MAX, max: -MAX }],
    ["subnormals", [5e-324, 5e-324], { mean: 5e-324, min: 5e-324, max: 5e-324 }],
    ["negative zero", [-0], { mean: -0, min: -0, max: -0 }],
    ["three 0.1 (rounding stays inside [min, max])", [0.1, 0.1, 0.1], { mean: 0.1, min: 0.1, max: 0.1 }],
    ["1e308 among NaN and infinities", [NaN, 1e308, Infinity, 1e308, -Infinity], { mean: 1e308, nan: 1, posInf: 1, negInf: 1, finite: 2, count: 5 }],
    ["only non-finite values", [NaN, Infinity, -Infinity], { mean: null, finite: 0, nan: 1, posInf: 1, negInf: 1 }],
    ["ordinary values", [1, 2, 3, 4], { mean: 2.5, min: 1, max: 4, sum: 10 }],
  ])("%s", (_name, values, want) => {
    const p = pts(
      values.map((_, i) => i),
      values,
      values.map(() => 0),
    );
    const s = summarize(p);
    const { mean, ...rest } = want as Record<string, number | null>;
    expect(Object.is(summaryMean(s), mean)).toBe(true);
    expect(s).toMatchObject(rest);
    // the same after a stored round trip, and when the points are summarised in two halves and merged
    const [back] = decodeSummaries(encodeSummaries([s]));
    expect(Object.is(summaryMean(back), mean)).toBe(true);
    const h = Math.ceil(values.length / 2);
    const a = summarize(p, 0, h);
    if (h < values.length) mergeSummary(a, summarize(p, h));
    expect(Object.is(summaryMean(a), mean)).toBe(true);
  });

  test("1,024 summaries of 1e308 merge into a mean of 1e308", () => {
    const one = summarize(
      pts(
        Array.from({ length: 64 }, (_, i) => i),
        Array(64).fill(1e308),
        Array(64).fill(0),
      ),
    );
    const all = { ...one };
    for (let i = 1; i < 1024; i++) mergeSummary(all, one);
    expect(summaryMean(all)).toBe(1e308);
  });

  test("summaries stored before sumScaled existed (12 float64s, no tag) still read", () => {
    const v1 = Buffer.from(new Float64Array([3, 9, 100, 4, 4, 10, 1, 4, 0, 0, 0, 4]).buffer);
    const [s] = decodeSummaries(v1);
    expect(s).toMatchObject({ startStep: 3, endStep: 9, count: 4, sum: 10, min: 1, max: 4, last: 4 });
    expect(summaryMean(s)).toBe(2.5);
  });
});
