// sync() and `npx babysit-sdk sync` against a real local-mode server: what runs left in the spool
// while the server was away is sent once a server is back, without starting (or renaming) a run:
// every point once with its value, a run finished only when its spool says so, the spool gone, and
// the same lines and exit codes as `python -m babysit sync` (tests/sdk/python/test_sync.py).
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { ROOT, api, freePort, startServer, type TestServer } from "../../helpers/server";
import { init, sync } from "../../../sdk/ts/src/index";
import { captureStderr, tmpDir, waitFor } from "./util";

let server: TestServer | null = null;
let spoolDir: string;
let stderr: ReturnType<typeof captureStderr>;

beforeEach(() => {
  spoolDir = tmpDir();
  stderr = captureStderr();
});
afterEach(async () => {
  stderr?.restore();
  await server?.stop();
  server = null;
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

function syncCommand(url: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const out = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "sdk", "ts", "src", "cli.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, BABYSIT_URL: url, BABYSIT_SPOOL_DIR: spoolDir, BABYSIT_API_KEY: "" },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

type Wire = number | "NaN" | "Infinity" | "-Infinity";
/** (step, value, count) of every stored point of `key`: a point stored twice shows as a count of 2. */
async function points(url: string, runId: string, key = "x"): Promise<[number, Wire, number][]> {
  const r = await api(url, "GET", `/api/v1/runs/${runId}/series?key=${key}&points=10000`);
  expect(r.status).toBe(200);
  expect(r.body.exact).toBe(true);
  return r.body.buckets.map((b: { step: number; last: Wire; count: number }) => [b.step, b.last, b.count]);
}
const value = (i: number): Wire => (i === 7 ? "NaN" : 1 / (i + 3));

/** A spool file as the SDKs write it: header, then batches, acks and a finish record. */
function writeSpool(name: string, header: Record<string, unknown>, records: Array<Record<string, unknown>>): string {
  const file = path.join(spoolDir, name);
  fs.writeFileSync(file, [{ kind: "run", ...header }, ...records].map((r) => `${JSON.stringify(r)}\n`).join(""));
  return file;
}
const rows = (from: number, to: number, tentative = false) =>
  Array.from({ length: to - from }, (_, k) => ({ ...(tentative ? { unresolvedAfter: -1 } : {}), step: from + k, metrics: { x: value(from + k) } }));

test("offline, then online: the command sends everything once, finishes the run as finish() asked and removes the spool", async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = await init({ project: "sync-ts", name: "offline-run", config: { lr: 0.1 }, url, spoolDir, initTimeoutMs: 100, backoffInitialMs: 20 });
  for (let i = 0; i < 40; i++) run.log({ x: Number(value(i)) }, { step: i });
  const result = await run.finish("finished", { timeoutMs: 300 });
  expect(result.delivered).toBe(false);
  expect(result.spoolPath).toBe(path.join(spoolDir, `${run.id}.jsonl`));
  expect(stderr.text()).toContain("`npx babysit-sdk sync`");

  server = await startServer({ port });
  const done = syncCommand(url, "sync");
  expect(done.code, done.stdout + done.stderr).toBe(0);
  expect(done.stdout).toMatch(/^sent [1-9]\d* batch\(es\) of 1 run\(s\); 0 batch\(es\) left\n$/);
  expect(fs.readdirSync(spoolDir)).toEqual([]);
  expect(await points(url, run.id)).toEqual(Array.from({ length: 40 }, (_, i) => [i, value(i), 1]));
  const stored = (await api(url, "GET", `/api/v1/runs/${run.id}`)).body.run;
  // the run as its script made it: not renamed, not reconfigured, finished
  expect(stored).toMatchObject({ status: "finished", name: "offline-run", project: "sync-ts", config: { lr: 0.1 } });

  const again = syncCommand(url, "sync");
  expect([again.code, again.stdout]).toEqual([0, "sent 0 batch(es) of 0 run(s); 0 batch(es) left\n"]);
}, 120_000);

test("sync(): a batch the server already holds is not stored twice, tentative steps continue after the run, and a run without a finish record stays running", async () => {
  server = await startServer();
  const url = server.url;
  const id = "sync-ts-seq";
  expect((await api(url, "POST", "/api/v1/runs", { id, project: "sync-ts" })).status).toBe(201);
  // seq 1 reached the server before its process died, without the ack reaching the file
  expect((await api(url, "POST", `/api/v1/runs/${id}/log`, { seq: 1, rows: rows(0, 5) })).status).toBe(200);
  const file = writeSpool(`${id}.jsonl`, { id, project: "sync-ts", url }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 5) } },
    { kind: "batch", seq: 2, body: { seq: 2, rows: rows(5, 8) } },
    { kind: "batch", seq: 3, body: { seq: 3, rows: [{ step: 99, metrics: { y: 1 } }] } },
    { kind: "ack", seq: 3 },
    // logged without a step to the resumed run before the server said where it stopped
    { kind: "batch", seq: 4, body: { seq: 4, rows: rows(0, 2, true).map((r) => ({ ...r, metrics: { x: 0.5 } })) } },
  ]);
  const res = await sync({ url, spoolDir });
  expect(res).toEqual({ runs: 1, batches: 3, batchesLeft: 0, runsLeft: 0, rejectedPoints: 0, skipped: [], refused: null });
  expect(fs.existsSync(file)).toBe(false);
  expect(await points(url, id)).toEqual([...Array.from({ length: 8 }, (_, i) => [i, value(i), 1]), [8, 0.5, 1], [9, 0.5, 1]]);
  expect((await api(url, "GET", `/api/v1/runs/${id}`)).body.keys.map((k: { key: string }) => k.key)).toEqual(["x"]); // seq 3 was acked
  expect((await api(url, "GET", `/api/v1/runs/${id}`)).body.run.status).toBe("running");
}, 120_000);

test("spools for another server, in use, or unreadable are left and listed; --any-url sends them here; exit codes as Python's", async () => {
  server = await startServer();
  const url = server.url;
  const other = "http://127.0.0.1:1";
  const elsewhere = writeSpool("run-elsewhere.jsonl", { id: "run-elsewhere", project: "sync-ts", url: other }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 3) } },
    { kind: "finish", status: "crashed" },
  ]);
  const busy = writeSpool("run-busy.jsonl", { id: "run-busy", project: "sync-ts", url }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 2) } },
  ]);
  fs.writeFileSync(`${busy}.owner`, JSON.stringify({ pid: process.pid, host: (await import("node:os")).hostname() }));
  const headless = path.join(spoolDir, "headless.jsonl");
  fs.writeFileSync(headless, '{"kind":"batch","seq":1,"body":{"seq":1,"rows":[]}}\n');

  const left = syncCommand(url, "sync");
  expect(left.code, left.stderr).toBe(1);
  expect(left.stdout.split("\n")).toEqual([
    "sent 0 batch(es) of 0 run(s); 0 batch(es) left",
    `not sent: 3 spool file(s) in ${spoolDir}:`,
    `  ${headless} (1 batch(es)): unreadable`,
    `  ${busy} (0 batch(es)): in use by a running process (it sends them itself)`,
    `  ${elsewhere} (run run-elsewhere, 1 batch(es)): made for ${other}, not ${url}`,
    `to send those to ${other}: npx babysit-sdk sync --url ${other}`,
    `to send them all to ${url} instead: npx babysit-sdk sync --url ${url} --any-url`,
    "",
  ]);

  fs.rmSync(headless);
  const moved = syncCommand(url, "sync", "--any-url", "--timeout", "30");
  expect(moved.code, moved.stderr).toBe(1); // the busy one is still there
  expect(moved.stdout.split("\n")[0]).toBe("sent 1 batch(es) of 1 run(s); 0 batch(es) left");
  expect(moved.stderr).toContain(`babysit: warning: sending run run-elsewhere's spool (made for ${other}) to ${url}`);
  expect(fs.existsSync(elsewhere)).toBe(false);
  expect(await points(url, "run-elsewhere")).toEqual([0, 1, 2].map((i) => [i, value(i), 1]));
  expect((await api(url, "GET", "/api/v1/runs/run-elsewhere")).body.run.status).toBe("crashed");
  expect(fs.existsSync(busy)).toBe(true);

  // the owner is gone (a dead pid): its spool is taken over
  fs.writeFileSync(`${busy}.owner`, JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import("node:os")).hostname() }));
  expect(await sync({ url, spoolDir })).toMatchObject({ runs: 1, batches: 1, batchesLeft: 0, skipped: [] });
  expect(fs.readdirSync(spoolDir)).toEqual([]);
}, 120_000);

test.each([
  [["nope"], "unknown command nope"],
  [[], "a command is required"],
  [["sync", "--timeout", "soon"], "--timeout must be a positive number of seconds"],
  [["sync", "--wat"], "Unknown option '--wat'"],
])("a wrong command line %j exits 2 with the usage", (args, message) => {
  const out = syncCommand("http://127.0.0.1:1", ...args);
  expect(out.code).toBe(2);
  expect(out.stderr).toContain("usage: npx babysit-sdk sync");
  expect(out.stderr).toContain(message);
  expect(out.stdout).toBe("");
});

test("the server away: the command says what is left and exits 1, the spool untouched", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const file = writeSpool("r.jsonl", { id: "r", project: "sync-ts", url }, [{ kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 2) } }]);
  const before = fs.readFileSync(file, "utf8");
  const out = syncCommand(url, "sync", "--timeout", "5");
  expect(out.code).toBe(1);
  expect(out.stdout).toBe(
    `sent 0 batch(es) of 1 run(s); 1 batch(es) left\n1 run(s) not finished: the server at ${url} could not be reached or did not answer in time; is it running there (else --url)? Then run sync again\n`,
  );
  expect(fs.readFileSync(file, "utf8")).toBe(before);
  expect(fs.existsSync(`${file}.owner`)).toBe(false);
});

test("a spool a live process is writing is left alone: a TypeScript run that is still going, a Python process holding its flock", async () => {
  server = await startServer();
  const url = server.url;
  // a run in this process whose server is away: it writes its spool and keeps it open
  const live = await init({ project: "sync-ts", url: `http://127.0.0.1:${await freePort()}`, spoolDir, initTimeoutMs: 50, backoffInitialMs: 20 });
  live.log({ x: 1 }, { step: 0 });
  const liveFile = path.join(spoolDir, `${live.id}.jsonl`);
  await waitFor(() => fs.existsSync(liveFile), "the live run's spool file");
  const pyFile = writeSpool("py-run.jsonl", { id: "py-run", project: "sync-ts", url }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 2) } },
  ]);
  const holder = spawn(
    "/usr/bin/python3",
    ["-c", "import fcntl,sys\nf=open(sys.argv[1],'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\nsys.stdin.read()", pyFile],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  let said = "";
  holder.stdout!.on("data", (d) => (said += d));
  try {
    await waitFor(() => said.includes("locked"), "the python process's flock");
    const res = await sync({ url, spoolDir, anyUrl: true });
    expect(res).toMatchObject({ runs: 0, batches: 0, batchesLeft: 0 });
    expect(res.skipped.map((s) => [path.basename(s.path), s.reason]).sort()).toEqual(
      [`${live.id}.jsonl`, "py-run.jsonl"].sort().map((f) => [f, "in use by a running process (it sends them itself)"]),
    );
  } finally {
    holder.stdin!.end();
    await new Promise((r) => holder.once("exit", r));
  }
  // the python process is gone: its spool is sent; the live run's is still its own
  const res = await sync({ url, spoolDir, anyUrl: true });
  expect(res).toMatchObject({ runs: 1, batches: 1, batchesLeft: 0 });
  expect(fs.existsSync(pyFile)).toBe(false);
  expect(await points(url, "py-run")).toEqual([0, 1].map((i) => [i, value(i), 1]));
  expect(fs.existsSync(liveFile)).toBe(true);
  // once the run finishes (giving up on its server), its spool is anyone's to send
  await live.finish("finished", { timeoutMs: 100 });
  expect(await sync({ url, spoolDir, anyUrl: true })).toMatchObject({ runs: 1, batches: 1, batchesLeft: 0, skipped: [] });
  expect(fs.readdirSync(spoolDir)).toEqual([]);
  expect((await api(url, "GET", `/api/v1/runs/${live.id}`)).body.run.status).toBe("finished");
}, 120_000);

test("a spool the Python SDK left is sent too: the two SDKs share the folder and the format", async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = [
    "import sys, babysit",
    "run = babysit.init(project='sync-py', name='from-python', url=sys.argv[1], id='py-left', spool_dir=sys.argv[2], init_timeout=0.2, flush_interval=0.02)",
    "for i in range(12):",
    "    run.log({'x': float('nan') if i == 7 else 1 / (i + 3)}, step=i)",
    "print(bool(run.finish(timeout=0.5)))",
  ].join("\n");
  const beforePy = Date.now() / 1000;
  const py = spawnSync("/usr/bin/python3", ["-c", script, url, spoolDir], {
    env: { ...process.env, PYTHONPATH: path.join(ROOT, "sdk", "python"), BABYSIT_API_KEY: "" },
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(py.stdout.trim(), py.stderr).toBe("False");
  const afterPy = Date.now() / 1000;
  expect(fs.readdirSync(spoolDir)).toEqual(["py-left.jsonl"]);
  await waitFor(() => Date.now() / 1000 > afterPy + 1.5, "a later sync", 10_000);
  server = await startServer({ port });
  const done = syncCommand(url, "sync");
  expect(done.code, done.stdout + done.stderr).toBe(0);
  expect(fs.readdirSync(spoolDir)).toEqual([]);
  expect(await points(url, "py-left")).toEqual(Array.from({ length: 12 }, (_, i) => [i, value(i), 1]));
  expect((await api(url, "GET", "/api/v1/runs/py-left")).body.run).toMatchObject({ status: "finished", name: "from-python", project: "sync-py" });
  // it trained while the Python process ran, not when it was synced: its spooled startedAt and finishedAt
  const run = (await api(url, "GET", "/api/v1/runs/py-left")).body.run;
  expect(run.createdAt).toBeGreaterThanOrEqual(beforePy - 0.01);
  expect(run.createdAt).toBeLessThanOrEqual(afterPy + 0.01);
  expect(run.finishedAt).toBeGreaterThanOrEqual(beforePy - 0.01);
  expect(run.finishedAt).toBeLessThanOrEqual(afterPy + 0.01);
}, 120_000);

test("a batch the server refuses for good is counted, not retried; the rest is sent and the command exits 1", async () => {
  server = await startServer();
  const url = server.url;
  writeSpool("bad.jsonl", { id: "sync-ts-bad", project: "sync-ts", url }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: [{ step: -1, metrics: { x: 1, y: 2 } }] } },
    { kind: "batch", seq: 2, body: { seq: 2, rows: rows(0, 3) } },
    { kind: "finish", status: "finished" },
  ]);
  const out = syncCommand(url, "sync");
  expect(out.code).toBe(1);
  expect(out.stdout).toBe("sent 2 batch(es) of 1 run(s); 0 batch(es) left; the server rejected 2 point(s)\n");
  expect(out.stderr).toMatch(/babysit: the server rejected a batch of run sync-ts-bad \(400 invalid_batch: .*\); its 2 point\(s\) are not stored/);
  expect(fs.readdirSync(spoolDir)).toEqual([]);
  expect(await points(url, "sync-ts-bad")).toEqual([0, 1, 2].map((i) => [i, value(i), 1]));
  expect((await api(url, "GET", "/api/v1/runs/sync-ts-bad")).body.run.status).toBe("finished");
}, 120_000);

test("a run keeps the training times its spool holds (startedAt in the header, finishedAt in the finish record); times the server finds insane are its own clock", async () => {
  server = await startServer();
  const url = server.url;
  const now = Date.now() / 1000;
  const [started, finished] = [now - 7200.25, now - 3600.5];
  writeSpool("timed.jsonl", { id: "sync-ts-timed", project: "sync-ts", url, startedAt: started }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 2) } },
    { kind: "finish", status: "finished", finishedAt: finished },
  ]);
  // a header in milliseconds (not Unix seconds) is not sent as a time: the run is created all the same
  writeSpool("ms.jsonl", { id: "sync-ts-ms", project: "sync-ts", url, startedAt: now * 1000 }, [
    { kind: "batch", seq: 1, body: { seq: 1, rows: rows(0, 1) } },
    { kind: "finish", status: "crashed", finishedAt: "yesterday" },
  ]);
  const res = await sync({ url, spoolDir });
  expect(res).toEqual({ runs: 2, batches: 2, batchesLeft: 0, runsLeft: 0, rejectedPoints: 0, skipped: [], refused: null });
  const timed = (await api(url, "GET", "/api/v1/runs/sync-ts-timed")).body.run;
  expect(timed).toMatchObject({ status: "finished" });
  expect(timed.createdAt).toBeCloseTo(started, 2);
  expect(timed.finishedAt).toBeCloseTo(finished, 2);
  const ms = (await api(url, "GET", "/api/v1/runs/sync-ts-ms")).body.run;
  expect(ms.status).toBe("crashed");
  expect(ms.createdAt).toBeGreaterThanOrEqual(now - 1);
  expect(ms.finishedAt).toBeGreaterThanOrEqual(ms.createdAt);
  expect(await points(url, "sync-ts-ms")).toEqual([[0, value(0), 1]]);
}, 120_000);
