// How the SDK behaves when the training process ends: it must not keep a finished script alive,
// must finish a run the script forgot to finish, and must leave unsent data on disk when the
// process dies, for the next init() with the same run id to send.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";

import { init } from "../../../sdk/ts/src/index";
import { type FakeServer, startFakeServer } from "./fake-server";
import { captureStderr, freePort, pendingInSpool, tmpDir, waitFor } from "./util";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CHILD = path.join(import.meta.dirname, "fixtures", "child.ts");

let server: FakeServer;
let spoolDir: string;

beforeEach(async () => {
  server = await startFakeServer();
  spoolDir = tmpDir();
});

afterEach(async () => {
  await server.stop();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

interface Child {
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  stdout: () => string;
  stderr: () => string;
  kill: () => void;
}

function runChild(mode: string, url: string, id: string, points: number): Child {
  const t0 = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, mode, url, spoolDir, id, String(points)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, ms: Date.now() - t0 })),
  );
  return { exited, stdout: () => out, stderr: () => err, kill: () => child.kill("SIGKILL") };
}

test("a script that never calls finish() still delivers everything, is marked finished, and exits", async () => {
  const child = runChild("no-finish", server.url, "proc-no-finish", 500);
  const { code } = await child.exited;
  expect(code).toBe(0);
  expect(server.points("proc-no-finish").size).toBe(500);
  expect(server.runs.get("proc-no-finish")!.status).toBe("finished");
});

test.each(["finish", "no-finish"])("with the server down, a script (%s) gives up by the finish deadline and exits", async (mode) => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const child = runChild(mode, url, `proc-down-${mode}`, 100);
  const { code, ms } = await child.exited;
  expect(code).toBe(0);
  // tsx startup + finishTimeoutMs (1 s) + slack; a ref'd retry timer would keep it alive forever
  expect(ms).toBeLessThan(8000);
  const spool = path.join(spoolDir, `proc-down-${mode}.jsonl`);
  if (mode === "finish")
    expect(JSON.parse(child.stdout().trim())).toEqual({ delivered: false, pendingBatches: 1, spoolPath: spool, rejectedPoints: 0, rejections: [] });
  expect(pendingInSpool(spool).flatMap((b) => b.body.rows)).toHaveLength(100);
  expect(child.stderr().match(/cannot reach/g)).toHaveLength(1);
  expect(child.stderr()).toContain(`init({ id: "proc-down-${mode}"`);
});

test("process.exit() with the server down and the spool unwritable says how many points are lost", async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  fs.mkdirSync(path.join(spoolDir, "proc-exit-broken.jsonl")); // a directory where the file should go
  const child = runChild("exit-now", url, "proc-exit-broken", 300);
  expect((await child.exited).code).toBe(0);
  expect(child.stderr()).toMatch(/run proc-exit-broken finished, and 300 points could not be saved .*; they are lost/);
  expect(child.stderr()).not.toContain("unsent data is saved in");
});

test("process.exit() before anything was sent leaves the data in the spool; the next init sends it", async () => {
  const child = runChild("exit-now", server.url, "proc-exit", 300);
  expect((await child.exited).code).toBe(0);
  const spool = path.join(spoolDir, "proc-exit.jsonl");
  expect(pendingInSpool(spool).flatMap((b) => b.body.rows)).toHaveLength(300);
  expect(child.stderr()).toMatch(/exited before run proc-exit finished/);

  const stderr = captureStderr();
  try {
    const run = await init({ project: "sdk-process", url: server.url, spoolDir, id: "proc-exit" });
    expect((await run.finish()).delivered).toBe(true);
  } finally {
    stderr.restore();
  }
  expect(server.points("proc-exit").size).toBe(300);
  expect(server.storedValueCount("proc-exit")).toBe(300);
  expect(fs.existsSync(spool)).toBe(false);
});

test("a process SIGKILLed while the server is down leaves its batches on disk; the next init replays them", async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = runChild("wait-for-kill", url, "proc-killed", 1000);
  await waitFor(() => child.stdout().includes("READY"), "the child to spool its data", 20_000);
  child.kill();
  expect((await child.exited).signal).toBe("SIGKILL");
  const spool = path.join(spoolDir, "proc-killed.jsonl");
  expect(pendingInSpool(spool).flatMap((b) => b.body.rows)).toHaveLength(1000);

  await server.stop();
  await server.start(port);
  const stderr = captureStderr();
  try {
    const run = await init({ project: "sdk-process", url, spoolDir, id: "proc-killed" });
    expect(stderr.text()).toMatch(/resending \d+ batch(es)? of run proc-killed/);
    run.log({ "train/loss": 0 }, { step: 1000 });
    expect((await run.finish()).delivered).toBe(true);
  } finally {
    stderr.restore();
  }
  expect(server.points("proc-killed").size).toBe(1001);
  expect(server.storedValueCount("proc-killed")).toBe(1001);
  const seqs = server.runs.get("proc-killed")!.received;
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b)); // replayed in seq order, before new data
  expect(fs.existsSync(spool)).toBe(false);
});
