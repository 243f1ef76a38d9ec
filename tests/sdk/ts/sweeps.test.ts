// Sweeps in the TypeScript SDK: the sampler (the cross-language vectors, statistics,
// reproducibility), argument errors, local sampling when the server is away, and, against a REAL
// server, two worker processes sharing one sweep, refine() and shouldStop().
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { api, startServer, type TestServer } from "../../helpers/server";
import { choice, init, intUniform, logUniform, sample, SweepError, sweep, sync, uniform, validateSpace } from "../../../sdk/ts/src/index";
import { defaultSeed, unit } from "../../../sdk/ts/src/sweeps";
import { startFakeServer } from "./fake-server";
import { captureStderr, freePort, tmpDir, waitFor } from "./util";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const WORKER = path.join(import.meta.dirname, "fixtures", "sweep-worker.ts");
const VECTORS: Array<{
  space: Record<string, unknown>;
  seed: number;
  index: number;
  units: Record<string, number>;
  config: Record<string, unknown>;
}> = JSON.parse(fs.readFileSync(path.join(ROOT, "tests/fixtures/sweeps/sampler-vectors.json"), "utf8")).cases;

describe("the sampler", () => {
  test.each(VECTORS.map((c, i) => [i, c] as const))("vector %i: the same config, bit for bit", (_i, c) => {
    const got = sample(c.space, c.seed, c.index);
    expect(Object.keys(got)).toEqual(Object.keys(c.config));
    for (const [k, v] of Object.entries(c.config)) expect(Object.is(got[k], v)).toBe(true);
    for (const [k, u] of Object.entries(c.units)) expect(unit(c.seed, c.index, k)).toBe(u);
  });

  test("the same seed and index give the same trial; other seeds other trials", () => {
    const space = { lr: logUniform(1e-5, 1), wd: uniform(0, 1) };
    const a = Array.from({ length: 20 }, (_, i) => ({ ...sample(space, 42, i) }));
    expect(Array.from({ length: 20 }, (_, i) => ({ ...sample(space, 42, i) }))).toEqual(a);
    const b = Array.from({ length: 20 }, (_, i) => ({ ...sample(space, 43, i) }));
    for (let i = 0; i < 20; i++) expect(b[i]).not.toEqual(a[i]);
    expect(new Set(a.map((t) => t.lr)).size).toBe(20);
  });

  const N = 4000;
  test("log-uniform is uniform in log space: each decade gets a quarter (KS distance under the 5% value)", () => {
    const draws = Array.from({ length: N }, (_, i) => sample({ lr: logUniform(1e-4, 1) }, 11, i).lr as number);
    expect(draws.every((v) => v >= 1e-4 && v <= 1)).toBe(true);
    for (let d = 0; d < 4; d++) {
      const share = draws.filter((v) => v >= 10 ** (d - 4) && v < 10 ** (d - 3)).length / N;
      expect(Math.abs(share - 0.25)).toBeLessThan(0.03);
    }
    const logs = draws.map((v) => Math.log10(v)).sort((x, y) => x - y);
    const ks = Math.max(...logs.map((x, i) => Math.max(Math.abs((i + 1) / N - (x + 4) / 4), Math.abs(i / N - (x + 4) / 4))));
    expect(ks).toBeLessThan(1.36 / Math.sqrt(N));
  });

  test("uniform, intUniform and choice spread evenly; fixed values stay as given", () => {
    const space = { p: uniform(-1, 3), n: intUniform(2, 5), c: choice(["a", "b", "c"]), fixed: "relu" };
    const draws = Array.from({ length: N }, (_, i) => sample(space, 5, i));
    expect(Math.abs(draws.reduce((s, d) => s + (d.p as number), 0) / N - 1)).toBeLessThan(0.06);
    for (const v of [2, 3, 4, 5]) expect(Math.abs(draws.filter((d) => d.n === v).length / N - 0.25)).toBeLessThan(0.03);
    for (const v of ["a", "b", "c"]) expect(Math.abs(draws.filter((d) => d.c === v).length / N - 1 / 3)).toBeLessThan(0.03);
    expect(draws.every((d) => Number.isInteger(d.n) && d.fixed === "relu")).toBe(true);
  });
});

describe("argument errors", () => {
  test.each([
    [() => logUniform(0, 1), /low must be > 0/],
    [() => logUniform(1e-2, 1e-3), /high must be > low/],
    [() => logUniform(1e-320, 1), /within \[1e-300, 1e\+300\]/],
    [() => logUniform(1e-3, Infinity), /must be finite/],
    [() => logUniform("1e-3" as unknown as number, 1), /must be a number/],
    [() => uniform(1, 0), /high must be > low/],
    [() => uniform(Number.NaN, 1), /must be finite/],
    [() => uniform(-1e308, 1e308), /too wide/],
    [() => intUniform(1, 1), /high must be > low/],
    [() => intUniform(1.5, 3), /must be an integer/],
    [() => choice([]), /at least one value/],
    [() => choice("relu" as unknown as string[]), /takes an array/],
    [() => choice([[1, 2]] as unknown as number[]), /values\[0\] must be a number, string, boolean or null/],
    [() => choice([1, Number.NaN]), /values\[1\] must be finite/],
    [() => choice(Array.from({ length: 1001 }, (_, i) => i)), /at most 1000 values/],
    [() => validateSpace([]), /space must be an object/],
    [() => validateSpace({}), /at least one parameter/],
    [() => validateSpace({ sweep: 1 }), /"sweep" is reserved/],
    [() => validateSpace({ babysit: 1 }), /"babysit" is reserved/],
    [() => validateSpace({ "a\nb": 1 }), /control characters/],
    [() => validateSpace({ ["x".repeat(201)]: 1 }), /a parameter name longer than 200 code points/],
    [() => validateSpace(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, 1]))), /at most 100 parameters/],
    [() => validateSpace({ lr: [1e-3, 1e-2] }), /use choice\(\[\.\.\.\]\)/],
    [() => validateSpace({ lr: { distribution: "loguniform", low: 1, high: 2 } }), /distribution must be one of/],
    [() => validateSpace({ lr: { distribution: "uniform", low: 1 } }), /takes low and high/],
    [() => validateSpace({ lr: { distribution: "log_uniform", low: 0, high: 1 } }), /space\["lr"\]: logUniform low must be > 0/],
    [() => sample({ a: 1 }, -1, 0), /seed must be an integer/],
    [() => sample({ a: 1 }, 2 ** 32, 0), /seed must be an integer/],
    [() => sample({ a: 1 }, 0, -1), /index must be an integer/],
  ])("%#: %s", (make, message) => {
    expect(make).toThrow(message);
  });

  const space = { lr: logUniform(1e-4, 1e-1) };
  test.each([
    [{ project: "", name: "s", space }, /the project name is empty/],
    [{ project: "p", name: "  ", space }, /the sweep name is empty/],
    [{ project: "p", name: "x".repeat(201), space }, /the sweep name longer than 200 code points/],
    [{ project: "p", name: "s", space: {} }, /at least one parameter/],
    [{ project: "p", name: "s", space, objective: "val/acc", goal: "up" }, /goal must be "max" or "min"/],
    [{ project: "p", name: "s", space, goal: "max" }, /needs the objective metric/],
    [{ project: "p", name: "s", space, seed: 2 ** 32 }, /seed must be an integer/],
    [{ project: "p", name: "s", space, budget: 0 }, /budget must be an integer >= 1/],
    [{ project: "p", name: "s", space, earlyStop: { rule: "hyperband" } }, /rule must be "median" or "none"/],
    [{ project: "p", name: "s", space, earlyStop: { minTrials: 0 } }, /minTrials must be an integer >= 1/],
    [{ project: "p", name: "s", space, earlyStop: { patience: 3 } }, /takes rule, minTrials and warmupSteps/],
    [{ project: "p", name: "s", space, url: "localhost:3000" }, /url must look like/],
    [{ project: "p", name: "s", space, parent: "" }, /parent must be a sweep id/],
    [{ project: "p", name: "s", space, parent: "   " }, /parent must be a sweep id/],
    [{ project: "p", name: "s", space, parent: 7 }, /parent must be a sweep id/],
    [{ project: "p", name: "s", space, parent: { id: "x" } }, /parent must be a sweep id/],
  ])("sweep(%j) rejects before sending anything", async (opts, message) => {
    await expect(sweep(opts as never)).rejects.toThrow(message);
  });
});

describe("with the server away", () => {
  test("the sweep samples locally, and its runs carry config.sweep (with the space) to join it later", async () => {
    const stderr = captureStderr();
    const spoolDir = tmpDir();
    try {
      const url = `http://127.0.0.1:${await freePort()}`;
      const space = { lr: logUniform(1e-4, 1e-1), act: choice(["relu", "tanh"]), epochs: 2 };
      const s = await sweep({ project: "offline", name: "coarse", space, budget: 3, url, timeoutMs: 300 });
      expect([s.offline, s.id, s.url]).toEqual([true, null, null]);
      expect(stderr.text()).toContain("could not be reached");
      expect(() => s.trials(-1)).toThrow(/n must be an integer >= 0/);
      const seen: number[] = [];
      for await (const trial of s.trials()) {
        expect(trial.local).toBe(true);
        expect({ ...trial.config }).toEqual({ ...sample(space, defaultSeed("offline", "coarse"), trial.index) });
        const run = await trial.init({ config: { batch: 32 }, spoolDir, initTimeoutMs: 50, finishTimeoutMs: 100 });
        expect(run.name).toBe(`coarse-${trial.index}`);
        run.log({ "val/acc": 0.5 });
        const result = await run.finish();
        expect(result.pendingBatches).toBeGreaterThanOrEqual(1); // kept for sync, not dropped
        const spool = fs.readFileSync(result.spoolPath!, "utf8");
        const header = JSON.parse(spool.split("\n")[0]!);
        expect(JSON.stringify(header)).toContain(JSON.stringify({ id: "coarse", trial: trial.index, space: { ...s.space } }));
        seen.push(trial.index);
      }
      expect(seen).toEqual([0, 1, 2]);
      expect(await s.refine()).toBeNull();
      expect(stderr.text()).toContain("refine() needs the server");
      const run = await init({ project: "p", url, spoolDir, initTimeoutMs: 50, finishTimeoutMs: 100, quiet: true });
      for (let i = 0; i < 3; i++) expect(await run.shouldStop()).toBe(false);
      await run.finish();
    } finally {
      stderr.restore();
      fs.rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});

test("shouldStop() asks the server at most once a second", async () => {
  const fake = await startFakeServer();
  const spoolDir = tmpDir();
  try {
    const run = await init({ project: "p", url: fake.url, spoolDir, quiet: true });
    const start = Date.now();
    let calls = 0;
    while (Date.now() - start < 1500) {
      expect(await run.shouldStop({ waitMs: 0 })).toBe(false); // the fake server has no such route: 404, not stopped
      calls++;
      await new Promise((r) => setImmediate(r));
    }
    const elapsed = (Date.now() - start) / 1000;
    const asked = fake.requests.filter((r) => r.path.endsWith("/should-stop"));
    expect(calls).toBeGreaterThan(100);
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked.length).toBeLessThanOrEqual(Math.floor(elapsed) + 1);
    expect(asked[0]!.path).toBe(`/api/v1/runs/${run.id}/should-stop`);
    await run.finish();
  } finally {
    await fake.stop();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  }
});

describe("against a real server", () => {
  let server: TestServer;
  let spoolDir: string;
  beforeAll(async () => {
    server = await startServer();
    spoolDir = tmpDir();
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(spoolDir, { recursive: true, force: true });
  });

  function worker(project: string, name: string, budget: number) {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER, server.url, project, name, String(budget), spoolDir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    return new Promise<{ indices: number[]; runs: string[]; sweep: string; offline: boolean }>((resolve, reject) =>
      child.once("exit", (code) =>
        code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop()!)) : reject(new Error(`worker exited ${code}: ${err}`)),
      ),
    );
  }

  test("two worker processes share one sweep: disjoint trials, all their runs in the sweep; refine makes the next stage", async () => {
    const project = `sdk-ts-sweep-${Date.now().toString(36)}`;
    const budget = 8;
    const [a, b] = await Promise.all([worker(project, "coarse", budget), worker(project, "coarse", budget)]);
    expect(a!.offline || b!.offline).toBe(false);
    expect(a!.sweep).toBe(b!.sweep);
    expect(a!.indices.filter((i) => b!.indices.includes(i))).toEqual([]);
    expect([...a!.indices, ...b!.indices].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const view = (await api(server.url, "GET", `/api/v1/sweeps/${a!.sweep}`)).body.sweep;
    expect(view.trials.map((t: { runId: string }) => t.runId).sort()).toEqual([...a!.runs, ...b!.runs].sort());
    const space = { lr: logUniform(1e-4, 1), hidden: choice([32, 64]), epochs: 3 };
    for (const t of view.trials) expect(t.params).toEqual({ ...sample(space, 1234, t.index) });

    const s = await sweep({ project, name: "coarse", space, objective: "val/acc", goal: "max", seed: 1234, budget, url: server.url, quiet: true });
    expect(s.id).toBe(a!.sweep);
    const more = [];
    for await (const t of s.trials(3)) more.push(t);
    expect(more).toEqual([]); // the budget is used up: 409 sweep_complete ends the loop
    const fine = await s.refine({ top: 3 });
    expect(fine).not.toBeNull();
    expect([fine!.name, fine!.stage, fine!.parentId]).toEqual(["coarse-s2", 2, s.id]);
    const lr = fine!.space.lr as { distribution: string; low: number; high: number };
    expect(lr.distribution).toBe("log_uniform");
    expect(Math.log(lr.high / lr.low)).toBeLessThan(Math.log(1 / 1e-4));
    for await (const t of fine!.trials(1)) {
      expect(t.config.lr as number).toBeGreaterThanOrEqual(lr.low);
      expect(t.config.lr as number).toBeLessThanOrEqual(lr.high);
    }
  }, 120_000);

  test("trials run while the server was away join the sweep when they sync", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const project = `sdk-ts-later-${Date.now().toString(36)}`;
    const space = { lr: logUniform(1e-4, 1e-1), layers: intUniform(1, 3) };
    const dir = tmpDir();
    const stderr = captureStderr();
    let later: TestServer | null = null;
    try {
      const s = await sweep({ project, name: "s", space, url, timeoutMs: 200, quiet: true });
      expect(s.offline).toBe(true);
      const ids: string[] = [];
      for await (const trial of s.trials(2)) {
        const run = await trial.init({ spoolDir: dir, quiet: true, initTimeoutMs: 50, finishTimeoutMs: 100 });
        run.log({ "val/acc": 0.5 + trial.index / 10 }, { step: 0 });
        expect((await run.finish()).pendingBatches).toBeGreaterThanOrEqual(1);
        ids.push(run.id);
      }
      later = await startServer({ port });
      const result = await sync({ url, spoolDir: dir, timeoutMs: 60_000 });
      expect([result.runs, result.runsLeft, result.rejectedPoints]).toEqual([2, 0, 0]);
      const listed = (await api(url, "GET", `/api/v1/sweeps?project=${project}`)).body.sweeps;
      expect(listed.map((x: { name: string; trials: number }) => [x.name, x.trials])).toEqual([["s", 2]]);
      const view = (await api(url, "GET", `/api/v1/sweeps/${listed[0].id}`)).body.sweep;
      expect(view.space).toEqual({ ...space });
      for (const t of view.trials) {
        expect(ids[t.index]).toBe(t.runId);
        expect(t.params).toEqual({ ...sample(space, defaultSeed(project, "s"), t.index) });
      }
      const again = await sweep({ project, name: "s", space, url, quiet: true });
      expect([again.offline, again.id]).toEqual([false, listed[0].id]);
    } finally {
      stderr.restore();
      await later?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ["an id", false],
    ["a Sweep", true],
  ])("a sweep made with parent (%s) is the next stage, linked to it (the sweep page's snippet)", async (_what, asObject) => {
    const project = `sdk-ts-parent-${Date.now().toString(36)}-${asObject ? "o" : "i"}`;
    const coarse = await sweep({ project, name: "coarse", space: { lr: logUniform(1e-4, 1e-1) }, url: server.url, quiet: true });
    const fineSpace = { lr: logUniform(1e-3, 1e-2) };
    const fine = await sweep({ project, name: "fine", space: fineSpace, url: server.url, quiet: true, parent: asObject ? coarse : coarse.id! });
    expect([fine.stage, fine.parentId]).toEqual([2, coarse.id]);
    const view = await api(server.url, "GET", `/api/v1/sweeps/${fine.id}`);
    expect([view.body.sweep.parentId, view.body.sweep.stage]).toEqual([coarse.id, 2]);
    const parentView = await api(server.url, "GET", `/api/v1/sweeps/${coarse.id}`);
    expect(parentView.body.sweep.children).toEqual([{ id: fine.id, name: "fine", stage: 2 }]);
    // every worker of the next stage passes the same parent: the same sweep again
    const again = await sweep({ project, name: "fine", space: fineSpace, url: server.url, quiet: true, parent: coarse.id! });
    expect([again.id, again.stage]).toEqual([fine.id, 2]);
  });

  test.each(["unknown", "other-project"])("a parent that is no sweep of the project (%s) is a SweepError 400 invalid_body", async (where) => {
    const project = `sdk-ts-badparent-${Date.now().toString(36)}-${where}`;
    const other = await sweep({ project: `${project}-other`, name: "coarse", space: { lr: logUniform(1e-4, 1e-1) }, url: server.url, quiet: true });
    const parent = where === "unknown" ? "no-such-sweep" : other.id!;
    const err = await sweep({ project, name: "fine", space: { lr: logUniform(1e-4, 1e-1) }, url: server.url, quiet: true, parent }).catch((e) => e);
    expect(err).toBeInstanceOf(SweepError);
    expect([err.status, err.code]).toEqual([400, "invalid_body"]);
    expect(err.message).toMatch(/parent/);
    expect((await api(server.url, "GET", `/api/v1/sweeps?project=${encodeURIComponent(project)}`)).body.sweeps).toEqual([]);
  });

  test("the same name with another space is a SweepError 409 sweep_conflict", async () => {
    const project = `sdk-ts-conflict-${Date.now().toString(36)}`;
    await sweep({ project, name: "s", space: { lr: logUniform(1e-4, 1e-1) }, url: server.url, quiet: true });
    const err = await sweep({ project, name: "s", space: { lr: logUniform(1e-3, 1) }, url: server.url, quiet: true }).catch((e) => e);
    expect(err).toBeInstanceOf(SweepError);
    expect([err.status, err.code]).toEqual([409, "sweep_conflict"]);
  });

  test("shouldStop() says true for a diverging trial, false for a run in no sweep", async () => {
    const s = await sweep({
      project: `sdk-ts-stop-${Date.now().toString(36)}`,
      name: "s",
      space: { lr: logUniform(1e-4, 1e-1) },
      objective: "val/loss",
      url: server.url,
      quiet: true,
    });
    const plain = await init({ project: "sdk-ts-plain", url: server.url, spoolDir, quiet: true, flushIntervalMs: 20 });
    const ids: string[] = [];
    for await (const t of s.trials(1)) {
      // inside the loop body: the loop finishes a trial's run when it asks for the next trial
      const run = await t.init({ spoolDir, quiet: true, flushIntervalMs: 20 });
      [2.3, 5, 40, Infinity, Number.NaN].forEach((loss, step) => {
        run.log({ "train/loss": loss, "val/loss": loss }, { step });
        plain.log({ "train/loss": loss }, { step });
      });
      await waitFor(() => run.shouldStop(), "shouldStop() to say the trial diverged", 30_000);
      expect(run.stopReason).toMatch(/^diverged/);
      ids.push(run.id);
    }
    expect(ids.length).toBe(1);
    // the loop finished the trial's run when it was left
    expect((await api(server.url, "GET", `/api/v1/runs/${ids[0]}`)).body.run.status).toBe("finished");
    expect(await plain.shouldStop({ waitMs: 5000 })).toBe(false);
    await plain.finish();
  }, 60_000);
});
