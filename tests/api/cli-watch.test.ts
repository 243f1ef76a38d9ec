import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { frameRecord, maskedCrc32c } from "@/lib/import/tensorboard/tfrecord";
import { unpackTb } from "../helpers/import-fixtures";
import { ROOT, type TestServer, api, freePort, startServer, waitFor } from "../helpers/server";
import { eventBytes, fileVersion, tb } from "../helpers/tb-writer";

// `babysit watch DIR` while a writer is still appending to TensorBoard event files: points reach
// the server as they are written (a record cut in half waits for its second half), a run directory
// that appears later becomes a run, and Ctrl-C finishes the runs.

const CLI = path.join(ROOT, "scripts/babysit.mjs");
let work: string;
let server: TestServer;
let watcher: ChildProcess | null = null;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-watch-"));
  server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
});
afterAll(async () => {
  if (watcher && watcher.exitCode === null) watcher.kill("SIGKILL");
  await server?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

async function steps(project: string, name: string, key = "loss"): Promise<number[]> {
  const list = await api(server.url, "GET", `/api/v1/runs?project=${project}`);
  const run = list.body.runs?.find((r: { name: string }) => r.name === name);
  if (!run) return [];
  const s = await api(server.url, "GET", `/api/v1/runs/${run.id}/series?key=${key}`);
  return s.status === 200 ? s.body.buckets.map((b: { step: number }) => b.step) : [];
}

const record = (step: number) =>
  frameRecord(eventBytes(step, 1_700_000_000 + step, [tb.simple("loss", 1 / (step + 1)), tb.scalar("acc", step / 100)]));

test("points arrive as the writer appends them; a half-written record waits; a new run directory is followed; Ctrl-C finishes", async () => {
  const logdir = path.join(work, "logs");
  const a = path.join(logdir, "lr0.1");
  fs.mkdirSync(a, { recursive: true });
  const file = path.join(a, "events.out.tfevents.1700000000.host.1.0");
  fs.writeFileSync(file, Buffer.concat([frameRecord(fileVersion()), record(0), record(1)]));

  watcher = spawn(process.execPath, [CLI, "watch", logdir, "--url", server.url, "--project", "watch", "--interval", "0.1"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  watcher.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => watcher!.once("exit", (c) => resolve(c)));

  await waitFor(async () => (await steps("watch", "lr0.1")).length === 2, 30_000, "the first two points");

  // the writer appends a record and half of the next: the half waits (no error), then comes whole
  const fourth = record(3);
  fs.appendFileSync(file, Buffer.concat([record(2), fourth.subarray(0, 7)]));
  await waitFor(async () => (await steps("watch", "lr0.1")).join() === "0,1,2", 30_000, "the third point (the half record read past)");
  fs.appendFileSync(file, fourth.subarray(7));
  await waitFor(async () => (await steps("watch", "lr0.1")).join() === "0,1,2,3", 30_000, "the half-written record, once whole");

  // a second run appears while watching
  const b = path.join(logdir, "lr0.01");
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(b, "events.out.tfevents.1700000001.host.2.0"), Buffer.concat([frameRecord(fileVersion()), record(5)]));
  await waitFor(async () => (await steps("watch", "lr0.01")).join() === "5", 30_000, "the new run's point");
  expect(await steps("watch", "lr0.1", "acc")).toEqual([0, 1, 2, 3]);

  watcher.kill("SIGINT");
  expect(await exited).toBe(0);
  const runs = (await api(server.url, "GET", "/api/v1/runs?project=watch")).body.runs;
  expect(runs.map((r: { name: string; status: string }) => [r.name, r.status]).sort()).toEqual([
    ["lr0.01", "finished"],
    ["lr0.1", "finished"],
  ]);
  expect(err).not.toMatch(/refused|checksum|skipped/);
  expect(await steps("watch", "lr0.1")).toEqual([0, 1, 2, 3]); // nothing twice
});

test("--idle-timeout finishes a run that stopped growing, while watching goes on", async () => {
  const logdir = path.join(work, "idle");
  const a = path.join(logdir, "run");
  fs.mkdirSync(a, { recursive: true });
  fs.writeFileSync(path.join(a, "events.out.tfevents.1.host.1.0"), Buffer.concat([frameRecord(fileVersion()), record(0)]));
  const w = spawn(
    process.execPath,
    [CLI, "watch", logdir, "--url", server.url, "--project", "watch-idle", "--interval", "0.1", "--idle-timeout", "0.5"],
    {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  watcher = w;
  const exited = new Promise<number | null>((resolve) => w.once("exit", (c) => resolve(c)));
  await waitFor(
    async () => (await api(server.url, "GET", "/api/v1/runs?project=watch-idle")).body.runs?.[0]?.status === "finished",
    30_000,
    "the idle run finished",
  );
  expect(w.exitCode).toBe(null); // still watching
  w.kill("SIGTERM");
  expect(await exited).toBe(0);
});

test("the server away at first: nothing is lost, the points arrive once it answers", async () => {
  const logdir = path.join(work, "away");
  const a = path.join(logdir, "run");
  fs.mkdirSync(a, { recursive: true });
  fs.writeFileSync(path.join(a, "events.out.tfevents.2.host.1.0"), Buffer.concat([frameRecord(fileVersion()), record(0), record(1)]));
  const port = await freePort();
  const w = spawn(process.execPath, [CLI, "watch", logdir, "--url", `http://127.0.0.1:${port}`, "--project", "watch-away", "--interval", "0.1"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
  });
  watcher = w;
  let err = "";
  w.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => w.once("exit", (c) => resolve(c)));
  await waitFor(() => err.includes("cannot reach"), 30_000, "the watcher saying the server is away");
  const late = await startServer({ port, env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
  try {
    const list = async () => (await api(late.url, "GET", "/api/v1/runs?project=watch-away")).body.runs ?? [];
    const id = await waitFor(async () => (await list())[0]?.id as string, 30_000, "the run");
    await waitFor(async () => (await api(late.url, "GET", `/api/v1/runs/${id}/series?key=loss`)).body.buckets?.length === 2, 30_000, "both points");
    w.kill("SIGINT");
    expect(await exited).toBe(0);
    expect((await list()).map((r: { status: string }) => r.status)).toEqual(["finished"]);
  } finally {
    await late.stop();
  }
});

test("the diagnoses a watched run raised live, while it grew, are named when it is finished", async () => {
  // live diagnostics on (the other tests turn them off): the overfit fixture raises overfitting as it arrives
  const live = await startServer();
  try {
    const runDir = unpackTb("overfit", path.join(work, "live"));
    // the writer is part-way through: the rest of the event file comes after the alert was raised
    const file = path.join(runDir, fs.readdirSync(runDir).find((n) => n.includes("tfevents"))!);
    const whole = fs.readFileSync(file);
    fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const w = spawn(process.execPath, [CLI, "watch", path.dirname(runDir), "--url", live.url, "--project", "watch-live", "--interval", "0.2"], {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
    });
    watcher = w;
    let err = "";
    w.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => w.once("exit", (c) => resolve(c)));
    const runId = await waitFor(
      async () => (await api(live.url, "GET", "/api/v1/runs?project=watch-live")).body.runs?.[0]?.id as string,
      30_000,
      "the run",
    );
    await waitFor(
      async () => (await api(live.url, "GET", `/api/v1/runs/${runId}/alerts`)).body.alerts.some((a: { code: string }) => a.code === "overfitting"),
      60_000,
      "overfitting raised live",
    );
    fs.writeFileSync(file, whole);
    await waitFor(
      async () =>
        (await api(live.url, "GET", `/api/v1/runs/${runId}`)).body.keys.reduce((n: number, k: { count: number }) => n + k.count, 0) === 6903,
      60_000,
      "the rest of the file",
    );
    w.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(err).toMatch(/babysit: finished tb \(6903 points; [^)]*overfitting/);
  } finally {
    await live.stop();
  }
});

/** A record header declaring `length` bytes, with its length checksum right, and no data after it. */
function hugeRecordHeader(length: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeBigUInt64LE(BigInt(length), 0);
  h.writeUInt32LE(maskedCrc32c(h.subarray(0, 8)), 8);
  return Buffer.concat([h, Buffer.alloc(64)]);
}

// One file the server refuses used to stop watching every run (exit 3, "the server refused"): it is
// that file's problem, said once; the other runs are still followed, and the file is tried again
// once it changes.
test("a directory the walk cannot read (a name that is not UTF-8): said once, the rest followed", async () => {
  const logdir = path.join(work, "unreadable");
  fs.mkdirSync(path.join(logdir, "ok"), { recursive: true });
  fs.writeFileSync(path.join(logdir, "ok", "m.csv"), "step,loss\n0,1\n");
  const bad = Buffer.concat([Buffer.from(`${logdir}/bad`), Buffer.from([0xff]), Buffer.from("name")]);
  fs.mkdirSync(bad);
  fs.writeFileSync(Buffer.concat([bad, Buffer.from("/m.csv")]), "step,loss\n0,1\n");
  const w = spawn(process.execPath, [CLI, "watch", logdir, "--url", server.url, "--project", "watch-unreadable", "--interval", "0.1"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
  });
  watcher = w;
  let err = "";
  w.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => w.once("exit", (c) => resolve(c)));
  await waitFor(async () => (await steps("watch-unreadable", "ok/m.csv")).join() === "0", 30_000, "the readable run");
  await waitFor(() => err.includes("cannot be read"), 30_000, "the unreadable directory said");
  fs.appendFileSync(path.join(logdir, "ok", "m.csv"), "1,0.5\n");
  await waitFor(async () => (await steps("watch-unreadable", "ok/m.csv")).join() === "0,1", 30_000, "more looks");
  w.kill("SIGINT");
  await exited;
  expect(err.split("cannot be read").length - 1).toBe(1);
});

test("a CSV over importFileBytes (sent whole, so never): said once, not passed over unsaid at every look", async () => {
  const logdir = path.join(work, "big-csv");
  fs.mkdirSync(path.join(logdir, "run"), { recursive: true });
  const csv = path.join(logdir, "run", "metrics.csv");
  fs.writeFileSync(csv, "step,loss\n0,1\n");
  fs.truncateSync(csv, LIMITS.importFileBytes.value + 1); // sparse: the size is what counts
  fs.writeFileSync(path.join(logdir, "small.csv"), "step,loss\n0,1\n1,0.5\n");
  const w = spawn(process.execPath, [CLI, "watch", logdir, "--url", server.url, "--project", "watch-big-csv", "--interval", "0.1"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
  });
  watcher = w;
  let err = "";
  w.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => w.once("exit", (c) => resolve(c)));
  await waitFor(async () => (await steps("watch-big-csv", "small.csv")).join() === "0,1", 30_000, "the small CSV's points");
  await waitFor(() => err.includes("metrics.csv: not imported"), 30_000, "the big CSV said");
  w.kill("SIGINT");
  expect(await exited).toBe(1);
  expect(err.split("metrics.csv: not imported").length - 1).toBe(1);
  expect(err).toContain("importFileBytes");
});

test.each([
  ["a damaged event file", "events.out.tfevents.3.host.1.0", Buffer.from("not a tensorboard record at all")],
  ["an event file whose first record declares 2^40 bytes", "events.out.tfevents.3.host.1.0", hugeRecordHeader(2 ** 40)],
])("%s in one run: said once, the other run is still followed, the file is read once it is whole", async (what, name, bad) => {
  const project = `watch-bad-${what.split(" ")[1]}`;
  const logdir = path.join(work, project);
  const good = path.join(logdir, "good");
  const broken = path.join(logdir, "broken");
  fs.mkdirSync(good, { recursive: true });
  fs.mkdirSync(broken, { recursive: true });
  const goodFile = path.join(good, "events.out.tfevents.3.host.2.0");
  fs.writeFileSync(goodFile, Buffer.concat([frameRecord(fileVersion()), record(0)]));
  fs.writeFileSync(path.join(broken, name), bad);
  const w = spawn(process.execPath, [CLI, "watch", logdir, "--url", server.url, "--project", project, "--interval", "0.1"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
  });
  watcher = w;
  let err = "";
  w.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => w.once("exit", (c) => resolve(c)));
  await waitFor(async () => (await steps(project, "good")).join() === "0", 30_000, "the good run's first point");
  fs.appendFileSync(goodFile, record(1));
  await waitFor(async () => (await steps(project, "good")).join() === "0,1", 30_000, "the good run's next point, after the bad file");
  expect(w.exitCode).toBe(null); // still watching
  // the writer rewrites the bad file whole: it is read, and nothing is said about it again
  fs.writeFileSync(path.join(broken, name), Buffer.concat([frameRecord(fileVersion()), record(7)]));
  await waitFor(async () => (await steps(project, "broken")).join() === "7", 30_000, "the mended file's point");
  w.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(err).not.toContain("the server refused");
  expect(err.split(`broken/${name}: not imported`).length - 1).toBe(1);
  const runs = (await api(server.url, "GET", `/api/v1/runs?project=${project}`)).body.runs;
  expect(runs.map((r: { status: string }) => r.status)).toEqual(["finished", "finished"]);
});
