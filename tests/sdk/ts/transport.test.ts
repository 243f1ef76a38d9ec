// Transport behaviour of the TypeScript SDK against a fake server that can be switched off:
// batching, retries, spooling, replay, alerts, bad input. The same behaviours against the real
// server are in real-server.test.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

import * as os from "node:os";
import { init, type Alert, type InitOptions, type Run } from "../../../sdk/ts/src/index";
import { counted } from "../../../sdk/ts/src/output";
import { defaultSpoolDir } from "../../../sdk/ts/src/run";
import { type FakeServer, startFakeServer } from "./fake-server";
import { captureStderr, freePort, pendingInSpool, readSpool, tmpDir, waitFor } from "./util";

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
    project: "sdk-test",
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

const spoolFile = (run: Run) => path.join(spoolDir, `${run.id}.jsonl`);

describe("batching", () => {
  test("sends every point once, in batches of at most maxBatchPoints with increasing seq", async () => {
    const run = await start({ maxBatchPoints: 1000 });
    for (let step = 0; step < 2500; step++) run.log({ "train/loss": 1 / (step + 1) }, { step });
    run.log({ "x/nan": NaN, "x/inf": Infinity, "x/ninf": -Infinity, "x/zero": -0 }, { step: 2500 });
    const result = await run.finish();

    expect(result).toEqual({ delivered: true, pendingBatches: 0, spoolPath: null, rejectedPoints: 0, rejections: [] });
    const fake = server.runs.get(run.id)!;
    expect(fake.status).toBe("finished");
    const points = server.points(run.id);
    expect(points.size).toBe(2504);
    expect(server.storedValueCount(run.id)).toBe(2504);
    expect(points.get("train/loss@0")).toBe(1);
    expect(points.get("train/loss@2499")).toBe(1 / 2500);
    expect(points.get("x/nan@2500")).toBe("NaN");
    expect(points.get("x/inf@2500")).toBe("Infinity");
    expect(points.get("x/ninf@2500")).toBe("-Infinity");
    expect(points.get("x/zero@2500")).toBe(0);
    for (const b of fake.batches.values()) {
      expect(b.rows.reduce((n, r) => n + Object.keys(r.metrics).length, 0)).toBeLessThanOrEqual(1000);
    }
    expect(fake.batches.size).toBeGreaterThanOrEqual(3);
    const seqs = fake.received;
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(fs.existsSync(spoolFile(run))).toBe(false);
  });

  test("sends a small batch after the flush interval, without finish()", async () => {
    const run = await start({ flushIntervalMs: 50 });
    run.log({ a: 1 });
    run.log({ a: 2 });
    run.log({ a: 3 });
    await waitFor(() => server.points(run.id).size === 3, "3 points", 2000);
    expect(server.logRequests(run.id)).toHaveLength(1);
  });

  test("step auto-increments after the last step used; time is taken at the call", async () => {
    const run = await start();
    const before = Date.now() / 1000;
    run.log({ a: 0 });
    run.log({ a: 1 });
    run.log({ a: 10 }, { step: 10, epoch: 0.5 });
    run.log({ a: 11 });
    run.log({ a: 7 }, 7);
    run.log({ a: 8 });
    const after = Date.now() / 1000;
    await run.flush();
    const rows = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.rows);
    expect(rows.map((r) => [r.step, r.metrics.a])).toEqual([
      [0, 0],
      [1, 1],
      [10, 10],
      [11, 11],
      [7, 7],
      [8, 8],
    ]);
    expect(rows[2]!.epoch).toBe(0.5);
    for (const r of rows) {
      expect(r.time).toBeGreaterThanOrEqual(before - 0.001);
      expect(r.time).toBeLessThanOrEqual(after + 0.001);
    }
  });

  test("histograms: raw values are binned into 30 bins ignoring non-finite values; ready-made ones pass", async () => {
    const run = await start();
    run.log({ a: 1 }, { step: 4 });
    const values = Array.from({ length: 1000 }, (_, i) => i / 10); // 0 .. 99.9
    run.logHistogram("act/fc1", [...values, NaN, Infinity, -Infinity], 5);
    run.logHistogram("w/fc1", new Float32Array([1, 2, 3]));
    run.logHistogram("custom", { edges: [0, 0.5, 1], counts: [3, 4] }, 9);
    run.event("gradcheck", { param: "fc1.w", rel_error: 1e-7 });
    await run.flush();
    const hs = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.histograms);
    const act = hs.find((h) => h.key === "act/fc1")!;
    expect(act.step).toBe(5);
    expect(act.counts).toHaveLength(30);
    expect(act.edges).toHaveLength(31);
    expect(act.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(act.edges[0]).toBe(0);
    expect(act.edges[30]).toBeCloseTo(99.9, 10);
    expect(hs.find((h) => h.key === "w/fc1")!.step).toBe(5); // last step used
    const { time, ...custom } = hs.find((h) => h.key === "custom") as (typeof hs)[number] & { time: number };
    expect(custom).toEqual({ step: 9, key: "custom", edges: [0, 0.5, 1], counts: [3, 4] });
    expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(5);
    const events = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events);
    expect(events).toEqual([{ type: "gradcheck", step: 9, time: expect.any(Number), data: { param: "fc1.w", rel_error: 1e-7 } }]);
  });
});

describe("the checklist line at finish(), as the Python SDK prints it", () => {
  const checklist = { summary: "7 passed, 1 raised (lr_too_high), 2 not checkable", passed: 7, raised: 1, unknown: 2, raisedCodes: ["lr_too_high"] };

  test("finish() prints the server's one-line checklist with the run's URL", async () => {
    server.finishChecklist = checklist;
    const run = await start({ name: "mlp" });
    run.log({ loss: 1 });
    expect((await run.finish()).delivered).toBe(true);
    expect(stderr.lines(/checklist/)).toEqual([
      `babysit: checklist 7 passed, 1 raised (lr_too_high), 2 not checkable -> ${server.url}/runs/${run.id}`,
    ]);
  });

  test.each([
    ["no checklist (an older server)", undefined, "", {}],
    ["a null checklist", null, "", {}],
    ["a summary that is not a string", { summary: 7 }, "", {}],
    ["quiet: true", checklist, "", { quiet: true }],
    ["control characters", { summary: "1 passed\u001b[2J, 0 raised" }, "babysit: checklist 1 passed [2J, 0 raised", {}],
  ])("%s", async (_, answer: unknown, line: string, opts: Partial<InitOptions>) => {
    server.finishChecklist = answer;
    const run = await start(opts);
    run.log({ loss: 1 });
    expect((await run.finish()).delivered).toBe(true);
    const printed = stderr.lines(/checklist/);
    expect(printed).toEqual(line ? [`${line} -> ${server.url}/runs/${run.id}`] : []);
  });
});

describe("the run's address, as the Python SDK prints it", () => {
  test("init() prints one line with the run's project, name and dashboard URL once the server confirms it", async () => {
    const run = await start({ name: "mlp" });
    await waitFor(() => stderr.lines(/logging run/).length > 0, "the address line");
    expect(stderr.lines(/^babysit: (logging|resumed) run /)).toEqual([`babysit: logging run sdk-test / mlp -> ${server.url}/runs/${run.id}`]);
    run.log({ loss: 1 });
    await run.flush();
    expect(stderr.lines(/run sdk-test/)).toHaveLength(1); // once, not per batch
  });

  test("a resumed run says so", async () => {
    const first = await start({ name: "again" });
    await first.finish();
    const again = await start({ id: first.id });
    await waitFor(() => stderr.lines(/resumed run/).length > 0, "the resumed line");
    expect(stderr.lines(/resumed run/)).toEqual([`babysit: resumed run sdk-test / again -> ${server.url}/runs/${again.id}`]);
  });

  test.each([
    ["quiet: true", { quiet: true }, {}],
    ["BABYSIT_QUIET=1", {}, { BABYSIT_QUIET: "1" }],
    ["BABYSIT_QUIET=yes", {}, { BABYSIT_QUIET: "yes" }],
  ])("%s prints nothing", async (_, opts: Partial<InitOptions>, env: Record<string, string>) => {
    const saved = process.env.BABYSIT_QUIET;
    Object.assign(process.env, env);
    try {
      const run = await start(opts);
      run.log({ loss: 1 });
      await run.flush();
      expect(stderr.text()).toBe("");
    } finally {
      if (saved === undefined) delete process.env.BABYSIT_QUIET;
      else process.env.BABYSIT_QUIET = saved;
    }
  });
});

test.each([
  [1, "point", undefined, "1 point"],
  [0, "point", undefined, "0 points"],
  [2, "batch", "batches", "2 batches"],
  [1, "batch", "batches", "1 batch"],
])("counts in messages read right: %i %s", (n, one, many, want) => {
  expect(counted(n, one, many)).toBe(want);
});

describe("the spool's default place: the Python SDK's", () => {
  const home = os.homedir();
  test.each([
    ["nothing set: ~/.babysit/spool", undefined, {}, path.join(home, ".babysit", "spool")],
    ["BABYSIT_SPOOL_DIR", undefined, { BABYSIT_SPOOL_DIR: "/tmp/sp" }, "/tmp/sp"],
    ["BABYSIT_SPOOL_DIR with ~", undefined, { BABYSIT_SPOOL_DIR: "~/sp" }, path.join(home, "sp")],
    ["the option before the variable", "/tmp/opt", { BABYSIT_SPOOL_DIR: "/tmp/sp" }, "/tmp/opt"],
    ["a relative option: from the cwd", "rel/sp", {}, path.resolve("rel/sp")],
  ])("%s", (_, option, env, want) => {
    expect(defaultSpoolDir(option, env as NodeJS.ProcessEnv)).toBe(want);
  });
});

describe("bad input", () => {
  test("is dropped with one warning per problem, never thrown, counted as rejected, and the valid rest is sent", async () => {
    const run = await start();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: Array<() => void> = [
      () => run.log({ "": 1, ok: 1 }, { step: 0 }),
      () => run.log({ s: "0.5" as unknown as number, ok: 2 }, { step: 1 }),
      () => run.log(null as unknown as Record<string, number>),
      () => run.log({ ok: 3 }, { step: -1 }),
      () => run.log({ ok: 4 }, { step: 1.5 }),
      () => run.log({ "k\n": 1 }),
      () => run.log({ ["x".repeat(201)]: 1 }),
      () => run.logHistogram("", [1, 2]),
      () => run.logHistogram("h", [NaN, Infinity]),
      () => run.logHistogram("h2", { edges: [0, 1], counts: [1, 2] }),
      () => run.logHistogram("h3", 5 as unknown as number[]),
      () => run.event("", {}),
      () => run.event("e", [] as unknown as Record<string, unknown>),
      () => run.event("c", circular), // sent, with the cycle marked
    ];
    for (const call of [...bad, ...bad]) expect(call).not.toThrow();
    const result = await run.flush();
    // Twice: one value each for the empty, non-number, control and long keys, the two bad steps,
    // the four histograms and the two events; log(null) counts as one value dropped.
    expect(result).toMatchObject({ delivered: false, pendingBatches: 0, rejectedPoints: 26 });
    expect(Object.fromEntries(result.rejections.map((r) => [r.reason, r.points]))).toEqual({
      "metric key is empty": 2,
      "log() called with something other than an object": 2,
      "metric value is not a number": 2,
      "step is not an integer from 0 to 2^53-1": 4,
      "metric key contains control characters": 2,
      "metric key longer than 200 code points": 2,
      "histogram key is empty": 2,
      "histogram has no finite values": 2,
      "histogram: edges must have counts.length + 1 entries": 2,
      "histogram values are not an array of numbers or { edges, counts }": 2,
      "event type is empty": 2,
      "event data is not an object": 2,
    });

    expect(server.points(run.id)).toEqual(
      new Map([
        ["ok@0", 1],
        ["ok@1", 2],
      ]),
    );
    const events = [...server.runs.get(run.id)!.batches.values()].flatMap((b) => b.events);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ["c", { self: "[babysit: circular reference]" }],
      ["c", { self: "[babysit: circular reference]" }],
    ]);
    // Each problem is reported once although each call happened twice; the two bad steps share
    // one warning (it is about the step, whatever the key).
    // (the run's address, printed once the server confirmed it, is not a warning)
    expect(stderr.lines(/^babysit: (?!logging run )/)).toHaveLength(bad.length - 1);
  });
});

describe("nothing dropped uncounted", () => {
  test.each([
    ["log()", (run: Run) => run.log({ a: 1, b: 2 }, { step: 5 }), 2],
    ["logHistogram()", (run: Run) => run.logHistogram("h", [1, 2]), 1],
    ["event()", (run: Run) => run.event("note", { x: 1 }), 1],
  ])("%s after finish() is counted as rejected, with one warning", async (_label, call, points) => {
    const run = await start();
    run.log({ a: 0 }, { step: 0 });
    expect((await run.finish()).delivered).toBe(true);
    call(run);
    call(run);
    expect(await run.flush()).toMatchObject({
      delivered: false,
      rejectedPoints: 2 * points,
      rejections: [{ reason: "logged after finish()", points: 2 * points }],
    });
    expect(stderr.lines(/data logged after finish\(\) is dropped/)).toHaveLength(1);
  });

  test("values whose iteration throws inside logHistogram() are counted, never thrown", async () => {
    const run = await start();
    const values = {
      [Symbol.iterator]() {
        throw new Error("boom");
      },
    } as unknown as number[];
    expect(() => run.logHistogram("h", values, 0)).not.toThrow();
    expect(await run.flush()).toMatchObject({ rejectedPoints: 1, rejections: [{ reason: "logHistogram() failed internally", points: 1 }] });
  });
});

describe("server away", () => {
  test("init does not throw or hang when the server is down; the run is created once it is up", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const run = await start({ url: `http://127.0.0.1:${port}` });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(run.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(run.url).toBe(`http://127.0.0.1:${port}/runs/${run.id}`);
    run.log({ a: 1 });
    run.log({ a: 2 });
    await server.stop();
    await server.start(port);
    await waitFor(() => server.points(run.id).size === 2, "points after the server came up");
    expect(server.runs.get(run.id)!.project).toBe("sdk-test");
  });

  test("spools to disk while the server is away, warns once, and replays in seq order when it is back", async () => {
    const run = await start({ maxBatchPoints: 50 });
    run.log({ a: -1 }, { step: 0 });
    await run.flush();
    const port = server.port;
    await server.stop();

    for (let step = 1; step <= 300; step++) run.log({ a: step, b: -step }, { step });
    // 600 points at 50 per batch: 12 batches, all of them on disk while the server is away.
    await waitFor(() => pendingInSpool(spoolFile(run)).length >= 12, "12 batches in the spool");
    const spooled = pendingInSpool(spoolFile(run));
    const seqs = spooled.map((b) => b.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(spooled.flatMap((b) => b.body.rows.map((r: { step: number }) => r.step))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(readSpool(spoolFile(run))[0]).toMatchObject({ kind: "run", id: run.id, project: "sdk-test" });

    expect(stderr.lines(/cannot reach/)).toHaveLength(1);

    await server.start(port);
    await waitFor(() => server.points(run.id).size === 601, "all 601 points after the server came back");
    await waitFor(() => !fs.existsSync(spoolFile(run)), "spool file removed once everything was acknowledged");
    expect(server.storedValueCount(run.id)).toBe(601);
    const received = server.runs.get(run.id)!.received;
    const replayed = received.filter((s) => seqs.includes(s));
    expect(replayed).toEqual(seqs); // each spooled batch once, in seq order
    expect(stderr.lines(/cannot reach/)).toHaveLength(1);
  });

  test("finish() resolves by its deadline when the server never comes back; the next init replays the spool", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const run = await start({ url });
    for (let step = 0; step < 100; step++) run.log({ loss: step === 50 ? NaN : step }, { step });
    const t0 = Date.now();
    const result = await run.finish("finished", { timeoutMs: 500 });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(result.delivered).toBe(false);
    expect(result.spoolPath).toBe(spoolFile(run));
    const records = readSpool(spoolFile(run));
    // kept with when finish() ran: a replay gives the run its real end
    expect(records.at(-1)).toEqual({ kind: "finish", status: "finished", finishedAt: expect.any(Number) });
    expect((records.at(-1) as { finishedAt: number }).finishedAt * 1000).toBeGreaterThanOrEqual(t0 - 10);
    expect(pendingInSpool(spoolFile(run)).flatMap((b) => b.body.rows)).toHaveLength(100);
    expect(stderr.text()).toContain(`init({ id: "${run.id}"`);

    await server.stop();
    await server.start(port);
    const again = await start({ url, id: run.id });
    await waitFor(() => server.points(run.id).size === 100, "the 100 spooled points");
    expect(server.points(run.id).get("loss@50")).toBe("NaN");
    again.log({ loss: 0 }, { step: 100 });
    expect((await again.finish()).delivered).toBe(true);
    expect(server.points(run.id).size).toBe(101);
    expect(fs.existsSync(spoolFile(run))).toBe(false);
  });

  test("a run resumed by a later process gets new seqs that the server does not dedupe away", async () => {
    const first = await start();
    for (let step = 0; step < 10; step++) first.log({ a: step }, { step });
    await first.finish();
    const second = await start({ id: first.id });
    for (let step = 10; step < 20; step++) second.log({ a: step }, { step });
    await second.finish();
    expect(server.points(first.id).size).toBe(20);
    expect(server.runs.get(first.id)!.creates).toBe(2);
  });

  test("a batch whose fresh seq is already taken on the server is renumbered, not lost", async () => {
    const run = await start();
    // Another process with a clock ahead of ours already used the next 100,000 seqs for this run.
    const fake = server.runs.get(run.id)!;
    const now = Date.now();
    for (let s = now - 1000; s < now + 100_000; s++) fake.batches.set(s, { seq: s, rows: [], histograms: [], events: [] });
    run.log({ a: 1 }, { step: 0 });
    await run.flush();
    expect(server.points(run.id).get("a@0")).toBe(1);
  });

  test("a run that vanished from the server (404) is created again and the batch resent", async () => {
    const run = await start();
    run.log({ a: 1 });
    await run.flush();
    server.runs.delete(run.id);
    run.log({ a: 2 });
    expect((await run.flush()).delivered).toBe(true);
    expect(server.points(run.id)).toEqual(new Map([["a@1", 2]]));
  });
});

describe("a spool file that cannot be written", () => {
  const LOST_AT_END = "the server was unreachable and the spool file could not be written: not delivered when the run ended";
  const LOST_IN_MEMORY = "the server was unreachable and the spool file could not be written: dropped beyond the in-memory bound";

  /** A run whose spool path is a directory (EISDIR on every write), with the server stopped. */
  async function brokenSpool(opts: Partial<InitOptions> = {}) {
    const run = await start({ maxBatchPoints: 50, ...opts });
    run.log({ a: 0 }, { step: 0 });
    await run.flush();
    fs.mkdirSync(spoolFile(run));
    const port = server.port;
    await server.stop();
    for (let step = 1; step <= 300; step++) run.log({ a: step }, { step });
    await waitFor(() => stderr.lines(/cannot write spool file/).length > 0, "the spool write to fail");
    return { run, port };
  }

  test("keeps the data in memory, warns once, and delivers all of it when the server is back", async () => {
    const { run, port } = await brokenSpool();
    await server.start(port);
    expect(await run.finish()).toEqual({ delivered: true, pendingBatches: 0, spoolPath: null, rejectedPoints: 0, rejections: [] });
    expect(server.points(run.id).size).toBe(301);
    expect(stderr.lines(/cannot write spool file/)).toHaveLength(1);
  });

  test("what is still undelivered when finish() gives up is counted as lost, never reported as saved", async () => {
    const { run } = await brokenSpool();
    const result = await run.finish("finished", { timeoutMs: 300 });
    expect(result).toEqual({
      delivered: false,
      pendingBatches: 0,
      spoolPath: null,
      rejectedPoints: 300,
      rejections: [{ reason: LOST_AT_END, points: 300 }],
    });
    expect(stderr.lines(/300 points logged to run .* were rejected and not stored/)).toHaveLength(1);
    expect(stderr.lines(/are saved in/)).toHaveLength(0);
  });

  test("memory is bounded: the oldest batches are kept, newer ones beyond maxMemoryBytes are counted as lost", async () => {
    // A batch of 50 rows is about 2.5 kB of JSON: room for two of the six.
    const { run, port } = await brokenSpool({ maxMemoryBytes: 6000 });
    await waitFor(() => stderr.lines(/more than 6000 bytes of unsent data/).length > 0, "the memory bound to be reached");
    await server.start(port);
    const result = await run.finish();
    const stored = [...server.points(run.id).keys()].map((k) => Number(k.slice(2))).sort((a, b) => a - b);
    expect(result.rejections).toEqual([{ reason: LOST_IN_MEMORY, points: result.rejectedPoints }]);
    expect(stored.length + result.rejectedPoints).toBe(301);
    expect(result.rejectedPoints).toBeGreaterThanOrEqual(150);
    expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i)); // no holes: steps 0..n
    expect(stderr.lines(/more than 6000 bytes of unsent data/)).toHaveLength(1);
  });

  test("a torn line in a left-over spool is skipped with a warning; the whole batches in it are replayed", async () => {
    const file = path.join(spoolDir, "torn-run.jsonl");
    const row = (step: number) => ({ step, metrics: { a: step } });
    fs.writeFileSync(
      file,
      `${JSON.stringify({ kind: "run", id: "torn-run", project: "sdk-test" })}\n` +
        `${JSON.stringify({ kind: "batch", seq: 5, body: { seq: 5, rows: [row(0), row(1)], histograms: [], events: [] } })}\n` +
        `{"kind":"batch","seq":6,"body":{"seq":6,"rows":[{"step":2,"met`,
    );
    const run = await start({ id: "torn-run" });
    expect((await run.finish()).delivered).toBe(true);
    expect(server.points("torn-run")).toEqual(
      new Map([
        ["a@0", 0],
        ["a@1", 1],
      ]),
    );
    expect(stderr.lines(/skipped 1 unreadable line\(s\) of spool file/)).toHaveLength(1);
  });

  test("a spool that becomes writable again gets everything, nothing is counted as lost", async () => {
    const { run } = await brokenSpool();
    fs.rmdirSync(spoolFile(run));
    await waitFor(() => pendingInSpool(spoolFile(run)).flatMap((b) => b.body.rows).length === 300, "300 rows in the spool");
    const result = await run.finish("finished", { timeoutMs: 200 });
    expect(result).toMatchObject({ delivered: false, spoolPath: spoolFile(run), rejectedPoints: 0 });
    expect(pendingInSpool(spoolFile(run)).flatMap((b) => b.body.rows)).toHaveLength(300);
  });
});

describe("error responses", () => {
  test.each([
    [500, "retried"],
    [502, "retried"],
    [503, "retried"],
    [408, "retried"],
    [429, "retried"],
    [400, "dropped"],
    [409, "dropped"],
    // 413 splits the batch first: see wire-contract.test.ts
    [422, "dropped"],
  ])("a %i answer to a batch: %s", async (status, outcome) => {
    const run = await start();
    let failures = 0;
    server.interceptor = (req) => {
      if (!req.path.endsWith("/log") || failures >= 3) return undefined;
      failures++;
      return { status, body: { error: { code: `code_${status}`, message: "injected failure" } } };
    };
    run.log({ a: 1 }, { step: 0 });
    await run.flush({ timeoutMs: 3000 });
    run.log({ a: 2 }, { step: 1 });
    await run.flush({ timeoutMs: 3000 });
    const attempts = server.logRequests(run.id).map((r) => (r.body as { seq: number }).seq);
    const firstSeq = attempts[0]!;
    if (outcome === "retried") {
      // three failures, then the same seq again: a retried batch keeps its seq
      expect(attempts.slice(0, 4)).toEqual([firstSeq, firstSeq, firstSeq, firstSeq]);
      expect(server.points(run.id)).toEqual(
        new Map([
          ["a@0", 1],
          ["a@1", 2],
        ]),
      );
    } else {
      // not retried: the first batch is dropped with a warning, later ones go on
      expect(attempts.filter((s) => s === firstSeq)).toHaveLength(1);
      expect(stderr.lines(new RegExp(`rejected a batch.*${status} code_${status}`))).toHaveLength(1);
      expect(server.points(run.id).has("a@0")).toBe(false);
      // The run is not poisoned: once the server accepts again, later batches are stored, and
      // finish() counts the points of the three rejected ones (1 + 1 + 2) with the server's reason.
      run.log({ a: 3 }, { step: 2 });
      run.log({ a: 4 }, { step: 3 });
      await run.flush({ timeoutMs: 3000 });
      run.log({ a: 5 }, { step: 4 });
      const result = await run.finish();
      expect(server.points(run.id).get("a@4")).toBe(5);
      expect(result).toMatchObject({
        delivered: false,
        pendingBatches: 0,
        rejectedPoints: 4,
        rejections: [{ reason: `server: ${status} code_${status}: injected failure`, points: 4 }],
      });
      expect(stderr.lines(/points logged to run .* were rejected/)).toEqual([
        `babysit: 4 points logged to run ${run.id} were rejected and not stored (4: server: ${status} code_${status}: injected failure)`,
      ]);
    }
  });

  test("backoff doubles from backoffInitialMs up to backoffMaxMs", async () => {
    const run = await start({ backoffInitialMs: 20, backoffMaxMs: 160 });
    server.interceptor = (req) => (req.path.endsWith("/log") ? { status: 503 } : undefined);
    run.log({ a: 1 });
    await waitFor(() => server.logRequests(run.id).length >= 8, "8 attempts", 5000);
    const at = server.logRequests(run.id).map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    gaps.slice(0, 7).forEach((gap, i) => {
      const nominal = Math.min(20 * 2 ** i, 160);
      expect(gap).toBeGreaterThanOrEqual(nominal * 0.75 - 5);
      expect(gap).toBeLessThanOrEqual(160 * 1.25 + 300); // capped (uncapped, gap 6 would be 1280 ms)
    });
  });
});

describe("alerts", () => {
  test("each alert code is printed once per run and passed to onAlert", async () => {
    const seen: Alert[] = [];
    server.alertsFor = () => [{ code: "divergence", severity: "critical", title: "Loss became NaN", message: "train/loss is NaN", step: 120 }];
    const run = await start({ onAlert: (a) => seen.push(a), maxBatchPoints: 5 });
    for (let step = 0; step < 30; step++) run.log({ a: step }, { step });
    await run.flush();
    expect(server.runs.get(run.id)!.batches.size).toBeGreaterThanOrEqual(6);

    // escalation of another code arrives later
    server.alertsFor = () => [
      { code: "dead_relu", severity: "warning", title: "Half of fc1 is dead", message: "", step: 31 },
      { code: "dead_relu", severity: "critical", title: "Most of fc1 is dead", message: "", step: 32 },
    ];
    run.log({ a: 1 });
    await run.flush();

    expect(stderr.lines(/^babysit \[/)).toEqual([
      `babysit [critical] divergence at step 120: Loss became NaN -> ${run.url}`,
      `babysit [warning] dead_relu at step 31: Half of fc1 is dead -> ${run.url}`,
    ]);
    expect(seen.map((a) => `${a.code}/${a.severity}`)).toEqual(["divergence/critical", "dead_relu/warning", "dead_relu/critical"]);
  });

  test.each([
    {
      name: "a critical symptom after the warning that caused it",
      alerts: [
        { code: "lr_too_high", severity: "warning", title: "LR too high", message: "", step: 35, symptoms: ["dead_relu"] },
        { code: "dead_relu", severity: "critical", title: "Dead ReLUs", message: "", step: 40, causedBy: "lr_too_high" },
      ],
      lines: [
        "babysit [warning] lr_too_high at step 35: LR too high -> URL",
        "babysit [critical]   \\_ dead_relu at step 40 (caused by lr_too_high): Dead ReLUs -> URL",
      ],
    },
    {
      name: "two symptoms of one cause",
      alerts: [
        { code: "unshuffled_data", severity: "info", title: "Unshuffled", message: "", step: 1, symptoms: ["noisy_loss", "loss_plateau"] },
        { code: "noisy_loss", severity: "warning", title: "Noisy", message: "", step: 2, causedBy: "unshuffled_data" },
        { code: "loss_plateau", severity: "info", title: "Plateau", message: "", step: null, causedBy: "unshuffled_data" },
      ],
      lines: [
        "babysit [info] unshuffled_data at step 1: Unshuffled -> URL",
        "babysit [warning]   \\_ noisy_loss at step 2 (caused by unshuffled_data): Noisy -> URL",
        // no evidence step: where it was raised
        "babysit [info]   \\_ loss_plateau at step 0 (caused by unshuffled_data): Plateau -> URL",
      ],
    },
  ])("a symptom is printed indented under its root cause: $name", async ({ alerts, lines }) => {
    server.alertsFor = () => alerts;
    const run = await start({});
    run.log({ a: 1 }, { step: 0 });
    await run.flush();
    expect(stderr.lines(/^babysit \[/)).toEqual(lines.map((l) => l.replace("URL", run.url)));
  });

  test.each([
    { name: "a whole-run pattern: raised after 141 steps, not at step 0", step: 0, logged: 141, at: "at step 140 (evidence from step 0)" },
    { name: "no evidence step", step: null, logged: 141, at: "at step 140" },
    { name: "evidence mid-run", step: 37, logged: 141, at: "at step 140 (evidence from step 37)" },
    { name: "borderline: the evidence is the latest step", step: 140, logged: 141, at: "at step 140" },
    { name: "borderline: raised at step 0 indeed", step: 0, logged: 1, at: "at step 0" },
  ])("the terminal names the step an alert was raised at: $name", async ({ step, logged, at }) => {
    server.alertsFor = () => [{ code: "lr_too_low", severity: "warning", title: "LR too low", message: "", step }];
    const run = await start({});
    for (let i = 0; i < logged; i++) run.log({ a: i });
    await run.flush();
    expect(stderr.lines(/^babysit \[/)).toEqual([`babysit [warning] lr_too_low ${at}: LR too low -> ${run.url}`]);
  });

  test("an onAlert that throws does not break delivery", async () => {
    server.alertsFor = () => [{ code: "x", severity: "info", title: "t", message: "m", step: null }];
    const run = await start({
      onAlert: () => {
        throw new Error("boom");
      },
    });
    run.log({ a: 1 });
    run.log({ a: 2 });
    expect((await run.flush()).delivered).toBe(true);
    expect(stderr.lines(/onAlert threw: boom/)).toHaveLength(1);
  });
});
