import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FIXTURES } from "../helpers/fixtures";
import { unpackTb } from "../helpers/import-fixtures";
import { ROOT, type TestServer, api, startServer } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// POST /api/v1/import and the `babysit import` command against a real server: a fixture run's
// TensorBoard directory and logs go in file by file, come out as runs with their points and
// diagnoses, a second import stores nothing twice, and bad requests are refused with the envelope
// and write nothing. In team mode the route asks what creating a run asks.

async function send(base: string, q: Record<string, string>, body: Uint8Array | string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/v1/import?${new URLSearchParams(q)}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...headers },
    body: typeof body === "string" ? body : new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/**
 * The CLI as a child process, awaited (not spawnSync: a test process blocked for seconds lets the
 * server close its idle keep-alive connection unseen, and the next request on it fails with "other
 * side closed").
 */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts/babysit.mjs"), ...args], {
      cwd: os.tmpdir(),
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("local mode", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("a cs231n log: the answer counts what was stored; the run holds it; a second import stores nothing", async () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, "healthy/log.txt"));
    const q = { project: "api-import", source: "/home/me/logs/log.txt", path: "log.txt", name: "cs231n" };
    const a = await send(server.url, q, bytes);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      name: "cs231n",
      resumed: false,
      format: "text",
      points: 107,
      histograms: 0,
      images: 0,
      unchanged: 0,
      skipped: [],
    });
    const run = await api(server.url, "GET", `/api/v1/runs/${a.body.runId}`);
    expect(run.body.run.project).toBe("api-import");
    // the epoch of each Solver check rides along as its own series, as with a streamed run
    expect(run.body.keys.map((k: { key: string }) => k.key).sort()).toEqual(["epoch", "loss", "train_acc", "val_acc"]);
    const b = await send(server.url, q, bytes);
    expect(b.body).toMatchObject({ runId: a.body.runId, resumed: true, points: 0, unchanged: 107 });
    const again = await api(server.url, "GET", `/api/v1/runs/${a.body.runId}`);
    expect(again.body.keys.find((k: { key: string }) => k.key === "loss").count).toBe(45);
  });

  test.each([
    ["a JSON body", { project: "p", source: "s", path: "a.log" }, "{}", { "content-type": "application/json" }, 415, "unsupported_media_type"],
    ["no Content-Type", { project: "p", source: "s", path: "a.log" }, "x", { "content-type": "" }, 415, "unsupported_media_type"],
    ["no project", { source: "s", path: "a.log" }, "step=1 a=1 b=2", {}, 400, "invalid_import"],
    ["no source", { project: "p", path: "a.log" }, "step=1 a=1 b=2", {}, 400, "invalid_import"],
    ["an unknown parameter", { project: "p", source: "s", path: "a.log", sauce: "x" }, "x", {}, 400, "invalid_import"],
    ["a project with a control character", { project: "p\u0001", source: "s", path: "a.log" }, "x", {}, 400, "invalid_import"],
    ["an unknown format", { project: "p", source: "s", path: "a.log", format: "xml" }, "x", {}, 400, "invalid_import"],
    ["patterns that are not a JSON array", { project: "p", source: "s", path: "a.log", patterns: "{" }, "x", {}, 400, "invalid_import"],
    [
      "a pattern over its length",
      { project: "p", source: "s", path: "a.log", patterns: JSON.stringify(["x".repeat(257)]) },
      "x",
      {},
      400,
      "invalid_import",
    ],
    ["an offset that is not a byte count", { project: "p", source: "s", path: "a.log", offset: "-1" }, "x", {}, 400, "invalid_import"],
    ["an offset into a CSV", { project: "p", source: "s", path: "m.csv", offset: "4" }, "1,2\n", {}, 400, "invalid_import"],
    ["an empty source", { project: "p", source: "", path: "a.log" }, "step=1 a=1 b=2", {}, 400, "invalid_import"],
    ["a source over importSourceMaxLength", { project: "p", source: "s".repeat(1001), path: "a.log" }, "step=1 a=1 b=2", {}, 400, "invalid_import"],
    [
      "a damaged event file",
      { project: "p", source: "s", path: "events.out.tfevents.9" },
      "not a tfrecord at all, long enough to frame",
      {},
      400,
      "invalid_import",
    ],
  ])("%s: refused with the envelope, and no run", async (_what, q, body, headers, status, code) => {
    const before = (await api(server.url, "GET", "/api/v1/runs?project=p")).body.total;
    const r = await send(server.url, q as Record<string, string>, body, headers);
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    expect((await api(server.url, "GET", "/api/v1/runs?project=p")).body.total).toBe(before);
  });

  // a directory or file named with a tab or newline (Linux allows them) was refused outright: a
  // source and a path are paths on the sender's disk, not names shown as labels
  test.each([
    ["a tab in the run directory", { source: "/logs/lr\t0.1", path: "events.txt" }],
    ["a newline in the file's name", { source: "/logs/run", path: "train\nlog.txt" }],
    ["an escape character in both", { source: "/logs/\u001b[31mred", path: "\u001b[0m.log" }],
  ])("%s: imported", async (_what, q) => {
    const r = await send(server.url, { project: "api-odd-paths", ...q }, "step=1 loss=1 acc=1\n");
    expect({ status: r.status, points: r.body.points }).toEqual({ status: 200, points: 2 });
    const again = await send(server.url, { project: "api-odd-paths", ...q }, "step=1 loss=1 acc=1\n");
    expect({ runId: again.body.runId, unchanged: again.body.unchanged }).toEqual({ runId: r.body.runId, unchanged: 2 });
  });

  // a deleted run's id is never used again: importing the same logs after deleting their run was
  // 410 run_deleted (for BABYSIT_DELETED_RUN_RETENTION_DAYS), with no way to import them again
  test("the imported run deleted: importing again makes a new run, which the next import resumes; and again", async () => {
    const q = { project: "api-reimport", source: "/logs/botched.log", path: "botched.log" };
    const ids: string[] = [];
    for (let round = 0; round < 3; round++) {
      const a = await send(server.url, q, "step=1 loss=1 acc=1\n");
      expect({ status: a.status, points: a.body.points, resumed: a.body.resumed }).toEqual({ status: 200, points: 2, resumed: false });
      const b = await send(server.url, q, "step=1 loss=1 acc=1\nstep=2 loss=2 acc=2\n");
      expect({ runId: b.body.runId, points: b.body.points, unchanged: b.body.unchanged }).toEqual({ runId: a.body.runId, points: 2, unchanged: 2 });
      ids.push(a.body.runId);
      expect((await api(server.url, "DELETE", `/api/v1/runs/${a.body.runId}`)).status).toBe(200);
    }
    expect(new Set(ids).size).toBe(3);
  });

  test("a growing log sent in parts: the answer's end is where the next part starts", async () => {
    const q = { project: "api-parts", source: "/home/me/train.log", path: "train.log" };
    const a = await send(server.url, q, "step=1 loss=1 acc=1\nstep=2 lo");
    expect(a.body).toMatchObject({ points: 2, end: 20 });
    const b = await send(server.url, { ...q, offset: String(a.body.end) }, "step=2 loss=2 acc=2\n");
    expect(b.body).toMatchObject({ runId: a.body.runId, points: 2, end: 40 });
  });

  test("a body over importFileBytes is refused from its Content-Length (413)", async () => {
    const { LIMITS } = await import("@/lib/contract/limits");
    const big = new Uint8Array(LIMITS.importFileBytes.value + 1);
    const r = await send(server.url, { project: "p", source: "s", path: "a.log" }, big);
    expect({ status: r.status, code: r.body.error.code }).toEqual({ status: 413, code: "payload_too_large" });
  });

  test("babysit import: a fixture run's directory (TensorBoard + logs), with a summary, its diagnoses, and again without duplicates", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    const tb = unpackTb("overfit", tmp);
    fs.copyFileSync(path.join(FIXTURES, "overfit/log.txt"), path.join(tmp, "overfit/log.txt"));
    const first = await cli(["import", path.join(tmp, "overfit"), "--project", "cli", "--url", server.url, "--no-progress"]);
    expect(first.code, first.err + first.out).toBe(0);
    expect(first.out).toMatch(/imported 2 runs into project "cli": \d+ points, 248 histograms/);
    expect(first.out).toMatch(/^diagnoses \(details on each run's page\):\n {2}tb: overfitting$/m);
    const list = await api(server.url, "GET", "/api/v1/runs?project=cli");
    expect(list.body.runs.map((r: { name: string }) => r.name).sort()).toEqual(["log.txt", "tb"]);
    expect(list.body.runs.every((r: { status: string }) => r.status === "finished")).toBe(true);
    // finished when the log ends, not when it was imported
    const tbRun = list.body.runs.find((r: { name: string }) => r.name === "tb");
    const detail = await api(server.url, "GET", `/api/v1/runs/${tbRun.id}`);
    expect(detail.body.run.finishedAt).toBeLessThan(Date.now() / 1000 - 3600);
    expect(detail.body.run.finishedAt).toBeGreaterThan(detail.body.run.createdAt);
    const second = await cli(["import", tb, "--project", "cli", "--url", server.url, "--no-progress"]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/imported 1 run into project "cli": 0 points, 0 histograms, 0 images, \d+ other events \(\d+ already there/);
    // the run's diagnoses are listed whenever they were raised (here: at the first import's finish;
    // with live diagnostics, while a long log was sent), not only those its finish raised anew
    expect(second.out).toMatch(/^ {2}\S*tb: .*overfitting/m);
    expect((await api(server.url, "GET", "/api/v1/runs?project=cli")).body.total).toBe(2);
  });

  test("babysit import with no server at --url says which address it could not reach (exit 1)", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    fs.writeFileSync(path.join(tmp, "train.log"), "step=1 loss=0.5\nstep=2 loss=0.25\n");
    // a port nothing listens on: taken, then let go
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const r = await cli(["import", tmp, "--project", "cli-down", "--url", `http://127.0.0.1:${port}`, "--no-progress"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`train.log: cannot reach the babysit server at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(r.out).not.toContain("fetch failed");
  });

  // a typo in a path is a failure (as cp or tar say), not a clean "imported 0 runs" with exit 0
  test.each([
    ["does not exist", (tmp: string) => path.join(tmp, "nope"), "no such file or directory"],
    [
      "is not a file or directory (a FIFO)",
      (tmp: string) => {
        execFileSync("mkfifo", [path.join(tmp, "fifo")]);
        return path.join(tmp, "fifo");
      },
      "not a file or directory",
    ],
  ] as const)("babysit import: a path that %s fails (exit 1, named); the other paths are imported", async (_what, make, reason) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    fs.writeFileSync(path.join(tmp, "train.log"), "step=1 loss=0.5\nstep=2 loss=0.25\n");
    const bad = make(tmp);
    const project = `cli-missing-${reason.length}`;
    const r = await cli(["import", bad, path.join(tmp, "train.log"), "--project", project, "--url", server.url, "--no-progress"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`failed 1:\n  ${bad}: ${reason}`);
    expect(r.out).toContain(`imported 1 run into project "${project}": 2 points`);
  });

  test("babysit import --name with paths that hold several runs: refused (exit 1, said why), nothing imported", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    fs.writeFileSync(path.join(tmp, "a.log"), "step=1 loss=0.5\n");
    fs.writeFileSync(path.join(tmp, "b.log"), "step=1 loss=0.5\n");
    const r = await cli(["import", tmp, "--name", "my run", "--project", "cli-name-many", "--url", server.url, "--no-progress"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("--name: names one run, but the paths hold 2 runs");
    expect((await api(server.url, "GET", "/api/v1/runs?project=cli-name-many")).body.runs).toEqual([]);
  });

  // a file's name quoted in babysit's own output reached the terminal raw: escape sequences in it set
  // the window title, recoloured or cleared the screen
  test.each([
    ["a window title", "\u001b]0;pwned\u0007"],
    ["colours", "\u001b[31m"],
    ["a screen clear", "\u001b[2J"],
    ["an 8-bit CSI", "\u009b31m"],
  ])("babysit import: a file named with %s is printed with U+FFFD for its control characters", async (_what, esc) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    fs.mkdirSync(path.join(tmp, "run"));
    fs.writeFileSync(path.join(tmp, "run", `events.out.tfevents.1.${esc}x`), "garbage that is long enough to look like a record");
    fs.writeFileSync(path.join(tmp, `${esc}log.txt`), "step=1 loss=0.5 acc=0.1\n");
    const r = await cli(["import", tmp, "--project", "cli-escapes", "--url", server.url, "--no-progress"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("bad length checksum");
    expect(r.out).toContain("log.txt: 2 points");
    expect(r.out + r.err).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  test("babysit import: a damaged file fails alone (exit 1, named), the rest is imported", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    fs.mkdirSync(path.join(tmp, "good"));
    fs.writeFileSync(path.join(tmp, "good/train.log"), "step=1 loss=0.5\nstep=2 loss=0.25\n");
    fs.mkdirSync(path.join(tmp, "bad"));
    fs.writeFileSync(path.join(tmp, "bad/events.out.tfevents.1.host"), "garbage that is long enough to look like a record");
    const r = await cli(["import", tmp, "--project", "cli-bad", "--url", server.url, "--no-progress"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/failed 1:\n {2}bad\/events\.out\.tfevents\.1\.host: .*bad length checksum/);
    expect(r.out).toMatch(/imported 1 run into project "cli-bad": 2 points/);
  });
});

describe("team mode", () => {
  let server: TeamServer;
  let admin: ReturnType<typeof as>;
  const keys = new Map<string, string>();
  beforeAll(async () => {
    server = await startTeamServer({ BABYSIT_EVAL_INTERVAL_MS: "1000000" });
    admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
    for (const [name, body] of [
      ["write", { name: "w" }],
      ["p2 only", { name: "p2", projects: ["p2"] }],
      ["read", { name: "r", access: "read" }],
    ] as const) {
      const r = await admin("POST", "/api/v1/keys", body);
      keys.set(name, r.body.token);
    }
  });
  afterAll(async () => {
    server?.db.close();
    await server?.stop();
  });

  const q = { project: "p1", source: "/data/run", path: "train.log" };
  test.each([
    ["no credentials", undefined, 401, "unauthenticated"],
    ["a read-only key", "read", 403, "forbidden"],
    ["a key for another project", "p2 only", 403, "forbidden"],
  ])("%s: refused, nothing stored", async (_what, key, status, code) => {
    const r = await send(server.url, q, "step=1 loss=1 acc=2", key ? { authorization: `Bearer ${keys.get(key)}` } : {});
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status, code });
    const { importRunId } = await import("@/lib/import/import-file");
    expect((await admin("GET", `/api/v1/runs/${importRunId(q.project, q.source)}`)).status).toBe(404);
  });

  test("a write key imports; the CLI says so when the key is missing (exit 3)", async () => {
    const r = await send(server.url, q, "step=1 loss=1 acc=2", { authorization: `Bearer ${keys.get("write")}` });
    expect(r.status).toBe(200);
    expect(r.body.points).toBe(2);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-cli-"));
    fs.writeFileSync(path.join(tmp, "a.log"), "step=1 loss=1 acc=2\n");
    const none = await cli(["import", tmp, "--url", server.url, "--no-progress"], { BABYSIT_API_KEY: "" });
    expect(none.code).toBe(3);
    expect(none.out).toContain("--api-key");
    const ok = await cli(["import", tmp, "--url", server.url, "--no-progress", "--api-key", keys.get("write")!]);
    expect(ok.code, ok.out + ok.err).toBe(0);
  });
});
