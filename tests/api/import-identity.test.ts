import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { recordsHparams } from "@/lib/import/hparams-peek";
import { sendImportFile } from "@/lib/import/client";
import { importRunId } from "@/lib/import/import-file";
import { type PathEntry, UPLOAD_SOURCE_PREFIX, planPaths } from "@/lib/import/plan-paths";
import { FIXTURES } from "../helpers/fixtures";
import { unpackTb } from "../helpers/import-fixtures";
import { ROOT, type TestServer, api, startServer } from "../helpers/server";

// The same logs make the same run whichever way they come: `babysit import` from the disk and the
// dashboard's drop (which knows only the dropped folder's name and the paths under it) name a run
// alike (lib/import/run-source.ts), so importing a folder one way and then the other stores nothing
// twice. Runs imported before under the older names (the CLI's absolute paths, the dashboard's
// `upload:` paths) keep getting their logs: each importer sends that name as formerSource.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** `babysit import ARGS` as a user runs it (asynchronously: the test process keeps answering its sockets). */
function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts/babysit.mjs"), ...args], { cwd: os.tmpdir() });
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
    });
    child.stderr.on("data", (c) => {
      out += c;
    });
    child.on("close", (code) => resolve({ code, out }));
  });
}

/** A folder like a user's `runs/`: one TensorBoard run (with its hparams sub-run) and a console log. */
function runsFolder(): string {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "babysit-identity-")), "runs");
  unpackTb("overfit", root);
  fs.copyFileSync(path.join(FIXTURES, "overfit", "log.txt"), path.join(root, "overfit", "log.txt"));
  return root;
}

/** What the dashboard sends for a dropped folder: its plan (lib/import/plan-paths.ts), then each file. */
async function drop(root: string, project: string) {
  const entries: (PathEntry & { abs: string })[] = [];
  const walk = (abs: string, rel: string) => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(abs, e.name), `${rel}/${e.name}`);
      else entries.push({ path: `${rel}/${e.name}`, size: fs.statSync(path.join(abs, e.name)).size, abs: path.join(abs, e.name) });
    }
  };
  walk(root, path.basename(root));
  const runs = await planPaths(entries, (files) => recordsHparams(files.map((f) => fs.readFileSync(f.abs))));
  const out: { runId: string; points: number; unchanged: number }[] = [];
  for (const run of runs) {
    for (const f of run.files) {
      const r = await sendImportFile(
        { url: server.url },
        { project, source: run.source, formerSource: run.formerSource, path: f.rel, name: run.name },
        fs.readFileSync(f.entry.abs),
      );
      out.push({ runId: r.runId, points: r.points, unchanged: r.unchanged });
    }
  }
  return out;
}

const runsOf = async (project: string) =>
  ((await api(server.url, "GET", `/api/v1/runs?project=${project}`)).body.runs as { id: string; name: string }[]).map((r) => r.id).sort();

describe("one run for the same logs, whichever way they are imported", () => {
  test("a folder imported with `babysit import`, then dropped on the dashboard: the same runs, nothing stored twice", async () => {
    const root = runsFolder();
    const first = await cli(["import", root, "--project", "both", "--url", server.url, "--no-progress"]);
    expect(first.code, first.out).toBe(0);
    const runs = await runsOf("both");
    expect(runs).toHaveLength(2);
    const dropped = await drop(root, "both");
    expect([...new Set(dropped.map((d) => d.runId))].sort()).toEqual(runs);
    expect(dropped.reduce((n, d) => n + d.points, 0)).toBe(0);
    expect(dropped.every((d) => d.unchanged > 0)).toBe(true);
    expect(await runsOf("both")).toEqual(runs);
  });

  test("dropped first, then the same folder imported with `babysit import`: the same runs", async () => {
    const root = runsFolder();
    const dropped = await drop(root, "both2");
    const runs = await runsOf("both2");
    expect([...new Set(dropped.map((d) => d.runId))].sort()).toEqual(runs);
    // the TensorBoard run is its event files' wherever the folder is chosen from; the log file's name
    // is its path from the chosen folder, so the CLI is given the folder that was dropped
    const again = await cli(["import", root, "--project", "both2", "--url", server.url, "--no-progress"]);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/imported 2 runs into project "both2": 0 points/);
    expect(await runsOf("both2")).toEqual(runs);
  });

  test.each([
    ["`babysit import` (named by its absolute path)", "cli"],
    ["the dashboard (named `upload:` and its path)", "drop"],
  ])("a run imported before by %s keeps getting its logs", async (_how, way) => {
    const root = runsFolder();
    const project = `former-${way}`;
    const tb = path.join(root, "overfit", "tb");
    const former = way === "cli" ? tb : `${UPLOAD_SOURCE_PREFIX}runs/overfit/tb`;
    // as an earlier version imported it: every file of the run under the former source
    let old = { runId: "", points: 0 };
    for (const rel of fs.readdirSync(tb, { recursive: true }) as string[]) {
      if (!fs.statSync(path.join(tb, rel)).isFile()) continue;
      const r = await sendImportFile({ url: server.url }, { project, source: former, path: rel }, fs.readFileSync(path.join(tb, rel)));
      old = { runId: r.runId, points: old.points + r.points };
    }
    expect(old.runId).toBe(importRunId(project, former));
    expect(old.points).toBeGreaterThan(0);
    if (way === "cli") {
      const now = await cli(["import", root, "--project", project, "--url", server.url, "--no-progress"]);
      expect(now.code, now.out).toBe(0);
    } else await drop(root, project);
    // the TensorBoard run is the old one, with nothing stored twice; the console log is a run of its own
    const ids = await runsOf(project);
    expect(ids).toHaveLength(2);
    expect(ids).toContain(old.runId);
    const run = await api(server.url, "GET", `/api/v1/runs/${old.runId}`);
    expect((run.body.keys as { count: number }[]).reduce((n, k) => n + k.count, 0)).toBe(old.points);
  });

  test("a run under the new source is the one used, even when one under the former source exists too", async () => {
    const bytes = Buffer.from("step,loss\n0,1\n1,0.5\n");
    const a = await sendImportFile({ url: server.url }, { project: "pick", source: "/old/m.csv", path: "m.csv" }, bytes);
    const b = await sendImportFile({ url: server.url }, { project: "pick", source: "file:x/m.csv", path: "m.csv" }, bytes);
    expect(b.runId).not.toBe(a.runId);
    const c = await sendImportFile(
      { url: server.url },
      { project: "pick", source: "file:x/m.csv", formerSource: "/old/m.csv", path: "m.csv" },
      bytes,
    );
    expect(c.runId).toBe(b.runId);
    expect(c.points).toBe(0);
  });
});
