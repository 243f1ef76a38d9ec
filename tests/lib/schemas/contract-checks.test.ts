import { describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { AppError } from "@/lib/errors";
import { parse } from "@/lib/http/handler";
import { parseLogBatch } from "@/lib/schemas/parse-log-batch";
import { createRun } from "@/lib/schemas/runs";
import { png } from "../../helpers/png";

// Every string, time and epoch the server takes is checked against lib/contract/limits.ts: lengths
// in code points (what Python's len() counts), well-formed Unicode, no control characters. A refusal
// names the field's path and the reason, so an SDK can report it.

const PNG = png(1, 1).toString("base64"); // a real 1x1 PNG
const PNG_4x3 = png(4, 3).toString("base64");

function verdict(run: () => unknown, code: string): string {
  try {
    run();
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe(code);
    return (e as AppError).message;
  }
}
const batch = (b: Record<string, unknown>) => verdict(() => parseLogBatch({ seq: 1, ...b }), "invalid_batch");
const create = (b: Record<string, unknown>) => verdict(() => parse(createRun, { project: "p", ...b }), "invalid_body");

const astral200 = "🚀".repeat(200);
const keyCases: [string, string, string | null][] = [
  ["200 astral code points (400 UTF-16 units)", astral200, null],
  ["201 astral code points", `${astral200}🚀`, "must be at most 200 code points"],
  ["150 rockets (the issue's key)", "🚀".repeat(150), null],
  ["200 CJK characters", "训".repeat(200), null],
  ["201 CJK characters", "训".repeat(201), "must be at most 200 code points"],
  ["mixed astral and CJK", "𝔩𝔬𝔰𝔰/损失", null],
  ["ASCII at 200", "k".repeat(200), null],
  ["ASCII at 201", "k".repeat(201), "must be at most 200 code points"],
  ["lone high surrogate alone", "\ud800", "well-formed Unicode"],
  ["lone low surrogate alone", "\udfff", "well-formed Unicode"],
  ["lone high surrogate first", "\ud83dloss", "well-formed Unicode"],
  ["lone high surrogate last", "loss\ud83d", "well-formed Unicode"],
  ["lone low surrogate in the middle", "lo\ude80ss", "well-formed Unicode"],
  ["pair in the wrong order", "\ude80\ud83d", "well-formed Unicode"],
  ["an astral key cut in half at the limit", `${"🚀".repeat(199)}\ud83d`, "well-formed Unicode"],
  ["newline", "a\nb", "control characters"],
  ["NUL", "\u0000", "control characters"],
  ["escape", "\u001b[31m", "control characters"],
  ["DEL", "x\u007f", "control characters"],
  ["empty", "", "must not be empty"],
];

describe("metric, histogram, image keys and event types", () => {
  test.each(keyCases)("metric key: %s", (_name, key, problem) => {
    const v = batch({ rows: [{ step: 0, metrics: { ok: 1, [key]: 2 } }] });
    if (problem === null) expect(v).toBe("ok");
    else {
      expect(v).toMatch(/^rows\[0\]\.metrics\[".*"\] metric keys must /s);
      expect(v).toContain(problem);
    }
  });

  test.each(keyCases)("histogram key: %s", (_name, key, problem) => {
    const v = batch({ histograms: [{ step: 0, key, edges: [0, 1], counts: [1] }] });
    if (problem === null) expect(v).toBe("ok");
    else expect(v).toMatch(new RegExp(`^histograms\\[0\\]\\.key histogram keys .*${problem.replace(/[()]/g, ".")}`));
  });

  test.each(keyCases)("image key: %s", (_name, key, problem) => {
    const v = batch({ events: [{ type: "image", step: 0, data: { key, width: 1, height: 1, png_base64: PNG } }] });
    if (problem === null) expect(v).toBe("ok");
    else expect(v).toMatch(new RegExp(`^events\\[0\\]\\.data\\.key image keys .*${problem.replace(/[()]/g, ".")}`));
  });

  test.each([
    ["64 astral code points", "🚀".repeat(64), null],
    ["65 astral code points", "🚀".repeat(65), "must be at most 64 code points"],
    ["lone surrogate", "input\ud800stats", "well-formed Unicode"],
    ["control character", "input\tstats", "control characters"],
    ["empty", "", "must not be empty"],
  ])("event type: %s", (_name, type, problem) => {
    const v = batch({ events: [{ type, data: {} }] });
    if (problem === null) expect(v).toBe("ok");
    else expect(v).toMatch(new RegExp(`^events\\[0\\]\\.type event types .*${problem}`));
  });

  test("a refused over-long key is named by its start, so the message stays small", () => {
    const v = batch({ rows: [{ step: 0, metrics: { ["x".repeat(100_000)]: 1 } }] });
    expect(v.length).toBeLessThan(400);
    expect(v).toContain("must be at most 200 code points");
  });
});

describe("times and epochs", () => {
  test.each([
    [0, null],
    [1795698225.42, null],
    [LIMITS.timeMax.value, null],
    [LIMITS.timeMax.value + 1, "milliseconds are refused"],
    [1795698225420, "milliseconds are refused"], // Date.now() instead of Date.now() / 1000
    [1e13, "milliseconds are refused"],
    [1e306, "milliseconds are refused"],
    [Number.MAX_VALUE, "milliseconds are refused"],
    [-1, "milliseconds are refused"],
    [-1e-9, "milliseconds are refused"],
    ["1795698225", "milliseconds are refused"],
    ["NaN", "milliseconds are refused"],
  ])("time %s", (time, problem) => {
    for (const [field, b] of [
      ["rows[0].time", { rows: [{ step: 0, time, metrics: { a: 1 } }] }],
      ["histograms[0].time", { histograms: [{ step: 0, time, key: "h", edges: [0, 1], counts: [1] }] }],
      ["events[0].time", { events: [{ type: "note", time, data: {} }] }],
    ] as const) {
      const v = batch(b);
      if (problem === null) expect(v).toBe("ok");
      else expect(v).toBe(`${field} must be Unix seconds from 0 to 10000000000 (milliseconds are refused)`);
    }
  });

  test.each([
    [0, true],
    [0.25, true],
    [-3, true],
    [LIMITS.epochAbsMax.value, true],
    [-LIMITS.epochAbsMax.value, true],
    [LIMITS.epochAbsMax.value + 1, false],
    [-LIMITS.epochAbsMax.value * 10, false],
    [1e306, false],
    [-Number.MAX_VALUE, false],
    ["Infinity", false],
  ])("epoch %s", (epoch, ok) => {
    const v = batch({ rows: [{ step: 0, epoch, metrics: {} }] });
    expect(v).toBe(ok ? "ok" : "rows[0].epoch must be a finite number from -1000000000000 to 1000000000000");
  });
});

describe("event data", () => {
  // an object `depth` levels deep, arrays and objects taking turns inside it
  const deep = (depth: number) => {
    let v: unknown = {};
    for (let i = 2; i < depth; i++) v = i % 2 ? [v] : { b: v };
    return depth === 1 ? {} : { a: v };
  };
  test.each([
    [LIMITS.jsonDepth.value, "ok"],
    [LIMITS.jsonDepth.value + 1, "events[0].data must be nested at most 64 levels deep"],
    [10_000, "events[0].data must be nested at most 64 levels deep"],
    [200_000, "events[0].data must be nested at most 64 levels deep"],
  ])("nested %i deep", (depth, expected) => {
    expect(batch({ events: [{ type: "note", data: deep(depth) }] })).toBe(expected);
  });
});

describe("image events", () => {
  const image = (data: Record<string, unknown>) =>
    batch({ events: [{ type: "image", data: { key: "samples", width: 4, height: 3, png_base64: PNG_4x3, ...data } }] });
  test.each([
    ["a valid image", {}, "ok"],
    ["no key", { key: undefined }, "events[0].data.key must be a string"],
    ["zero width", { width: 0 }, "events[0].data.width must be an integer from 1 to 8192 pixels"],
    ["fractional height", { height: 2.5 }, "events[0].data.height must be an integer from 1 to 8192 pixels"],
    ["huge width", { width: 1e9 }, "events[0].data.width must be an integer from 1 to 8192 pixels"],
    ["width as a string", { width: "4" }, "events[0].data.width must be an integer from 1 to 8192 pixels"],
    ["not base64", { png_base64: "not base64!" }, "events[0].data.png_base64 must be base64 text"],
    ["a JPEG", { png_base64: "/9j/4AAQSkZJRgABAQ==" }, "events[0].data.png_base64 must be a PNG image"],
    ["empty data", { png_base64: "" }, "events[0].data.png_base64 must be a PNG image"],
    ["the PNG signature alone", { png_base64: "iVBORw0KGgo=" }, "events[0].data.png_base64 must be a PNG image"],
    ["a PNG of another size", { png_base64: PNG }, "events[0].data.png_base64 is a 1x1 PNG, but width and height say 4x3"],
  ])("%s", (_name, data, expected) => {
    expect(image(data)).toBe(expected);
  });
});

describe("label_stats events", () => {
  const labels = (data: Record<string, unknown>) => batch({ events: [{ type: "label_stats", step: 0, data }] });
  const many = LIMITS.labelStatsClasses.value;
  test.each<[string, Record<string, unknown>, string]>([
    ["counts of 3 classes", { counts: [85, 10, 5], n: 100, split: "train" }, "ok"],
    ["no split (train)", { counts: [1, 0] }, "ok"],
    [`${many} classes`, { counts: new Array(many).fill(1) }, "ok"],
    [`${many + 1} classes`, { counts: new Array(many + 1).fill(1) }, `events[0].data.counts must be an array of 2 to ${many} counts, one per class`],
    ["one class", { counts: [5] }, `events[0].data.counts must be an array of 2 to ${many} counts, one per class`],
    ["no counts", { split: "val" }, `events[0].data.counts must be an array of 2 to ${many} counts, one per class`],
    ["a fractional count", { counts: [1, 2.5] }, "events[0].data.counts[1] must be a non-negative integer"],
    ["a negative count", { counts: [-1, 2] }, "events[0].data.counts[0] must be a non-negative integer"],
    ["a count as a string", { counts: [1, "2"] }, "events[0].data.counts[1] must be a non-negative integer"],
    ["a non-finite count", { counts: [1, "NaN"] }, "events[0].data.counts[1] must be a non-negative integer"],
    ["all zero", { counts: [0, 0, 0] }, "events[0].data.counts must count at least one label"],
    ["a split that is not a string", { counts: [1, 1], split: 1 }, "events[0].data.split must be a string"],
    ["an empty split", { counts: [1, 1], split: "" }, "events[0].data.split label_stats split names must not be empty"],
    [
      "a split of 65 code points",
      { counts: [1, 1], split: "🚀".repeat(65) },
      "events[0].data.split label_stats split names must be at most 64 code points",
    ],
  ])("%s", (_name, data, expected) => {
    expect(labels(data)).toBe(expected);
  });
});

describe("project, run name and config", () => {
  test.each([
    ["project: 100 astral code points", { project: "🚀".repeat(100) }, "ok"],
    ["project: 101 astral code points", { project: "🚀".repeat(101) }, "project must be at most 100 code points"],
    ["project: trimmed to empty", { project: "   " }, "project must not be empty"],
    ["project: lone surrogate", { project: "digits\ud800" }, "project must be well-formed Unicode (no lone surrogates)"],
    ["project: control character", { project: "dig\u0007its" }, "project must not contain control characters"],
    ["project: missing", { project: undefined }, "project is required"],
    ["name: 200 CJK", { name: "跑".repeat(200) }, "ok"],
    ["name: 201 CJK", { name: "跑".repeat(201) }, "name must be at most 200 code points"],
    ["name: lone low surrogate", { name: "\udc00run" }, "name must be well-formed Unicode (no lone surrogates)"],
    ["name: newline", { name: "a\nb" }, "name must not contain control characters"],
    ["id: 64 characters", { id: "a".repeat(64) }, "ok"],
    ["id: 65 characters", { id: "a".repeat(65) }, "id must be 1-64 characters of A-Z a-z 0-9 _ -"],
    ["id: astral", { id: "🚀" }, "id must be 1-64 characters of A-Z a-z 0-9 _ -"],
    ["config: an array", { config: [1] }, "config must be a JSON object"],
    [
      "config: a lone surrogate in a string",
      { config: { model: { act: "re\ud800lu" } } },
      "config.model.act must be well-formed Unicode (no lone surrogates)",
    ],
    [
      "config: a lone surrogate in a key",
      { config: { model: { "\udfff": 1 } } },
      'config.model["\\udfff"] keys must be well-formed Unicode (no lone surrogates)',
    ],
    ["config: a lone surrogate in a list", { config: { tags: ["a", "\ud800"] } }, "config.tags[1] must be well-formed Unicode (no lone surrogates)"],
    ["config: control characters are data", { config: { note: "a\tb\n" } }, "ok"],
    ["config: a key named __proto__", { config: JSON.parse('{"__proto__": {"x": 1}}') }, "ok"],
  ])("%s", (_name, body, expected) => {
    expect(create(body)).toBe(expected);
  });

  const nested = (depth: number): Record<string, unknown> => {
    let v: Record<string, unknown> = {};
    for (let i = 1; i < depth; i++) v = { a: v };
    return v;
  };

  test.each([
    [LIMITS.configDepth.value, "ok"],
    [LIMITS.configDepth.value + 1, "config must be nested at most 32 levels deep (the config object itself is level 1)"],
    [10_000, "config must be nested at most 32 levels deep (the config object itself is level 1)"],
    [1_000_000, "config must be nested at most 32 levels deep (the config object itself is level 1)"],
  ])("config nested %i deep", (depth, expected) => {
    expect(create({ config: nested(depth) })).toBe(expected);
  });

  test("arrays count as levels too", () => {
    let v: unknown = 1;
    for (let i = 1; i < LIMITS.configDepth.value + 1; i++) v = [v];
    expect(create({ config: { v } })).toMatch(/nested at most 32 levels/);
  });

  test.each([
    ["just under 1 MiB", LIMITS.configBytes.value - 20, "ok"],
    ["just over 1 MiB", LIMITS.configBytes.value, /^config is \d+ bytes of UTF-8 JSON; at most 1048576 are allowed$/],
  ])("config size: %s", (_name, n, expected) => {
    const v = create({ config: { s: "x".repeat(n) } });
    if (expected === "ok") expect(v).toBe("ok");
    else expect(v).toMatch(expected);
  });

  test("config size counts UTF-8 bytes, not characters", () => {
    const chars = Math.ceil(LIMITS.configBytes.value / 4) + 10; // 4 bytes each in UTF-8
    expect(create({ config: { s: "🚀".repeat(chars) } })).toMatch(/^config is \d+ bytes/);
  });

  test("the config reaches createRun as sent, a key named __proto__ included", () => {
    const config = JSON.parse('{"__proto__": {"x": 1}, "lr": 0.1}');
    const out = parse(createRun, { project: "p", config });
    expect(JSON.stringify(out.config)).toBe('{"__proto__":{"x":1},"lr":0.1}');
  });
});
