// The TypeScript SDK keeps to the one wire contract (lib/contract/limits.ts -> docs/contract.json):
// its own copy of the limits equals the contract; what breaks it is dropped client-side, key by key,
// and counted; what the server still rejects is counted too, without stopping later batches;
// resumed runs continue their steps; any config becomes bounded JSON. Against the fake server, which
// applies the contract's key rule the way the real one does (a bad key rejects the whole batch).
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

import { CONTRACT } from "../../../sdk/ts/src/encode";
import { init, type InitOptions, type Run } from "../../../sdk/ts/src/index";
import { createRun } from "../../../lib/schemas/runs";
import { type FakeServer, startFakeServer } from "./fake-server";
import { captureStderr, freePort, pendingInSpool, tmpDir, waitFor } from "./util";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const contract = JSON.parse(fs.readFileSync(path.join(ROOT, "docs/contract.json"), "utf8"));

let server: FakeServer;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;
const runs: Run[] = [];

beforeEach(async () => {
  server = await startFakeServer();
  spoolDir = tmpDir();
  stderr = captureStderr();
});

afterEach(async () => {
  await Promise.all(runs.splice(0).map((r) => r.finish("finished", { timeoutMs: 200 })));
  stderr?.restore();
  await server.stop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

async function start(opts: Partial<InitOptions> = {}): Promise<Run> {
  const run = await init({
    project: "sdk-contract",
    url: server.url,
    spoolDir,
    flushIntervalMs: 50,
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    ...opts,
  });
  runs.push(run);
  return run;
}

/** Stored points of `key` as step -> value. */
function series(runId: string, key: string): Map<number, number | string> {
  const out = new Map<number, number | string>();
  for (const [k, v] of server.points(runId)) {
    const at = k.lastIndexOf("@");
    if (k.slice(0, at) === key) out.set(Number(k.slice(at + 1)), v);
  }
  return out;
}

// (the run's address, printed once the server confirms the run, is no warning)
const babysitWarnings = () => stderr.lines(/^babysit: (?!(logging|resumed) run )/);

describe("the SDK's copy of the contract", () => {
  // Limits on what the server reads back or interprets, not on anything an SDK sends. A new limit
  // in lib/contract/limits.ts fails the next test until it is either copied into the SDK or named here.
  // run management limits (dashboard and API) are nothing the SDKs send
  const NOT_FOR_SDKS = new Set([
    "seriesKeysPerRequest",
    "keyPatternMaxLength",
    "keyPatternsMax",
    "tagMaxLength",
    "tagsPerRun",
    "notesMaxLength",
    "bulkRunsMax",
    "runFilterMaxLength",
    "runConfigFiltersMax",
    "runListColumnsMax",
    "runListConfigKeys",
    "runListKeysRuns",
    "runListKeysMax",
    "shareListMax",
    // sweeps: names, budgets and trial reads the server checks (the SDKs send what the user gave)
    "sweepBudgetMax",
    "sweepTrialsMax",
    "sweepListMax",
    // body limits of routes other than the log route: what the SDKs send there is far within them
    "runCreateBodyBytes",
    "editBodyBytes",
    "smallBodyBytes",
    // the server judges a run's startedAt / finishedAt against its own clock; SDKs send theirs as is
    "runTimeFutureSkew",
    "runTimeMaxAge",
    "runMetricFiltersMax",
    // log import and console lines: the babysit CLI and the dashboard send those, not the SDK
    "importFileBytes",
    "importPointsMax",
    "importRecordFieldsMax",
    "importPatternMaxLength",
    "importPatternsMax",
    "importSourceMaxLength",
    "importHparamsPeekBytes",
    "runLogBodyBytes",
    "runLogLineMaxLength",
    "runLogLinesPerBatch",
    "runLogLinesPerRun",
    "runLogPageMax",
  ]);

  test("every limit equals docs/contract.json (generated from lib/contract/limits.ts)", () => {
    const theirs = Object.fromEntries(
      Object.entries(contract.limits as Record<string, { value: number }>)
        .filter(([k]) => !NOT_FOR_SDKS.has(k))
        .map(([k, v]) => [k, v.value]),
    );
    expect({ ...CONTRACT.limits }).toEqual(theirs);
  });

  test("string unit, run id pattern and non-finite strings equal the contract", () => {
    expect(CONTRACT.stringUnit).toBe(contract.stringUnit);
    expect(CONTRACT.runIdPattern).toBe(contract.runIdPattern);
    expect([...CONTRACT.nonFiniteStrings]).toEqual(contract.nonFiniteStrings);
  });
});

describe("metric keys", () => {
  // [label, key, kept, the reason finish() reports when dropped]
  const tooLong = "metric key longer than 200 code points";
  const malformed = "metric key is not well-formed Unicode (lone surrogate)";
  const control = "metric key contains control characters";
  test.each([
    ["200 rockets (astral, 400 UTF-16 units)", "🚀".repeat(200), true, null],
    ["201 rockets", "🚀".repeat(201), false, tooLong],
    ["200 CJK characters (600 UTF-8 bytes)", "字".repeat(200), true, null],
    ["201 CJK characters", "字".repeat(201), false, tooLong],
    ["200 astral CJK (U+20000)", "𠀀".repeat(200), true, null],
    ["201 astral CJK", "𠀀".repeat(201), false, tooLong],
    ["prefix and 195 rockets", `loss/${"🚀".repeat(195)}`, true, null],
    ["200 ASCII", "a".repeat(200), true, null],
    ["201 ASCII", "a".repeat(201), false, tooLong],
    ["e + combining accent x 100 (200 code points)", "e\u0301".repeat(100), true, null],
    ["lone high surrogate", "\ud800", false, malformed],
    ["lone low surrogate", "loss/\udc00", false, malformed],
    ["pair cut short", "loss/\ud83d", false, malformed],
    ["pair reversed", "\ude80\ud83d", false, malformed],
    ["NUL", "a\u0000b", false, control],
    ["tab", "train\tloss", false, control],
    ["U+001F", "\u001f", false, control],
    ["DEL", "x\u007f", false, control],
    ["U+0080 (not a C0 control)", "x\u0080", true, null],
    ["constructor", "constructor", true, null],
    ["__proto__", "__proto__", true, null],
  ])("%s: only that key is affected, train/loss keeps its 3 points", async (_label, key, kept, reason) => {
    const run = await start();
    for (let step = 0; step < 3; step++) run.log(JSON.parse(JSON.stringify({ "train/loss": step + 0.5, [key]: step })));
    const result = await run.finish();

    expect(series(run.id, "train/loss")).toEqual(
      new Map([
        [0, 0.5],
        [1, 1.5],
        [2, 2.5],
      ]),
    );
    if (kept) {
      expect(series(run.id, key)).toEqual(
        new Map([
          [0, 0],
          [1, 1],
          [2, 2],
        ]),
      );
      expect(result).toEqual({ delivered: true, pendingBatches: 0, spoolPath: null, rejectedPoints: 0, rejections: [] });
      expect(babysitWarnings()).toEqual([]);
    } else {
      expect(series(run.id, key).size).toBe(0);
      expect(result).toMatchObject({ delivered: false, pendingBatches: 0, rejectedPoints: 3, rejections: [{ reason, points: 3 }] });
      // one warning for the key (not one per call), one summary line from finish()
      expect(babysitWarnings().filter((l) => l.includes(reason!))).toHaveLength(2);
      expect(babysitWarnings().filter((l) => l.includes("that key dropped"))).toHaveLength(1);
    }
  });

  test.each([
    [150, true],
    [200, true],
    [201, false],
  ])("the issue's example: train/loss and %i rockets for 5 steps (kept: %s)", async (n, kept) => {
    const run = await start();
    const rocket = "🚀".repeat(n);
    for (let step = 0; step < 5; step++) run.log({ "train/loss": 1 / (step + 1), [rocket]: 2 });
    const result = await run.finish();
    expect(series(run.id, "train/loss").size).toBe(5);
    expect(series(run.id, rocket).size).toBe(kept ? 5 : 0);
    expect(result.delivered).toBe(kept);
    expect(result.rejectedPoints).toBe(kept ? 0 : 5);
    if (!kept) {
      expect(stderr.lines(/were rejected and not stored/)).toEqual([
        `babysit: 5 points logged to run ${run.id} were rejected and not stored (5: metric key longer than 200 code points)`,
      ]);
    }
  });

  test("a lone surrogate key never reaches the server; histogram keys follow the same rule", async () => {
    const run = await start();
    run.log({ "\ud800": 1, ok: 1 }, { step: 0 });
    run.logHistogram("act/\ud800", [1, 2, 3], 0);
    run.logHistogram("🚀".repeat(201), [1, 2, 3], 0);
    run.logHistogram("🚀".repeat(200), [1, 2, 3], 0);
    const result = await run.finish();
    const bodies = JSON.stringify(server.logRequests(run.id).map((r) => r.body));
    expect(bodies).not.toMatch(/\\ud800/i);
    const hs = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.histograms);
    expect(hs.map((h) => h.key)).toEqual(["🚀".repeat(200)]);
    expect(result.rejections).toEqual([
      { reason: "metric key is not well-formed Unicode (lone surrogate)", points: 1 },
      { reason: "histogram key is not well-formed Unicode (lone surrogate)", points: 1 },
      { reason: "histogram key longer than 200 code points", points: 1 },
    ]);
  });
});

describe("steps, epochs and times", () => {
  test.each([
    ["2^53-1", Number.MAX_SAFE_INTEGER, true],
    ["2^53", 2 ** 53, false],
    ["-1", -1, false],
    ["1.5", 1.5, false],
    ["NaN", NaN, false],
    ["1e300", 1e300, false],
  ])("step %s: kept %s", async (_label, step, kept) => {
    const run = await start();
    run.log({ a: 1 }, { step: 0 });
    run.log({ a: 2, b: 3 }, { step });
    const result = await run.finish();
    expect(series(run.id, "a").size).toBe(kept ? 2 : 1);
    expect(result.rejectedPoints).toBe(kept ? 0 : 2);
  });

  test("after step 2^53-1 an automatic step is refused, not sent", async () => {
    const run = await start();
    run.log({ a: 1 }, { step: Number.MAX_SAFE_INTEGER });
    run.log({ a: 2 });
    const result = await run.finish();
    expect([...series(run.id, "a").keys()]).toEqual([Number.MAX_SAFE_INTEGER]);
    expect(result.rejections).toEqual([{ reason: "step is not an integer from 0 to 2^53-1", points: 1 }]);
  });

  test.each([
    ["1e12", 1e12, true],
    ["-1e12", -1e12, true],
    ["1e12 + 1", 1e12 + 1, false],
    ["-1e306", -1e306, false],
    ["Infinity", Infinity, false],
    ["NaN", NaN, false],
  ])("epoch %s: kept %s; the row's metrics are sent either way", async (_label, epoch, kept) => {
    const run = await start();
    run.log({ a: 1 }, { step: 0, epoch });
    const result = await run.finish();
    const rows = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.rows);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.metrics).toEqual({ a: 1 });
    expect(rows[0]!.epoch).toBe(kept ? epoch : undefined);
    expect(result.rejectedPoints).toBe(kept ? 0 : 1);
  });

  test("times are Unix seconds within the contract's range", async () => {
    const run = await start();
    run.log({ a: 1 });
    run.logHistogram("h", [1, 2]);
    run.event("note", {});
    await run.finish();
    const b = [...server.runs.get(run.id)!.batches.values()];
    const times = [...b.flatMap((x) => x.rows), ...b.flatMap((x) => x.histograms), ...b.flatMap((x) => x.events)].map(
      (x) => (x as { time?: number }).time,
    );
    expect(times).toHaveLength(3);
    for (const t of times) expect(t).toBeGreaterThan(1.7e9);
    for (const t of times) expect(t).toBeLessThanOrEqual(contract.limits.timeMax.value);
  });
});

describe("event types, project and name", () => {
  test.each([
    ["64 rockets", "🚀".repeat(64), true],
    ["65 rockets", "🚀".repeat(65), false],
    ["64 CJK", "字".repeat(64), true],
    ["lone surrogate", "img\ud800", false],
    ["lone low surrogate", "\udfff", false],
    ["newline", "input\nstats", false],
    ["DEL", "\u007f", false],
    ["empty", "", false],
  ])("event type: %s", async (_label, type, kept) => {
    const run = await start();
    run.log({ a: 1 }, { step: 0 });
    run.event(type, { x: 1 });
    const result = await run.finish();
    const events = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events);
    expect(events.map((e) => e.type)).toEqual(kept ? [type] : []);
    expect(series(run.id, "a").size).toBe(1);
    expect(result.rejectedPoints).toBe(kept ? 0 : 1);
  });

  test.each([
    ["project with a lone surrogate", { project: "p\ud800" }, { project: "default" }],
    ["project with a control character", { project: "a\u0007b" }, { project: "default" }],
    ["project of 101 rockets", { project: "🚀".repeat(101) }, { project: "default" }],
    ["project of 100 rockets", { project: "🚀".repeat(100) }, { project: "🚀".repeat(100) }],
    ["project with spaces around", { project: "  digits  " }, { project: "digits" }],
    ["name with a lone surrogate", { name: "\udc00run" }, { name: undefined }],
    ["name with a newline", { name: "run\n1" }, { name: undefined }],
    ["name of 201 CJK", { name: "字".repeat(201) }, { name: undefined }],
    ["name of 200 CJK", { name: "字".repeat(200) }, { name: "字".repeat(200) }],
  ])("%s", async (_label, opts, expected) => {
    const run = await start(opts as Partial<InitOptions>);
    run.log({ a: 1 });
    expect((await run.finish()).delivered).toBe(true);
    const created = server.runs.get(run.id)!;
    if ("project" in expected) expect(created.project).toBe(expected.project);
    if ("name" in expected) expect(created.name).toBe(expected.name);
  });
});

describe("names are trimmed exactly as the server trims them (JavaScript trim())", () => {
  // [label, raw]: what the SDK sends must be what the server's own schema makes of the raw name, and
  // a name the server would refuse is not sent (project "default", name left to the server).
  test.each([
    ["U+FEFF (BOM) around", "\ufeffdigits\ufeff"],
    ["U+00A0 (no-break space) around", "\u00a0digits\u00a0"],
    ["ASCII whitespace around", " \t\n\r\v\fdigits \r\n"],
    ["U+2028, U+3000, U+1680, U+205F, U+202F around", "\u2028\u3000digits\u1680\u205f\u202f"],
    ["U+001C before (not trimmed: a control character)", "\u001cdigits"],
    ["U+001F after (not trimmed: a control character)", "digits\u001f"],
    ["U+001D and U+001E around", "\u001ddigits\u001e"],
    ["U+0085 (NEL, not trimmed by JavaScript) around", "\u0085digits\u0085"],
    ["U+200B (zero-width space, not trimmed) around", "\u200bdigits\u200b"],
    ["U+180E (not whitespace since Unicode 6.3) around", "\u180edigits"],
    ["only U+FEFF and U+00A0", "\ufeff\u00a0"],
    ["100 rockets inside U+FEFF", `\ufeff${"🚀".repeat(100)}\ufeff`],
  ])("%s", async (_label, raw) => {
    const serverProject = createRun.safeParse({ project: raw });
    const serverName = createRun.safeParse({ project: "p", name: raw });
    const run = await start({ project: raw, name: raw });
    await run.finish();
    const sent = server.requests.find((r) => r.path === "/api/v1/runs")!.body as { project: string; name?: string };
    expect(sent.project).toBe(serverProject.success ? serverProject.data.project : "default");
    expect(sent.name).toBe(serverName.success ? serverName.data.name : undefined);
    expect(server.runs.get(run.id)!.project).toBe(sent.project);
  });
});

describe("per-run key limits", () => {
  test("metric keys beyond keysPerRun are dropped here, counted, warned about once; known keys go on", async () => {
    const max = contract.limits.keysPerRun.value as number;
    const run = await start();
    const row: Record<string, number> = { "train/loss": 0 };
    for (let i = 0; i < max; i++) row[`k/${i}`] = i; // max + 1 keys in all
    run.log(row, { step: 0 });
    run.log({ "train/loss": 1, "k/0": 1, "new/one": 1 }, { step: 1, epoch: 1 }); // epoch is a key too
    const result = await run.finish();
    const reason = `more than ${max} distinct metric keys in one run`;
    expect(result).toMatchObject({ delivered: false, rejectedPoints: 3, rejections: [{ reason, points: 3 }] });
    expect(series(run.id, "train/loss").size).toBe(2);
    expect(series(run.id, "k/0").size).toBe(2);
    expect(series(run.id, `k/${max - 2}`).size).toBe(1);
    expect(series(run.id, `k/${max - 1}`).size).toBe(0);
    expect(stderr.lines(/distinct metric keys, the most one run may have/)).toHaveLength(1);
  });

  test.each([
    ["histogram", "histogramKeysPerRun", (run: Run, key: string) => run.logHistogram(key, [1, 2], 0)],
    ["image", "imageKeysPerRun", (run: Run, key: string) => run.event("image", { key, width: 1, height: 1, png_base64: PNG_1X1 }, 0)],
  ])("%s keys beyond %s are dropped here and counted; a known key still goes", async (kind, limitName, logOne) => {
    const max = contract.limits[limitName].value as number;
    const run = await start();
    for (let i = 0; i <= max; i++) logOne(run, `${kind}/${i}`);
    logOne(run, `${kind}/0`);
    const result = await run.finish();
    expect(result).toMatchObject({ rejectedPoints: 1, rejections: [{ reason: `more than ${max} distinct ${kind} keys in one run`, points: 1 }] });
    const b = [...server.runs.get(run.id)!.batches.values()];
    const keys = kind === "histogram" ? b.flatMap((x) => x.histograms.map((h) => h.key)) : b.flatMap((x) => x.events.map((e) => e.data.key));
    expect(keys).toHaveLength(max + 1);
    expect(keys).not.toContain(`${kind}/${max}`);
    expect(stderr.lines(new RegExp(`distinct ${kind} keys, the most one run may have`))).toHaveLength(1);
  });

  test("keys the server refuses (an earlier process used up the run's keys) are counted once, never resent", async () => {
    server.keysPerRun = 3;
    const run = await start();
    run.log({ a: 0, b: 0, c: 0, d: 0, e: 0 }, { step: 0 });
    await run.flush();
    run.log({ a: 1, d: 1 }, { step: 1 });
    const result = await run.finish();
    const message = "the run already has 3 distinct metric keys, the most one run may have";
    expect(result).toMatchObject({ delivered: false, rejectedPoints: 3, rejections: [{ reason: `server: too_many_keys: ${message}`, points: 3 }] });
    expect([...server.points(run.id).keys()].sort()).toEqual(["a@0", "a@1", "b@0", "c@0"]);
    const received = server.runs.get(run.id)!.received;
    expect(new Set(received).size).toBe(received.length);
    expect(stderr.lines(/refused part of a batch/)).toHaveLength(1);
  });
});

const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]).toString("base64");

describe("image events", () => {
  const image = { key: "samples/0", width: 1, height: 1, png_base64: PNG_1X1 };
  test.each([
    ["a valid 1x1 PNG", {}, null],
    ["8192 x 8192", { width: 8192, height: 8192 }, null],
    ["a key of 200 rockets", { key: "🚀".repeat(200) }, null],
    ["a key of 201 rockets", { key: "🚀".repeat(201) }, "image key longer than 200 code points"],
    ["a lone surrogate key", { key: "img\ud800" }, "image key is not well-formed Unicode (lone surrogate)"],
    ["no key", { key: undefined }, "image key is not a string"],
    ["width 0", { width: 0 }, "image width is not an integer from 1 to 8192 pixels"],
    ["width 8193", { width: 8193 }, "image width is not an integer from 1 to 8192 pixels"],
    ["height 1.5", { height: 1.5 }, "image height is not an integer from 1 to 8192 pixels"],
    ["height as a string", { height: "1" }, "image height is not an integer from 1 to 8192 pixels"],
    ["data that is not base64", { png_base64: "not base64!" }, "image png_base64 is not base64 text"],
    ["JPEG data", { png_base64: JPEG_HEAD }, "image png_base64 is not a PNG image"],
    ["data over 4 MiB", { png_base64: PNG_1X1.slice(0, 12) + "A".repeat(5_592_408 - 12) }, "image larger than 4194304 bytes"],
  ])("%s", async (_label, change, reason) => {
    const run = await start();
    run.log({ a: 1 }, { step: 0 });
    run.event("image", { ...image, ...change }, 0);
    const result = await run.finish();
    const events = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events);
    expect(series(run.id, "a").size).toBe(1);
    expect(events).toHaveLength(reason ? 0 : 1);
    expect(result.rejections).toEqual(reason ? [{ reason, points: 1 }] : []);
  });
});

describe("server rejections", () => {
  test("a rejected batch is counted with the server's message and later batches are still delivered", async () => {
    const run = await start();
    server.interceptor = (req) => {
      const rows = (req.body as { rows?: Array<{ step: number }> })?.rows ?? [];
      if (req.path.endsWith("/log") && rows.some((r) => r.step === 3)) {
        return { status: 400, body: { error: { code: "invalid_batch", message: "rows[0].metrics: made-up rule" } } };
      }
      return undefined;
    };
    for (let step = 0; step < 10; step++) {
      run.log({ "train/loss": step, "val/acc": step }, { step });
      await run.flush();
    }
    const result = await run.finish();
    expect([...series(run.id, "train/loss").keys()]).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(result).toMatchObject({
      delivered: false,
      pendingBatches: 0,
      spoolPath: null,
      rejectedPoints: 2,
      rejections: [{ reason: "server: 400 invalid_batch: rows[0].metrics: made-up rule", points: 2 }],
    });
    expect(server.runs.get(run.id)!.status).toBe("finished");
    expect(stderr.lines(/were rejected and not stored/)).toHaveLength(1);
  });

  test("server reasons that differ per batch are kept to 20, the rest counted as other reasons", async () => {
    const run = await start();
    server.interceptor = (req) => {
      const rows = (req.body as { rows?: Array<{ step: number }> })?.rows ?? [];
      if (!req.path.endsWith("/log")) return undefined;
      return { status: 400, body: { error: { code: "invalid_batch", message: `rows[0].step ${rows[0]?.step} is bad` } } };
    };
    for (let step = 0; step < 30; step++) {
      run.log({ a: step }, { step });
      await run.flush();
    }
    const result = await run.finish();
    expect(result.rejectedPoints).toBe(30);
    expect(result.rejections).toHaveLength(21);
    expect(result.rejections[20]).toEqual({ reason: "other reasons", points: 10 });
  });

  test("a batch the server finds too large (413) is split and every point arrives", async () => {
    const run = await start({ maxBatchPoints: 1000 });
    server.maxBodyBytes = 4000;
    for (let step = 0; step < 200; step++) run.log({ "train/loss": step, "val/loss": -step }, { step });
    const result = await run.finish();
    expect(result).toMatchObject({ delivered: true, rejectedPoints: 0 });
    expect(series(run.id, "train/loss").size).toBe(200);
    expect(series(run.id, "val/loss").size).toBe(200);
    expect(server.storedValueCount(run.id)).toBe(400);
    expect(server.logRequests(run.id).some((r) => r.body === "(too large)")).toBe(true);
  });

  test("a single item larger than the server takes (413) is counted as rejected; the rest arrives", async () => {
    const run = await start();
    server.maxBodyBytes = 4000;
    run.log({ a: 1 }, { step: 0 });
    await run.flush();
    run.event("note", { text: "x".repeat(5000) }, 1);
    await run.flush();
    run.log({ a: 2 }, { step: 2 });
    const result = await run.finish();
    expect(series(run.id, "a")).toEqual(
      new Map([
        [0, 1],
        [2, 2],
      ]),
    );
    expect(result).toMatchObject({ delivered: false, rejectedPoints: 1 });
    expect(result.rejections[0]!.reason).toMatch(/^server: 413 payload_too_large/);
  });

  test("a config the server refuses: the run is created without it and the data is delivered", async () => {
    server.interceptor = (req) =>
      req.path === "/api/v1/runs" && (req.body as { config?: unknown }).config !== undefined
        ? { status: 400, body: { error: { code: "invalid_body", message: "config: too large" } } }
        : undefined;
    const run = await start({ config: { lr: 0.1 } });
    run.log({ a: 1 });
    expect((await run.finish()).delivered).toBe(true);
    expect(series(run.id, "a").size).toBe(1);
    expect(stderr.lines(/refused the config/)).toHaveLength(1);
  });

  test("a run the server refuses to create: every point logged to it is counted as rejected", async () => {
    server.interceptor = (req) => (req.path === "/api/v1/runs" ? { status: 403, body: { error: { code: "forbidden", message: "no" } } } : undefined);
    const run = await start();
    run.log({ a: 1, b: 2 });
    run.log({ a: 3 });
    run.event("note", { x: 1 });
    const result = await run.finish();
    expect(result).toMatchObject({
      delivered: false,
      rejectedPoints: 4,
      rejections: [{ reason: "the server refused to create the run (403 forbidden: no)", points: 4 }],
    });
  });
});

describe("resumed runs", () => {
  test("log() without a step continues after the run's last stored step", async () => {
    const first = await start();
    for (let i = 0; i < 10; i++) first.log({ "train/loss": 10 - i });
    await first.finish();

    const resumed = await start({ id: first.id });
    for (let i = 0; i < 5; i++) resumed.log({ "train/loss": 100 + i });
    resumed.logHistogram("w", [1, 2, 3]);
    expect((await resumed.finish()).delivered).toBe(true);

    const loss = series(first.id, "train/loss");
    expect([...loss.keys()]).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(loss.get(0)).toBe(10); // the start of the curve is not overwritten
    expect(loss.get(10)).toBe(100);
    expect(loss.get(14)).toBe(104);
    const hs = [...server.runs.get(first.id)!.batches.values()].flatMap((b) => b.histograms);
    expect(hs.map((h) => h.step)).toEqual([14]);
  });

  test("auto steps logged before a late resume answer land after the run's last step, not at 0", async () => {
    const first = await start();
    for (let i = 0; i < 10; i++) first.log({ a: i });
    await first.finish();
    let refused = 0;
    server.interceptor = (req) => (req.path === "/api/v1/runs" && refused++ === 0 ? { status: 503 } : undefined);
    const resumed = await start({ id: first.id });
    resumed.log({ b: 0 }); // before the server answered
    await resumed.flush();
    resumed.log({ b: 1 });
    expect((await resumed.finish()).delivered).toBe(true);
    expect(series(first.id, "b")).toEqual(
      new Map([
        [10, 0],
        [11, 1],
      ]),
    );
    expect([...series(first.id, "a").keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("server down at init: 20 steps are spooled, and land after the old last step once it is up", async () => {
    const first = await start();
    for (let i = 0; i < 10; i++) first.log({ loss: i });
    first.logHistogram("w", [1, 2, 3]);
    await first.finish();
    const port = server.port;
    await server.stop();

    const resumed = await start({ id: first.id, initTimeoutMs: 100 });
    for (let i = 0; i < 20; i++) resumed.log({ loss: 100 + i });
    resumed.logHistogram("w", [4, 5]); // at the last auto step
    resumed.logHistogram("w", [6], 3); // an explicit step stays absolute
    resumed.event("note", { n: 1 }); // at the last auto step
    const spool = path.join(spoolDir, `${first.id}.jsonl`);
    // Kept like any offline run's data: on disk, with tentative steps.
    await waitFor(() => pendingInSpool(spool).flatMap((b) => b.body.rows).length === 20, "20 rows in the spool");
    expect(pendingInSpool(spool)[0]!.body.rows[0]).toMatchObject({ unresolvedAfter: -1, step: 0 }); // nothing in the spool: "after -1"

    await server.start(port);
    expect((await resumed.finish()).delivered).toBe(true);
    const loss = series(first.id, "loss");
    expect([...loss.keys()]).toEqual(Array.from({ length: 30 }, (_, i) => i));
    for (let i = 0; i < 10; i++) expect(loss.get(i)).toBe(i); // nothing earlier overwritten
    for (let i = 0; i < 20; i++) expect(loss.get(10 + i)).toBe(100 + i);
    const batches = [...server.runs.get(first.id)!.batches.values()];
    expect(batches.flatMap((b) => b.histograms.map((h) => h.step))).toEqual([9, 29, 3]);
    expect(batches.flatMap((b) => b.events.map((e) => e.step))).toEqual([29]);
    // Nothing tentative reached the server.
    expect(JSON.stringify(server.requests.map((r) => r.body))).not.toContain("unresolvedAfter");
    expect(fs.existsSync(spool)).toBe(false);
  });

  test.each([
    ["online", false],
    ["offline first, online later", true],
  ])("never answered: a later process (%s) replays the spool after the run's last step and continues after it", async (_label, offline) => {
    const first = await start();
    for (let i = 0; i < 10; i++) first.log({ loss: i });
    await first.finish();
    const port = server.port;
    await server.stop();

    const lost = await start({ id: first.id, initTimeoutMs: 100 });
    for (let i = 0; i < 20; i++) lost.log({ loss: 100 + i });
    const result = await lost.finish("crashed", { timeoutMs: 200 });
    expect(result).toMatchObject({ delivered: false, rejectedPoints: 0 });
    const spool = path.join(spoolDir, `${first.id}.jsonl`);
    expect(pendingInSpool(spool).flatMap((b) => b.body.rows)).toHaveLength(20);

    if (offline) {
      const again = await start({ id: first.id, initTimeoutMs: 100 });
      for (let i = 0; i < 5; i++) again.log({ loss: 200 + i });
      await again.finish("finished", { timeoutMs: 200 });
      expect(pendingInSpool(spool).flatMap((b) => b.body.rows)).toHaveLength(25);
    }
    await server.start(port);
    const later = await start({ id: first.id });
    later.log({ loss: 300 });
    expect((await later.finish()).delivered).toBe(true);

    const expected = new Map<number, number>();
    for (let i = 0; i < 10; i++) expected.set(i, i);
    for (let i = 0; i < 20; i++) expected.set(10 + i, 100 + i);
    if (offline) for (let i = 0; i < 5; i++) expected.set(30 + i, 200 + i);
    expected.set(expected.size, 300);
    expect(series(first.id, "loss")).toEqual(expected);
    expect(fs.existsSync(spool)).toBe(false);
  });

  test("an explicit log() step while the resume point is unknown anchors the auto steps after it", async () => {
    const first = await start();
    for (let i = 0; i < 10; i++) first.log({ a: i });
    await first.finish();
    const port = server.port;
    await server.stop();
    const resumed = await start({ id: first.id, initTimeoutMs: 100 });
    resumed.log({ b: 0 }); // tentative
    resumed.log({ c: 0 }, { step: 50 }); // absolute
    resumed.log({ c: 1 }); // 51
    await server.start(port);
    await resumed.flush();
    resumed.log({ c: 2 }); // 52
    expect((await resumed.finish()).delivered).toBe(true);
    expect([...series(first.id, "b").keys()]).toEqual([10]);
    expect([...series(first.id, "c").keys()]).toEqual([50, 51, 52]);
  });

  test("a resumed run with nothing stored starts at step 0", async () => {
    const first = await start();
    await first.finish();
    const resumed = await start({ id: first.id });
    resumed.log({ a: 1 });
    await resumed.finish();
    expect([...series(first.id, "a").keys()]).toEqual([0]);
  });

  test("with the server away at resume, steps continue after those the earlier process left in the spool", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const first = await start({ url });
    for (let i = 0; i < 10; i++) first.log({ a: i });
    await first.finish("finished", { timeoutMs: 200 });
    const resumed = await start({ url, id: first.id, initTimeoutMs: 200 });
    resumed.log({ a: 100 });
    await resumed.finish("finished", { timeoutMs: 200 });
    const rows = pendingInSpool(path.join(spoolDir, `${first.id}.jsonl`)).flatMap((b) => b.body.rows);
    expect(rows.map((r: { step: number; metrics: { a: number } }) => [r.step, r.metrics.a]).at(-1)).toEqual([10, 100]);
    expect(rows).toHaveLength(11);
  });
});

class ModelConfig {
  num_classes = 10;
  hidden = [128, 64];
  activation = new Map([["name", "relu"]]);
  get doubled() {
    return this.num_classes * 2; // a getter on the prototype: not data, like a dataclass property
  }
}

class Money {
  constructor(private readonly cents: number) {}
  toJSON() {
    return `${this.cents / 100} EUR`;
  }
}

describe("config", () => {
  test.each([
    ["nested class instance", { model: new ModelConfig() }, { model: { num_classes: 10, hidden: [128, 64], activation: { name: "relu" } } }],
    ["class instance as the config", new ModelConfig(), { num_classes: 10, hidden: [128, 64], activation: { name: "relu" } }],
    [
      "Map with non-string keys",
      {
        m: new Map<unknown, unknown>([
          ["a", 1],
          [2, "b"],
          [true, null],
        ]),
      },
      { m: { a: 1, 2: "b", true: null } },
    ],
    ["Map as the config", new Map([["lr", 0.1]]), { lr: 0.1 }],
    ["Set", { s: new Set([1, "a", 1]) }, { s: [1, "a"] }],
    ["Date", { at: new Date("2026-11-29T10:00:00Z"), bad: new Date(NaN) }, { at: "2026-11-29T10:00:00.000Z", bad: null }],
    ["BigInt", { small: 10n, big: 2n ** 70n }, { small: 10, big: "1180591620717411303424" }],
    ["typed arrays", { f: new Float32Array([1, 2.5]), i: new BigInt64Array([3n]) }, { f: [1, 2.5], i: [3] }],
    ["non-finite numbers", { a: NaN, b: Infinity, c: -Infinity }, { a: "NaN", b: "Infinity", c: "-Infinity" }],
    ["undefined, functions and symbols left out", { a: undefined, f: () => 1, s: Symbol("x"), arr: [undefined, () => 1] }, { arr: [null, null] }],
    ["toJSON", { price: new Money(1250) }, { price: "12.5 EUR" }],
    ["boxed primitives and RegExp", { n: Object(1), s: Object("x"), r: /a+b/g }, { n: 1, s: "x", r: "/a+b/g" }],
    ["Error", { e: new TypeError("boom") }, { e: { name: "TypeError", message: "boom" } }],
    [
      "__proto__ and constructor keys are data",
      JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}'),
      JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}'),
    ],
    ["lone surrogates become U+FFFD", { "k\ud800": "v\udc00", ok: "🚀" }, { "k\ufffd": "v\ufffd", ok: "🚀" }],
    [
      "shared (not circular) references are repeated",
      (() => {
        const s = { a: 1 };
        return { x: s, y: s };
      })(),
      { x: { a: 1 }, y: { a: 1 } },
    ],
  ])("%s", async (_label, config, expected) => {
    const run = await start({ config: config as Record<string, unknown> });
    await run.finish();
    expect(server.runs.get(run.id)!.config).toEqual(expected);
  });

  test.each([
    ["an array", [1, 2]],
    ["a number", 3],
    ["a string", "lr=0.1"],
    ["a Set", new Set([1])],
  ])("config that is %s is ignored with one warning; the run is created", async (_label, config) => {
    const run = await start({ config: config as unknown as Record<string, unknown> });
    run.log({ a: 1 });
    expect((await run.finish()).delivered).toBe(true);
    expect(server.runs.get(run.id)!.config).toBeUndefined();
    expect(stderr.lines(/config must be an object/)).toHaveLength(1);
  });

  test("cycles become a marker, with one warning, and never hang or throw", async () => {
    const a: Record<string, unknown> = { lr: 0.1 };
    a.self = a;
    const m = new Map<string, unknown>();
    const b = { m, list: [] as unknown[] };
    m.set("back", b);
    b.list.push(b, 1);
    const run = await start({ config: { a, b } });
    await run.finish();
    expect(server.runs.get(run.id)!.config).toEqual({
      a: { lr: 0.1, self: "[babysit: circular reference]" },
      b: { m: { back: "[babysit: circular reference]" }, list: ["[babysit: circular reference]", 1] },
    });
    expect(stderr.lines(/circular reference/)).toHaveLength(1);
  });

  test.each([
    [32, false],
    [33, true],
    [10_000, true],
  ])("config nested %i levels deep: truncated beyond 32 levels (%s), with a marker", async (levels, truncated) => {
    const config: Record<string, unknown> = { lr: 0.1 };
    let node = config;
    for (let level = 2; level <= levels; level++) {
      const child: Record<string, unknown> = {};
      node.child = child;
      node = child;
    }
    node.leaf = 1;
    const run = await start({ config });
    await run.finish();
    let stored = server.runs.get(run.id)!.config as Record<string, unknown>;
    let depth = 1;
    while (typeof stored.child === "object") {
      stored = stored.child as Record<string, unknown>;
      depth++;
    }
    expect(depth).toBe(Math.min(levels, 32));
    if (truncated) expect(stored).toEqual({ child: "[babysit: truncated, deeper than 32 levels]" });
    else expect(stored).toEqual({ leaf: 1 });
    expect(stderr.lines(/nested deeper than 32 levels/)).toHaveLength(truncated ? 1 : 0);
    expect((server.runs.get(run.id)!.config as Record<string, unknown>).lr).toBe(0.1);
  });

  test("a config over 1 MiB keeps its small entries and marks the large one", async () => {
    const big = "字".repeat(600_000); // 1.8 MB of UTF-8, 600,000 UTF-16 units
    const run = await start({ config: { lr: 0.1, data: big, more: big.slice(0, 300_000), layers: [1, 2] } });
    await run.finish();
    const stored = server.runs.get(run.id)!.config!;
    expect(stored).toEqual({
      lr: 0.1,
      data: "[babysit: truncated, 1800002 bytes]",
      more: big.slice(0, 300_000),
      layers: [1, 2],
    });
    expect(stderr.lines(/larger than 1048576 bytes/)).toHaveLength(1);
  });

  test("a config of 200,000 keys is cut to fit 1 MiB and says how many entries were left out", async () => {
    const config = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`param_${i}`, i]));
    const run = await start({ config });
    await run.finish();
    const stored = server.runs.get(run.id)!.config!;
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(1024 * 1024);
    expect(stored.param_0).toBe(0);
    const note = Object.entries(stored).find(([k]) => k.startsWith("[babysit: "));
    expect(note?.[1]).toMatch(/^\[babysit: \d+ more entries left out\]$/);
  });

  test("a config of shared references that would expand to 2^40 nodes is cut to a marker and never hangs", async () => {
    let node: Record<string, unknown> = { leaf: "x".repeat(100) };
    for (let i = 0; i < 40; i++) node = { a: node, b: node };
    const run = await start({ config: { lr: 0.1, tree: node } });
    await run.finish();
    const stored = server.runs.get(run.id)!.config!;
    expect(stored).toEqual({ lr: 0.1, tree: expect.stringMatching(/^\[babysit: truncated, \d+ bytes\]$/) });
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(1024 * 1024);
  });

  test("a config that throws when read is left out, never thrown into the caller", async () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error("no keys for you");
        },
      },
    );
    const withGetter = {
      lr: 0.1,
      get bad(): number {
        throw new Error("getter");
      },
    };
    const run = await start({ config: hostile });
    run.log({ a: 1 });
    expect((await run.finish()).delivered).toBe(true);
    expect(server.runs.get(run.id)!.config).toBeUndefined();
    const run2 = await start({ config: withGetter });
    await run2.finish();
    expect(server.runs.get(run2.id)!.config).toEqual({ lr: 0.1 });
  });

  test("event data is converted the same way", async () => {
    const run = await start();
    const data: Record<string, unknown> = { m: new Map([["k", 1n]]), when: new Date(0) };
    data.self = data;
    run.event("note", data, 0);
    await run.finish();
    const events = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events);
    expect(events[0]!.data).toEqual({ m: { k: 1 }, when: "1970-01-01T00:00:00.000Z", self: "[babysit: circular reference]" });
  });
});
