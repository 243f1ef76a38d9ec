import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ROOT, type TestServer, freshDbPath, startServer } from "../helpers/server";

// What a person typing a command sees when it is wrong: one line saying what is wrong and what is
// accepted (or what to do), a non-zero exit, and never a stack trace.

function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const ACCEPTED = "accepted options: --role admin|member (with create), -h/--help";

describe("npm run admin with bad arguments", () => {
  test.each([
    [["-x"], `babysit admin: unknown option -x; ${ACCEPTED}`],
    [["create", "bob", "--bogus"], `babysit admin: unknown option --bogus; ${ACCEPTED}`],
    [["create", "bob", "--role"], `babysit admin: --role needs a value; ${ACCEPTED}`],
    [["--role"], `babysit admin: --role needs a value; ${ACCEPTED}`],
    [["list", "--help=yes"], `babysit admin: --help takes no value; ${ACCEPTED}`],
  ])("%j: exit 2 and one line", async (args, line) => {
    const r = await runNode(["--import", "tsx", "scripts/admin.ts", ...args], { DATABASE_URL: `file:${freshDbPath()}` });
    expect([r.code, r.stderr, r.stdout]).toEqual([2, `${line}\n`, ""]);
  });
});

describe("the server with a bad setting", () => {
  test.each([
    [{ BABYSIT_MODE: "tea" }, 'babysit: BABYSIT_MODE must be "team" or "local", got "tea"'],
    [{ BABYSIT_SHARE_PORT: "abc" }, 'babysit: BABYSIT_SHARE_PORT must be a port number (1-65535), got "abc"'],
    [
      { DATABASE_URL: "postgres://db/babysit" },
      "babysit: DATABASE_URL must be a SQLite file url like file:./data/babysit.db, got postgres://db/babysit",
    ],
    [
      { BABYSIT_PUBLIC_URL: "babysit.example.org" },
      'babysit: BABYSIT_PUBLIC_URL="babysit.example.org" is not a URL; give it as https://babysit.example.org',
    ],
  ])("%j: exit 2 and one line", async (env, line) => {
    const r = await runNode(["--import", "tsx", "server.ts"], { PORT: "0", DATABASE_URL: `file:${freshDbPath()}`, ...env });
    expect([r.code, r.stderr]).toEqual([2, `${line}\n`]);
  });
});

describe("a database another server is using", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test.each([
    ["npm run migrate", ["scripts/migrate.mjs"]],
    ["npm start", ["scripts/start.mjs"]],
  ])(
    "%s: exit 1 and one line naming the server's process and what to do",
    async (_what, args) => {
      const r = await runNode(args, { DATABASE_URL: `file:${server.dbPath}`, PORT: "0" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `babysit: another babysit server seems to be using ${server.dbPath} (pid ${server.pid}: ${process.execPath} --import tsx server.ts in ${ROOT}): ` +
          "stop it first (Ctrl-C, or kill that pid), or give this one its own DATABASE_URL\n",
      );
      // the server it named is still serving
      expect((await fetch(`${server.url}/api/v1/runs`)).status).toBe(200);
    },
    60_000,
  );
});
