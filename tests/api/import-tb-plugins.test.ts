import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, test } from "vitest";
import { frameRecord } from "@/lib/import/tensorboard/tfrecord";
import { png } from "../helpers/png";
import { ROOT, type TestServer, api, startServer, waitFor } from "../helpers/server";
import { eventFile, eventKinds, fileVersion, pluginOnceExpected, pluginOnceRecord } from "../helpers/tb-writer";

// TF2 names a tag's plugin on its first value only. A run imported in several requests (a growing
// file's tail sent with `offset`, the run's next event file, `babysit watch` following a writer)
// must read the later values with the plugin named at first: every histogram, image and text lands
// in its kind, whatever its shape alone suggests, and nothing is stored twice.

const CLI = path.join(ROOT, "scripts/babysit.mjs");
const steps = Array.from({ length: 10 }, (_, i) => i);
const records = steps.map((s) => pluginOnceRecord(s, png(2, 2)));
let server: TestServer;
let work: string;
let watcher: ChildProcess | null = null;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-tbplugins-"));
  server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
});
afterAll(async () => {
  if (watcher && watcher.exitCode === null) watcher.kill("SIGKILL");
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function send(q: Record<string, string>, body: Uint8Array) {
  const res = await fetch(`${server.url}/api/v1/import?${new URLSearchParams(q)}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function lossSteps(runId: string): Promise<number[]> {
  const s = await api(server.url, "GET", `/api/v1/runs/${runId}/series?key=loss`);
  return s.status === 200 ? s.body.buckets.map((b: { step: number }) => b.step) : [];
}

function kinds(runId: string) {
  const db = new Database(server.dbPath, { readonly: true });
  try {
    return eventKinds(db, runId);
  } finally {
    db.close();
  }
}

async function expectRight(runId: string) {
  expect(kinds(runId)).toEqual(pluginOnceExpected(steps));
  expect(await lossSteps(runId)).toEqual(steps);
  const run = await api(server.url, "GET", `/api/v1/runs/${runId}`);
  expect(run.body.keys.map((k: { key: string }) => k.key)).toEqual(["loss"]);
}

test("a file in two parts (offset), then the run's next event file, then all of it again", async () => {
  const q = { project: "tb-plugins", source: "/logs/tf2", path: "events.out.tfevents.1.host" };
  const first = eventFile(records.slice(0, 6));
  const cut = first.length - records[5].length - 16 + 5; // 5 bytes into step 5's record
  const a = await send(q, first.subarray(0, cut));
  expect(a.status).toBe(200);
  expect(a.body).toMatchObject({ truncated: true, points: 5, histograms: 5, images: 10, skipped: [] });
  const b = await send({ ...q, offset: String(a.body.end) }, first.subarray(a.body.end));
  expect(b.body).toMatchObject({ runId: a.body.runId, truncated: false, points: 1, histograms: 1, images: 0, unchanged: 0, skipped: [] });
  const second = eventFile(records.slice(6));
  const c = await send({ ...q, path: "events.out.tfevents.2.host" }, second);
  expect(c.body).toMatchObject({ runId: a.body.runId, points: 4, histograms: 4, images: 8, unchanged: 0, skipped: [] });
  await expectRight(a.body.runId);
  for (const [p, bytes] of [
    [q.path, first],
    ["events.out.tfevents.2.host", second],
  ] as const) {
    const again = await send({ ...q, path: p }, bytes);
    expect(again.body).toMatchObject({ points: 0, histograms: 0, images: 0, events: 0, skipped: [] });
  }
  await expectRight(a.body.runId);
});

test("babysit watch while the writer appends, and opens a second event file: every value in its kind", async () => {
  const runDir = path.join(work, "logs", "tf2");
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, "events.out.tfevents.1700000000.host.1.0");
  fs.writeFileSync(file, Buffer.concat([frameRecord(fileVersion()), frameRecord(records[0])]));
  watcher = spawn(
    process.execPath,
    [CLI, "watch", path.join(work, "logs"), "--url", server.url, "--project", "tb-plugins-watch", "--interval", "0.1"],
    {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  watcher.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => watcher!.once("exit", (c) => resolve(c)));
  const runId = await waitFor(
    async () => (await api(server.url, "GET", "/api/v1/runs?project=tb-plugins-watch")).body.runs?.[0]?.id as string,
    30_000,
    "the run",
  );
  await waitFor(async () => (await lossSteps(runId)).length === 1, 30_000, "step 0");
  // the writer appends steps 1-5, the last one in two writes
  const fifth = frameRecord(records[5]);
  fs.appendFileSync(file, Buffer.concat([...records.slice(1, 5).map(frameRecord), fifth.subarray(0, 9)]));
  await waitFor(async () => (await lossSteps(runId)).length === 5, 30_000, "steps 1-4");
  fs.appendFileSync(file, fifth.subarray(9));
  await waitFor(async () => (await lossSteps(runId)).length === 6, 30_000, "step 5, once whole");
  // a new writer session: a second event file, its tags' plugins not named again
  fs.writeFileSync(
    path.join(runDir, "events.out.tfevents.1700000100.host.2.0"),
    Buffer.concat([frameRecord(fileVersion()), ...records.slice(6).map(frameRecord)]),
  );
  await waitFor(async () => (await lossSteps(runId)).length === 10, 30_000, "steps 6-9 from the second file");
  await waitFor(() => kinds(runId).histograms.length === 10, 30_000, "the second file's histograms");
  watcher.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(err).not.toMatch(/skipped|refused|checksum/);
  await expectRight(runId);
});
