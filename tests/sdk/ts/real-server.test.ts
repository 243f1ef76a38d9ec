// The TypeScript SDK against a real babysit server on a fresh SQLite file: what is logged is what
// is read back, through outages (server stopped, server SIGKILLed) with nothing lost and nothing
// stored twice.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";

import { api, startServer, type TestServer } from "../../helpers/server";
import { init, type Alert, type InitOptions, type Run } from "../../../sdk/ts/src/index";
import { captureStderr, pendingInSpool, tmpDir, waitFor } from "./util";

let server: TestServer;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeEach(async () => {
  server = await startServer();
  spoolDir = tmpDir();
  stderr = captureStderr();
});

afterEach(async () => {
  stderr?.restore();
  await server?.stop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

function start(opts: Partial<InitOptions> = {}): Promise<Run> {
  return init({
    project: "sdk-ts",
    url: server.url,
    spoolDir,
    flushIntervalMs: 50,
    backoffInitialMs: 20,
    backoffMaxMs: 300,
    ...opts,
  });
}

type Wire = number | "NaN" | "Infinity" | "-Infinity";
const wire = (v: number): Wire => (Number.isNaN(v) ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : v);

/** The stored series of `key` as [step, value] pairs, exact (fails if the server summarised it). */
async function readSeries(runId: string, key: string): Promise<Array<[number, Wire]>> {
  const r = await api(server.url, "GET", `/api/v1/runs/${runId}/series?key=${encodeURIComponent(key)}&points=10000`);
  expect(r.status).toBe(200);
  expect(r.body.exact).toBe(true);
  return r.body.buckets.map((b: { step: number; last: Wire }) => [b.step, b.last]);
}

/** What a training loop looks like to the SDK: values logged step by step, yielding now and then. */
async function logSteps(run: Run, from: number, to: number, value: (key: string, step: number) => number, keys: string[]) {
  for (let step = from; step < to; step++) {
    run.log(Object.fromEntries(keys.map((k) => [k, value(k, step)])), { step });
    if (step % 50 === 49) await new Promise((r) => setTimeout(r, 2)); // a few ms of "compute"
  }
}

const KEYS = ["train/loss", "val/acc", "lr", "grad/fc1/std"];
// biome-ignore lint/suspicious/noShadowRestrictedNames: a module-level function, never called as a method
function valueOf(key: string, step: number): number {
  if (key === "train/loss") {
    if (step % 97 === 13) return NaN;
    if (step % 211 === 7) return Infinity;
    if (step % 389 === 5) return -Infinity;
    return Math.LN10 / Math.sqrt(step + 1) + (step % 7) * 1e-12;
  }
  if (key === "val/acc") return step / 3;
  if (key === "lr") return 0.1 * 0.5 ** Math.floor(step / 500);
  return Math.PI * 1e-7 * (step + 1);
}
const expected = (key: string, from: number, to: number): Array<[number, Wire]> =>
  Array.from({ length: to - from }, (_, i) => [from + i, wire(valueOf(key, from + i))]);

describe("TypeScript SDK against the real server", () => {
  test("5,000 points of several keys, NaN and ±Infinity included, read back exactly", async () => {
    const run = await start({ config: { lr: 0.1, layers: [784, 128, 10] } });
    await logSteps(run, 0, 1250, valueOf, KEYS);
    const result = await run.finish();
    expect(result).toEqual({ delivered: true, pendingBatches: 0, spoolPath: null, rejectedPoints: 0, rejections: [] });

    for (const key of KEYS) expect(await readSeries(run.id, key)).toEqual(expected(key, 0, 1250));
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    expect(got.body.run).toMatchObject({ project: "sdk-ts", status: "finished", config: { lr: 0.1, layers: [784, 128, 10] } });
    const loss = got.body.keys.find((k: { key: string }) => k.key === "train/loss");
    expect(loss.count).toBe(1250);
    expect(loss.nonFinite).toBe(expected("train/loss", 0, 1250).filter(([, v]) => typeof v === "string").length);
    expect(run.url).toBe(`${server.url}/runs/${run.id}`);
  });

  test("histograms and events arrive with their steps", async () => {
    const run = await start();
    run.log({ "train/loss": 1 }, { step: 3 });
    run.logHistogram(
      "act/fc1",
      Array.from({ length: 500 }, (_, i) => Math.sin(i)),
    );
    run.event("input_stats", { mean: [0.1307], std: [0.3081] }, 0);
    expect((await run.finish()).delivered).toBe(true);
    const h = await api(server.url, "GET", `/api/v1/runs/${run.id}/histograms?key=act/fc1`);
    expect(h.body.histograms).toHaveLength(1);
    expect(h.body.histograms[0].step).toBe(3);
    expect(h.body.histograms[0].counts).toHaveLength(30);
    expect(h.body.histograms[0].counts.reduce((a: number, b: number) => a + b, 0)).toBe(500);
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    expect(got.body.events).toContainEqual(expect.objectContaining({ type: "input_stats", step: 0, data: { mean: [0.1307], std: [0.3081] } }));
  });

  test("server stopped while logging, then restarted on the same port and db: nothing lost, no duplicates", async () => {
    const run = await start({ maxBatchPoints: 200 });
    const spool = path.join(spoolDir, `${run.id}.jsonl`);
    await logSteps(run, 0, 1000, valueOf, KEYS);
    await server.stop();
    await logSteps(run, 1000, 3000, valueOf, KEYS);
    await waitFor(() => pendingInSpool(spool).length > 0, "batches spooled while the server is down");
    expect(stderr.lines(/cannot reach/)).toHaveLength(1);

    server = await startServer({ port: server.port, dbPath: server.dbPath });
    await logSteps(run, 3000, 4000, valueOf, KEYS);
    expect((await run.finish()).delivered).toBe(true);
    expect(fs.existsSync(spool)).toBe(false);

    for (const key of KEYS) expect(await readSeries(run.id, key)).toEqual(expected(key, 0, 4000));
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    for (const k of got.body.keys.filter((k: { key: string }) => KEYS.includes(k.key))) expect(k.count).toBe(4000);
    expect(got.body.run.status).toBe("finished");
  });

  test("server SIGKILLed mid-run: acknowledged batches survive; after restart and replay all points are there once", async () => {
    const run = await start({ maxBatchPoints: 200 });
    await logSteps(run, 0, 2000, valueOf, KEYS);
    expect((await run.flush()).delivered).toBe(true); // steps 0..1999 acknowledged
    const logging = logSteps(run, 2000, 2500, valueOf, KEYS); // requests in flight when the server dies
    await server.kill();
    await logging;
    await logSteps(run, 2500, 3000, valueOf, KEYS);

    server = await startServer({ port: server.port, dbPath: server.dbPath });
    // Acknowledged batches are never sent again, so these come from the server's own storage.
    const acked = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=lr&points=10000&from=0&to=1999`);
    expect(acked.body.buckets).toHaveLength(2000);

    await logSteps(run, 3000, 3500, valueOf, KEYS);
    expect((await run.finish()).delivered).toBe(true);
    for (const key of KEYS) expect(await readSeries(run.id, key)).toEqual(expected(key, 0, 3500));
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    for (const k of got.body.keys.filter((k: { key: string }) => KEYS.includes(k.key))) expect(k.count).toBe(3500);
  });

  test("a run whose process gave up on a dead server is completed by the next init with the same id", async () => {
    const port = server.port;
    const dbPath = server.dbPath;
    await server.stop();
    const run = await start();
    await logSteps(run, 0, 300, valueOf, KEYS);
    const first = await run.finish("finished", { timeoutMs: 300 });
    expect(first.delivered).toBe(false);
    expect(first.spoolPath).not.toBeNull();

    server = await startServer({ port, dbPath });
    const resumed = await start({ id: run.id });
    await logSteps(resumed, 300, 400, valueOf, KEYS);
    expect((await resumed.finish()).delivered).toBe(true);
    for (const key of KEYS) expect(await readSeries(run.id, key)).toEqual(expected(key, 0, 400));
    expect(fs.existsSync(first.spoolPath!)).toBe(false);
  });

  test("a diverging loss raises an alert that is printed once and passed to onAlert", async () => {
    const alerts: Alert[] = [];
    const run = await start({ onAlert: (a) => alerts.push(a) });
    for (let step = 0; step < 200; step++) run.log({ "train/loss": step < 100 ? 2 / (step + 1) : NaN }, { step });
    let step = 200;
    await waitFor(
      async () => {
        run.log({ "train/loss": NaN }, { step: step++ }); // later batches carry alerts raised by earlier ones
        await run.flush();
        return alerts.some((a) => a.code === "divergence");
      },
      "a divergence alert",
      20_000,
    );
    await run.finish();
    const printed = stderr.lines(/^babysit \[\w+\] divergence/);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(new RegExp(`^babysit \\[critical\\] divergence at step \\d+( \\(evidence from step \\d+\\))?: .+ -> ${run.url}$`));
  });

  test("finish() prints the server's checklist line, the same as the checklist API's summary", async () => {
    const run = await start({ config: { num_classes: 10 } });
    for (let step = 0; step < 60; step++) run.log({ "train/loss": 2.3 * Math.exp(-step / 30) * (1 + 0.02 * Math.sin(step)) }, { step });
    expect((await run.finish()).delivered).toBe(true);
    const { body } = await api(server.url, "GET", `/api/v1/runs/${run.id}/checklist`);
    expect(body.summary.text).toBe("2 passed, 0 raised, 8 not checkable"); // the initial loss and the loss's shape
    expect(stderr.lines(/^babysit: checklist /)).toEqual([`babysit: checklist ${body.summary.text} -> ${run.url}`]);
  });

  // The next three need the contract-server side of issue #8: keys counted in code points, and
  // `lastStep` in the resume answer.
  test.each([
    [150, true],
    [201, false],
  ])("the issue's example: train/loss and %i rockets for 5 steps (stored: %s)", async (n, stored) => {
    const run = await start();
    const rocket = "🚀".repeat(n);
    for (let step = 0; step < 5; step++) run.log({ "train/loss": 1 / (step + 1), [rocket]: 2.0 });
    const result = await run.finish();
    expect(result.delivered).toBe(stored);
    expect(result.rejectedPoints).toBe(stored ? 0 : 5);
    expect((await readSeries(run.id, "train/loss")).map(([s]) => s)).toEqual([0, 1, 2, 3, 4]);
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    const keys = got.body.keys.map((k: { key: string }) => k.key).sort();
    expect(keys).toEqual(stored ? [rocket, "train/loss"].sort() : ["train/loss"]);
    if (stored)
      expect(await readSeries(run.id, rocket)).toEqual([
        [0, 2],
        [1, 2],
        [2, 2],
        [3, 2],
        [4, 2],
      ]);
  });

  test("a resumed run continues after its last stored step instead of overwriting the curve", async () => {
    const first = await start();
    for (let i = 0; i < 20; i++) first.log({ "train/loss": 2 / (i + 1) });
    expect((await first.finish()).delivered).toBe(true);

    const resumed = await start({ id: first.id });
    for (let i = 0; i < 10; i++) resumed.log({ "train/loss": 0.05 });
    expect((await resumed.finish()).delivered).toBe(true);

    const loss = await readSeries(first.id, "train/loss");
    expect(loss.map(([s]) => s)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(loss.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => [i, 2 / (i + 1)]));
    expect(stderr.lines(/divergence/)).toEqual([]);
  });

  test.each([
    ["comes back while the resumed run logs", false],
    ["never answers it; a later init replays the spool", true],
  ])("server down at resume, then %s: the 20 new steps land after the run's last step", async (_label, never) => {
    const first = await start();
    for (let i = 0; i < 20; i++) first.log({ "train/loss": 2 / (i + 1) });
    expect((await first.finish()).delivered).toBe(true);
    const { port, dbPath } = server;
    await server.stop();

    const resumed = await start({ id: first.id, initTimeoutMs: 100 });
    for (let i = 0; i < 20; i++) resumed.log({ "train/loss": 0.05 });
    if (never) {
      expect((await resumed.finish("finished", { timeoutMs: 200 })).spoolPath).not.toBeNull();
      server = await startServer({ port, dbPath });
      const later = await start({ id: first.id });
      later.log({ "train/loss": 0.01 });
      expect((await later.finish()).delivered).toBe(true);
    } else {
      server = await startServer({ port, dbPath });
      expect((await resumed.finish()).delivered).toBe(true);
    }

    const loss = await readSeries(first.id, "train/loss");
    const last = never ? [[40, 0.01]] : [];
    expect(loss).toEqual([
      ...Array.from({ length: 20 }, (_, i) => [i, 2 / (i + 1)]),
      ...Array.from({ length: 20 }, (_, i) => [20 + i, 0.05]),
      ...last,
    ]);
  });

  test("unnamed runs get distinct readable names, which the run handle reports", async () => {
    const runs = [await start(), await start(), await start()];
    const names = runs.map((r) => r.name);
    for (const name of names) expect(name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    expect(new Set(names).size).toBe(3);
    for (const r of runs) {
      expect((await api(server.url, "GET", `/api/v1/runs/${r.id}`)).body.run.name).toBe(r.name);
      expect((await r.finish()).delivered).toBe(true);
    }
  });

  test.each([["elsewhere"], ["sdk-ts-2"]])("resuming with project %j warns once and the run stays in its own project", async (other) => {
    const first = await start({ name: "home" });
    expect((await first.finish()).delivered).toBe(true);
    const resumed = await start({ id: first.id, project: other });
    resumed.log({ x: 1 });
    expect((await resumed.finish()).delivered).toBe(true);
    expect([resumed.project, resumed.name]).toEqual(["sdk-ts", "home"]);
    expect(stderr.lines(/belongs to project/)).toEqual([
      `babysit: run ${first.id} belongs to project "sdk-ts", not "${other}" as given to init(); it stays in "sdk-ts"`,
    ]);
    expect((await api(server.url, "GET", `/api/v1/runs/${first.id}`)).body.run.project).toBe("sdk-ts");
  });

  test("keys the contract refuses never reach the server; the rest of each row is stored", async () => {
    const run = await start();
    for (let step = 0; step < 3; step++) {
      run.log({ "train/loss": step, "\ud800": 1, "a\u0000b": 2, ["字".repeat(201)]: 3, ["字".repeat(200)]: 4 });
    }
    const result = await run.finish();
    expect(result.rejectedPoints).toBe(9);
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    expect(got.body.keys.map((k: { key: string }) => k.key).sort()).toEqual(["train/loss", "字".repeat(200)].sort());
    for (const k of got.body.keys) expect(k.count).toBe(3);
  });

  test("a config of nested class instances, Maps and Dates is stored as JSON objects", async () => {
    class Model {
      num_classes = 10;
      layers = new Map([["fc1", { in: 64, out: 128 }]]);
    }
    const cyclic: Record<string, unknown> = { seed: 1 };
    cyclic.self = cyclic;
    const run = await start({ config: { model: new Model(), started: new Date(0), tags: new Set(["a"]), cyclic } });
    expect((await run.finish()).delivered).toBe(true);
    const got = await api(server.url, "GET", `/api/v1/runs/${run.id}`);
    expect(got.body.run.config).toEqual({
      model: { num_classes: 10, layers: { fc1: { in: 64, out: 128 } } },
      started: "1970-01-01T00:00:00.000Z",
      tags: ["a"],
      cyclic: { seed: 1, self: "[babysit: circular reference]" },
    });
  });
});
