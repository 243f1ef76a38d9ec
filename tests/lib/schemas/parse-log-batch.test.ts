import { describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { AppError } from "@/lib/errors";
import { logBatch } from "@/lib/schemas/log-batch";
import { parseLogBatch } from "@/lib/schemas/parse-log-batch";

// The hand-written hot-path validator must accept and reject exactly what the zod contract does,
// naming the same field.

const ok = { step: 1, metrics: { "train/loss": 0.5 } };
const cases: [string, unknown][] = [
  ["a plain batch", { seq: 0, rows: [ok] }],
  ["no rows", { seq: 3 }],
  ["non-finite strings", { seq: 1, rows: [{ step: 0, metrics: { a: "NaN", b: "Infinity", c: "-Infinity" } }] }],
  ["time and epoch", { seq: 1, rows: [{ step: 0, time: 1795698225.5, epoch: 0.25, metrics: {} }] }],
  ["huge step", { seq: 1, rows: [{ step: Number.MAX_SAFE_INTEGER, metrics: { a: 1 } }] }],
  ["step beyond 2^53", { seq: 1, rows: [{ step: 2 ** 54, metrics: { a: 1 } }] }],
  ["negative step", { seq: 1, rows: [ok, { step: -1, metrics: {} }] }],
  ["fractional step", { seq: 1, rows: [{ step: 0.5, metrics: {} }] }],
  ["string step", { seq: 1, rows: [{ step: "1", metrics: {} }] }],
  ["missing step", { seq: 1, rows: [{ metrics: {} }] }],
  ["missing seq", { rows: [ok] }],
  ["negative seq", { seq: -1, rows: [ok] }],
  ["seq and rows both bad", { seq: "x", rows: [{ step: -1, metrics: {} }] }],
  ["rows not an array", { seq: 1, rows: { 0: ok } }],
  ["row not an object", { seq: 1, rows: [5] }],
  ["row null", { seq: 1, rows: [null] }],
  ["metrics missing", { seq: 1, rows: [{ step: 1 }] }],
  ["metrics an array", { seq: 1, rows: [{ step: 1, metrics: [1] }] }],
  ["value null", { seq: 1, rows: [{ step: 1, metrics: { a: null } }] }],
  ["value a bool", { seq: 1, rows: [{ step: 1, metrics: { a: true } }] }],
  ["value lowercase nan", { seq: 1, rows: [{ step: 1, metrics: { "x/y": "nan" } }] }],
  ["empty key", { seq: 1, rows: [{ step: 1, metrics: { "": 1 } }] }],
  ["key too long", { seq: 1, rows: [{ step: 1, metrics: { ["k".repeat(201)]: 1 } }] }],
  ["control character in key", { seq: 1, rows: [{ step: 1, metrics: { "a\nb": 1 } }] }],
  ["negative time", { seq: 1, rows: [{ step: 1, time: -5, metrics: {} }] }],
  ["string time", { seq: 1, rows: [{ step: 1, time: "now", metrics: {} }] }],
  ["string epoch", { seq: 1, rows: [{ step: 1, epoch: "1", metrics: {} }] }],
  ["rows fine, histogram bad", { seq: 1, rows: [ok], histograms: [{ step: 1, key: "h", edges: [0], counts: [1] }] }],
  ["rows bad, histogram bad", { seq: 1, rows: [{ step: -1, metrics: {} }], histograms: [{ step: 1, key: "h", edges: [0], counts: [1] }] }],
  ["too many rows", { seq: 1, rows: Array.from({ length: 10_001 }, () => ok) }],
  // the contract's strings: lengths in code points, well-formed Unicode, no control characters
  ...(
    [
      ["200 rockets", "🚀".repeat(200)],
      ["201 rockets", "🚀".repeat(201)],
      ["200 CJK", "损".repeat(200)],
      ["201 CJK", "损".repeat(201)],
      ["lone high surrogate", "\ud800"],
      ["lone low surrogate", "\udc00"],
      ["lone surrogate inside", "train/\ud83dloss"],
      ["swapped pair", "\ude80\ud83d"],
      ["DEL", "a\u007fb"],
      ["NUL", "\u0000"],
    ] as const
  ).map(([name, key]): [string, unknown] => [`key: ${name}`, { seq: 1, rows: [ok, { step: 2, metrics: { ok: 1, [key]: 1 } }] }]),
  ...([1e306, 1e13, 1.7e12, -1, -0.001, 1e10 + 1, Number.MAX_VALUE] as const).map((t): [string, unknown] => [
    `time ${t}`,
    { seq: 1, rows: [{ step: 1, time: t, metrics: {} }] },
  ]),
  ["time at the limit", { seq: 1, rows: [{ step: 1, time: 1e10, metrics: {} }] }],
  ...([1e12, -1e12, 1e12 + 1, -1e13, 1e306] as const).map((e): [string, unknown] => [
    `epoch ${e}`,
    { seq: 1, rows: [{ step: 1, epoch: e, metrics: {} }] },
  ]),
];

// a batch may name as many distinct metric keys as a run may hold, not one more (over one row or several)
const manyKeys = (n: number, perRow: number) =>
  Array.from({ length: Math.ceil(n / perRow) }, (_, r) => ({
    step: r,
    metrics: Object.fromEntries(Array.from({ length: Math.min(perRow, n - r * perRow) }, (_, i) => [`k${r * perRow + i}`, 1])),
  }));
cases.push(
  ["keysPerRun distinct keys in one row", { seq: 1, rows: manyKeys(LIMITS.keysPerRun.value, LIMITS.keysPerRun.value) }],
  ["one key more than keysPerRun in one row", { seq: 1, rows: manyKeys(LIMITS.keysPerRun.value + 1, LIMITS.keysPerRun.value + 1) }],
  ["one key more than keysPerRun over many rows", { seq: 1, rows: manyKeys(LIMITS.keysPerRun.value + 1, 1000) }],
  ["keysPerRun keys repeated over rows", { seq: 1, rows: [...manyKeys(LIMITS.keysPerRun.value, 5000), ...manyKeys(LIMITS.keysPerRun.value, 5000)] }],
);

function zodVerdict(body: unknown): string {
  const r = logBatch.safeParse(body);
  if (r.success) return "ok";
  // a bad metric key or value is named down to its record, `rows[0].metrics`
  const path = r.error.issues[0].path;
  const upTo = path.indexOf("metrics");
  const kept = upTo >= 0 ? path.slice(0, upTo + 1) : path;
  return kept
    .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
    .join("")
    .replace(/^\./, "");
}

function fastVerdict(body: unknown): string {
  try {
    parseLogBatch(body);
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("invalid_batch");
    return (e as AppError).message;
  }
}

describe("parseLogBatch agrees with the zod contract", () => {
  test.each(cases)("%s", (_name, body) => {
    const z = zodVerdict(body);
    const f = fastVerdict(body);
    if (z === "ok") expect(f).toBe("ok");
    else {
      expect(f).not.toBe("ok");
      expect(f.startsWith(z)).toBe(true);
    }
  });

  test("accepted rows come back as sent", () => {
    const body = { seq: 2, rows: [{ step: 4, time: 9, epoch: 1, metrics: { a: 1, b: "NaN" } }] };
    expect(parseLogBatch(body)).toEqual({ seq: 2, rows: body.rows, histograms: [], events: [] });
  });
});
