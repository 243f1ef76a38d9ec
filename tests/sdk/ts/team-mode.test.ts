// The TypeScript SDK against a real team-mode server: BABYSIT_API_KEY travels as a bearer token;
// a missing or revoked key never throws into the loop: the SDK warns once, keeps the data in its
// spool, and a valid key later delivers all of it: `npx babysit-sdk sync` in a new process (as
// tests/sdk/python/test_team_mode.py does with `python -m babysit sync`), or a run resuming it.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { init, type Run, sync } from "../../../sdk/ts/src/index";
import { ROOT } from "../../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../../helpers/team";
import { captureStderr, tmpDir, waitFor } from "./util";

let server: TeamServer;
let admin: ReturnType<typeof as>;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeAll(async () => {
  server = await startTeamServer();
  admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
});
afterAll(async () => {
  server?.db.close();
  await server?.stop();
});
beforeEach(() => {
  spoolDir = tmpDir();
  stderr = captureStderr();
});
afterEach(() => {
  stderr?.restore();
  delete process.env.BABYSIT_API_KEY;
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

async function newKey(): Promise<{ id: number; token: string }> {
  const r = await admin("POST", "/api/v1/keys", { name: "sdk-ts" });
  expect(r.status).toBe(201);
  return { id: r.body.key.id, token: r.body.token };
}
const start = (id?: string): Promise<Run> =>
  init({ project: "team-ts", id, url: server.url, spoolDir, flushIntervalMs: 30, backoffInitialMs: 20, backoffMaxMs: 200 });
async function count(runId: string): Promise<number> {
  const r = await admin("GET", `/api/v1/runs/${runId}`);
  return r.body.keys?.find((k: { key: string }) => k.key === "x")?.count ?? 0;
}

test("with a valid key everything is delivered", async () => {
  process.env.BABYSIT_API_KEY = (await newKey()).token;
  const run = await start();
  for (let i = 0; i < 20; i++) run.log({ x: i }, { step: i });
  expect((await run.finish()).delivered).toBe(true);
  expect(await count(run.id)).toBe(20);
});

/** (step, value, count) of every stored point of x: a point stored twice shows as a count of 2. */
async function points(runId: string): Promise<[number, unknown, number][]> {
  const r = await admin("GET", `/api/v1/runs/${runId}/series?key=x&points=10000`);
  expect(r.body.exact).toBe(true);
  return r.body.buckets.map((b: { step: number; last: unknown; count: number }) => [b.step, b.last, b.count]);
}
const value = (i: number) => 1 / (i + 3);
const expected = (n: number) => Array.from({ length: n }, (_, i) => [i, value(i), 1]);

/** Resumes a run in a new process with BABYSIT_API_KEY=key, as a user would after fixing the key (fixtures/replay.ts). */
function replay(runId: string, key: string): { code: number | null; stdout: string; stderr: string } {
  const out = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(import.meta.dirname, "fixtures", "replay.ts"), server.url, spoolDir, "team-ts", runId],
    {
      cwd: ROOT,
      env: { ...process.env, BABYSIT_API_KEY: key },
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** `npx babysit-sdk sync` in a new process with BABYSIT_API_KEY=key, as a user would after fixing the key. */
function syncCommand(key: string): { code: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "sdk", "ts", "src", "cli.ts"), "sync"], {
    cwd: ROOT,
    env: { ...process.env, BABYSIT_API_KEY: key, BABYSIT_URL: server.url, BABYSIT_SPOOL_DIR: spoolDir },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

test("a key revoked mid-run: the loop goes on, one warning, the data spooled, and a valid key later delivers all of it once", async () => {
  const key = await newKey();
  process.env.BABYSIT_API_KEY = key.token;
  const run = await start();
  for (let i = 0; i < 5; i++) run.log({ x: value(i) }, { step: i });
  await waitFor(async () => (await count(run.id)) === 5, "the first five points", 10_000);
  expect((await admin("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(200);
  for (let i = 5; i < 12; i++) run.log({ x: value(i) }, { step: i }); // never throws
  // refused flushes go to the spool, and the loop keeps logging meanwhile
  const spoolFile = path.join(spoolDir, `${run.id}.jsonl`);
  await waitFor(() => fs.existsSync(spoolFile), "the spool file", 10_000);
  for (let i = 12; i < 30; i++) run.log({ x: value(i) }, { step: i });
  const result = await run.finish("finished", { timeoutMs: 1500 });
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(0);
  expect(result.spoolPath).toBe(spoolFile);
  expect(stderr.lines(/refused the API key/)).toHaveLength(1);
  expect(stderr.text()).toContain("was revoked");
  // the server answered: the warning says what to do, never that it was unreachable
  expect(stderr.text()).toContain("set BABYSIT_API_KEY to a valid key, then `npx babysit-sdk sync`");
  expect(stderr.text()).not.toMatch(/unreachable|cannot reach/);
  expect(await count(run.id)).toBe(5);

  // sync with the revoked key still: nothing sent, nothing lost, one line naming the key, exit 3 (fix the key first)
  const kept = fs.readFileSync(spoolFile, "utf8");
  const refused = syncCommand(key.token);
  expect(refused.code, refused.stdout + refused.stderr).toBe(3);
  expect(refused.stdout).toMatch(/^sent 0 batch\(es\) of 1 run\(s\); [1-9]\d* batch\(es\) left\n1 run\(s\) not sent: /);
  expect((refused.stdout + refused.stderr).split("\n").filter((l) => l.includes("refused the API key"))).toHaveLength(1);
  expect(fs.readFileSync(spoolFile, "utf8")).toBe(kept);
  expect(await count(run.id)).toBe(5);

  // the data comes back with another key through the command line, in a new process
  const done = syncCommand((await newKey()).token);
  expect(done.code, done.stdout + done.stderr).toBe(0);
  expect(done.stdout).toMatch(/^sent [1-9]\d* batch\(es\) of 1 run\(s\); 0 batch\(es\) left\n$/);
  expect(fs.readdirSync(spoolDir)).toEqual([]);
  // every point once, with its value, and the run finished as finish() asked
  expect(await points(run.id)).toEqual(expected(30));
  expect((await admin("GET", `/api/v1/runs/${run.id}`)).body.run.status).toBe("finished");
  // nothing left: a second sync sends nothing and says so
  const again = syncCommand((await newKey()).token);
  expect([again.code, again.stdout]).toEqual([0, "sent 0 batch(es) of 0 run(s); 0 batch(es) left\n"]);
});

test("without a key: the loop goes on, one warning that says BABYSIT_API_KEY is needed, and a key later delivers all of it once", async () => {
  delete process.env.BABYSIT_API_KEY;
  const run = await start();
  for (let i = 0; i < 10; i++) run.log({ x: value(i) }, { step: i }); // never throws
  const result = await run.finish("finished", { timeoutMs: 1500 });
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(0);
  expect(result.spoolPath).toBe(path.join(spoolDir, `${run.id}.jsonl`));
  const warned = stderr.lines(/needs an API key/);
  expect(warned).toHaveLength(1);
  expect(warned[0]).toContain("BABYSIT_API_KEY is not set");
  expect(warned[0]).toContain("401 unauthenticated");
  expect(stderr.text()).not.toContain("refused the API key");
  const replayed = replay(run.id, (await newKey()).token);
  expect(replayed.code, replayed.stderr).toBe(0);
  expect(await points(run.id)).toEqual(expected(10));
});

test("a key that may not write the project: the run's points are counted as rejected, with the reason", async () => {
  const r = await admin("POST", "/api/v1/keys", { name: "elsewhere", projects: ["somewhere-else"] });
  process.env.BABYSIT_API_KEY = r.body.token;
  const run = await start();
  for (let i = 0; i < 4; i++) run.log({ x: i }, { step: i });
  const result = await run.finish("finished", { timeoutMs: 1500 });
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(4);
  expect(result.rejections[0].reason).toContain("403 forbidden: this API key may not write to the project");
});

// A refused key (401) is not a server that is away: nothing is taken until the key changes, so
// finish() does not wait out its timeout, and the one line names the key, never "did not acknowledge".
const refusals: [string, () => Promise<string>][] = [
  [
    "no key",
    async () => {
      delete process.env.BABYSIT_API_KEY;
      return "needs an API key";
    },
  ],
  [
    "a revoked key",
    async () => {
      const key = await newKey();
      expect((await admin("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(200);
      process.env.BABYSIT_API_KEY = key.token;
      return "refused the API key (401 unauthenticated: this API key was revoked";
    },
  ],
];

test.each(refusals)("%s: finish() returns before its timeout with one line naming the key", async (_what, refuse) => {
  const reason = await refuse();
  const run = await start();
  for (let i = 0; i < 50; i++) run.log({ x: value(i) }, { step: i });
  const started = performance.now();
  const result = await run.finish("finished", { timeoutMs: 120_000 });
  // not a timing measurement: a finish that waited for what cannot come would take 120 s
  expect(performance.now() - started).toBeLessThan(60_000);
  expect(result.delivered).toBe(false);
  expect(result.rejectedPoints).toBe(0);
  expect(result.spoolPath).toBe(path.join(spoolDir, `${run.id}.jsonl`));
  const lines = stderr.lines(/^babysit: (?!(logging|resumed) run )/);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(reason);
  expect(lines[0]).toContain(result.spoolPath);
  expect(lines[0]).toContain("BABYSIT_API_KEY");
  expect(lines[0]).not.toMatch(/unreachable|cannot reach|did not acknowledge/);
  // the finish is kept with when it ran
  const finish = fs
    .readFileSync(result.spoolPath!, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === "finish");
  expect(finish).toHaveLength(1);
  expect(finish[0].finishedAt).toBeGreaterThan(Date.now() / 1000 - 600);
});

test("a run spooled for its key shows when it trained, not when it was sent: resumed by a new process, or by python -m babysit sync or npx babysit-sdk sync", async () => {
  for (const how of ["resume", "python sync", "ts sync"] as const) {
    delete process.env.BABYSIT_API_KEY;
    const beforeInit = Date.now() / 1000;
    const run = await start();
    const afterInit = Date.now() / 1000;
    for (let i = 0; i < 3; i++) run.log({ x: value(i) }, { step: i });
    const beforeFinish = Date.now() / 1000;
    expect((await run.finish("finished", { timeoutMs: 10_000 })).delivered).toBe(false);
    const afterFinish = Date.now() / 1000;
    // the replay comes later: its clock must not become the run's start
    await waitFor(() => Date.now() / 1000 > afterFinish + 1.5, "a later replay", 10_000);
    const key = (await newKey()).token;
    if (how === "resume") {
      expect(replay(run.id, key).code).toBe(0);
    } else if (how === "ts sync") {
      const out = syncCommand(key);
      expect(out.code, out.stdout + out.stderr).toBe(0);
    } else {
      const out = spawnSync("/usr/bin/python3", ["-m", "babysit", "sync", "--url", server.url, "--spool-dir", spoolDir], {
        env: { ...process.env, BABYSIT_API_KEY: key, PYTHONPATH: path.join(ROOT, "sdk", "python") },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(out.status, out.stdout + out.stderr).toBe(0);
    }
    const got = (await admin("GET", `/api/v1/runs/${run.id}`)).body.run;
    expect(await count(run.id)).toBe(3);
    expect(got.createdAt).toBeGreaterThanOrEqual(beforeInit - 0.01);
    expect(got.createdAt).toBeLessThanOrEqual(afterInit + 0.01);
    // sync replays the spooled finish with its time; a resumed run ends when its new process finishes
    if (how !== "resume") {
      expect(got.finishedAt).toBeGreaterThanOrEqual(beforeFinish - 0.01);
      expect(got.finishedAt).toBeLessThanOrEqual(afterFinish + 0.01);
    }
  }
});

// `npx babysit-sdk sync` as `python -m babysit sync` (tests/sdk/python/test_team_mode.py): a key the
// server refuses, or none, or one that may not write the project, is fixed by the user, not by
// waiting: one line naming the key, exit 3, the spool kept as it was (a 403 drops nothing).
const syncRefusals: [string, () => Promise<[string, string]>][] = [
  ["no key", async () => ["", "needs an API key (401 unauthenticated"]],
  [
    "a revoked key",
    async () => {
      const key = await newKey();
      expect((await admin("DELETE", `/api/v1/keys/${key.id}`)).status).toBe(200);
      return [key.token, "refused the API key (401 unauthenticated: this API key was revoked"];
    },
  ],
  [
    "a key for another project",
    async () => {
      const r = await admin("POST", "/api/v1/keys", { name: "elsewhere", projects: ["somewhere-else"] });
      expect(r.status).toBe(201);
      return [r.body.token, "refused the API key (403 forbidden: this API key may not write to the project"];
    },
  ],
];
const NOT_THE_KEY = /unreachable|cannot reach|could not reach|did not answer|run sync again/;

test.each(syncRefusals)(
  "npx babysit-sdk sync with %s: one line naming the key, exit 3, the spool kept; a valid key then sends it all once with its training times",
  async (_what, refuse) => {
    delete process.env.BABYSIT_API_KEY;
    const beforeInit = Date.now() / 1000;
    const run = await start();
    const afterInit = Date.now() / 1000;
    run.log({ x: value(0) }, { step: 0 });
    const beforeFinish = Date.now() / 1000;
    const spoolFile = (await run.finish("finished", { timeoutMs: 10_000 })).spoolPath!;
    const afterFinish = Date.now() / 1000;
    const kept = fs.readFileSync(spoolFile, "utf8");
    const [key, reason] = await refuse();

    // sync() says why in `refused`, and keeps everything
    if (key) process.env.BABYSIT_API_KEY = key;
    const res = await sync({ url: server.url, spoolDir, timeoutMs: 30_000 });
    delete process.env.BABYSIT_API_KEY;
    expect(res).toMatchObject({ runs: 1, batches: 0, batchesLeft: 1, runsLeft: 1, rejectedPoints: 0, skipped: [] });
    expect(res.refused).toEqual({ message: expect.stringContaining(reason), missing: key === "" });
    expect(stderr.lines(/^babysit: (?!(logging|resumed) run )/).filter((l) => !l.includes("keeping run"))).toEqual([]);
    expect(fs.readFileSync(spoolFile, "utf8")).toBe(kept);

    const refused = syncCommand(key);
    const out = refused.stdout + refused.stderr;
    expect(refused.code, out).toBe(3);
    expect(refused.stdout.split("\n")).toEqual([
      "sent 0 batch(es) of 1 run(s); 1 batch(es) left",
      expect.stringContaining(`1 run(s) not sent: the server at ${server.url} ${reason}`),
      "",
    ]);
    expect(out).toContain(
      key ? "set BABYSIT_API_KEY to a valid key, then run `npx babysit-sdk sync`" : "set BABYSIT_API_KEY to it, then run `npx babysit-sdk sync`",
    );
    expect(refused.stderr).not.toMatch(/^babysit:/m); // the command's line is the one line
    expect(out).not.toMatch(NOT_THE_KEY);
    expect(fs.readdirSync(spoolDir)).toEqual([path.basename(spoolFile)]);
    expect(fs.readFileSync(spoolFile, "utf8")).toBe(kept);
    expect(await count(run.id)).toBe(0);

    // the sync comes later: its clock must not become the run's start or end
    await waitFor(() => Date.now() / 1000 > afterFinish + 1.5, "a later sync", 10_000);
    const done = syncCommand((await newKey()).token);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toBe("sent 1 batch(es) of 1 run(s); 0 batch(es) left\n");
    expect(fs.readdirSync(spoolDir)).toEqual([]);
    expect(await points(run.id)).toEqual(expected(1));
    const got = (await admin("GET", `/api/v1/runs/${run.id}`)).body.run;
    expect(got.status).toBe("finished");
    expect(got.createdAt).toBeGreaterThanOrEqual(beforeInit - 0.01);
    expect(got.createdAt).toBeLessThanOrEqual(afterInit + 0.01);
    expect(got.finishedAt).toBeGreaterThanOrEqual(beforeFinish - 0.01);
    expect(got.finishedAt).toBeLessThanOrEqual(afterFinish + 0.01);
  },
);
