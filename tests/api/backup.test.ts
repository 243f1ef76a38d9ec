import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, type TestServer, api, startServer } from "../helpers/server";
import { adminCli, as, login, printedPassword } from "../helpers/team";

// `npm run backup -- <file>` (docs/deploy.md): a copy taken while the server runs and writes is a
// whole database that another server opens, with every point logged before it; it never
// overwrites a file.

function backup(target: string, dbPath: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, "scripts/backup.mjs"), target],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: `file:${dbPath}` } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe("npm run backup", () => {
  let server: TestServer;
  let copyServer: TestServer | undefined;
  let teamServer: TestServer | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-backup-"));
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await copyServer?.stop();
    await teamServer?.stop();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("copies the live database, newest points included; the copy serves as a database", async () => {
    const run = await api(server.url, "POST", "/api/v1/runs", { project: "bk", name: "kept", config: { lr: 0.1 } });
    const rows = Array.from({ length: 50 }, (_, step) => ({ step, metrics: { "train/loss": 1 / (step + 1) } }));
    expect((await api(server.url, "POST", `/api/v1/runs/${run.body.id}/log`, { seq: 0, rows })).status).toBe(200);
    const target = path.join(dir, "copy.db");
    const r = await backup(target, server.dbPath);
    expect(r.out).toContain("backed up");
    expect(r.code).toBe(0);
    expect(fs.existsSync(`${target}-wal`)).toBe(false); // one self-contained file
    // the server that wrote it still runs and writes
    expect(
      (await api(server.url, "POST", `/api/v1/runs/${run.body.id}/log`, { seq: 1, rows: [{ step: 50, metrics: { "train/loss": 0 } }] })).status,
    ).toBe(200);
    copyServer = await startServer({ dbPath: target });
    const list = await api(copyServer.url, "GET", "/api/v1/runs?project=bk");
    expect(list.body.runs.map((x: { name: string }) => x.name)).toEqual(["kept"]);
    const series = await api(copyServer.url, "GET", `/api/v1/runs/${run.body.id}/series?key=train/loss&points=1000`);
    expect(series.status).toBe(200);
    expect(JSON.stringify(series.body)).toContain("49");
  });

  test("a local server's backup serves a team server: its runs are there, ownerless (docs/deploy.md)", async () => {
    const target = path.join(dir, "to-team.db");
    expect((await backup(target, server.dbPath)).code).toBe(0);
    const password = printedPassword(adminCli(target, ["create", "admin"]));
    teamServer = await startServer({ dbPath: target, env: { BABYSIT_MODE: "team" } });
    expect((await api(teamServer.url, "GET", "/api/v1/runs?project=bk")).status).toBe(401);
    // the CLI's password works once: the admin sets their own first (docs/team-mode.md)
    const first = as(teamServer.url, { cookie: await login(teamServer.url, "admin", password, {}, { oneTime: true }) });
    expect((await first("POST", "/api/v1/auth/password", { current: password, password: "a-password-of-my-own" })).status).toBe(204);
    const admin = as(teamServer.url, { cookie: await login(teamServer.url, "admin", "a-password-of-my-own") });
    const list = await admin("GET", "/api/v1/runs?project=bk");
    expect(list.body.runs.map((x: { name: string; owner: string | null }) => [x.name, x.owner])).toEqual([["kept", null]]);
  });

  test.each([
    ["an existing file", (t: string) => fs.writeFileSync(t, "mine"), "exists already"],
    ["no file named", null, "usage: npm run backup"],
  ])("refuses %s and writes nothing", async (_what, prepare, message) => {
    const target = path.join(dir, `refused-${message.length}.db`);
    if (prepare) prepare(target);
    const r = prepare ? await backup(target, server.dbPath) : await backup("", server.dbPath);
    expect(r.code).toBe(1);
    expect(r.out).toContain(message);
    if (prepare) expect(fs.readFileSync(target, "utf8")).toBe("mine");
  });

  test("a file in a folder that does not exist: says so (and how to make it), writes nothing", async () => {
    const target = path.join(dir, "no-such-folder", "b.db");
    const r = await backup(target, server.dbPath);
    expect(r.code).toBe(1);
    expect(r.out).toContain("does not exist: make it first");
    expect(fs.existsSync(path.dirname(target))).toBe(false);
  });
});
