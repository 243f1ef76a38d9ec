import { execFileSync } from "node:child_process";
import Database from "better-sqlite3";
import { ROOT, type TestServer, api, freshDbPath, startServer } from "./server";

// A team-mode server for tests: a fresh database with an admin made by the real CLI
// (npm run admin -- create), then the server started with BABYSIT_MODE=team.

/** Runs the admin CLI against a database; returns its output (throws with it on a non-zero exit). */
export function adminCli(dbPath: string, args: string[]): string {
  return execFileSync(process.execPath, ["--import", "tsx", "scripts/admin.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: `file:${dbPath}` },
    encoding: "utf8",
  });
}

/** The one-time password the CLI printed (its indented line). */
export function printedPassword(out: string): string {
  const m = /^ {4}(\S+)$/m.exec(out);
  if (!m) throw new Error(`no password in:\n${out}`);
  return m[1];
}

export interface TeamServer extends TestServer {
  adminPassword: string;
  /** Straight access to the server's database, for what only time would otherwise do (expiry). */
  db: Database.Database;
}

// A one-time password must be replaced at the first login (tests/api/team-first-login.test.ts
// follows that path). Tests about everything else log in as people past it: `login` below settles
// an account it logs in with a one-time password, on a server started here, by clearing the flag in
// the database, so the password the test holds keeps working. `{ oneTime: true }` leaves it.
const settled = new Map<string, Database.Database>();

export async function startTeamServer(env: Record<string, string> = {}): Promise<TeamServer> {
  const dbPath = freshDbPath();
  const adminPassword = printedPassword(adminCli(dbPath, ["create", "admin"]));
  const server = await startServer({ dbPath, env: { BABYSIT_MODE: "team", ...env } });
  const db = new Database(dbPath);
  db.pragma("busy_timeout = 5000");
  db.prepare("UPDATE users SET password_change_required = 0 WHERE name = 'admin'").run();
  settled.set(server.url, db);
  return { ...server, adminPassword, db };
}

/** Logs in; returns the Cookie header value to send. */
export async function login(
  base: string,
  name: string,
  password: string,
  headers: Record<string, string> = {},
  opts: { oneTime?: boolean } = {},
): Promise<string> {
  const send = () =>
    fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ name, password }),
    });
  // a kept-alive connection the server closed while idle (5 s) can be picked just as it closes on a
  // loaded machine ("other side closed"): that attempt never reached the server, so send it again
  const res = await send().catch((e: Error & { cause?: { code?: string } }) => {
    if (e.cause?.code === "UND_ERR_SOCKET") return send();
    throw e;
  });
  if (res.status !== 200) throw new Error(`login ${name}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { user: { name: string; passwordChangeRequired?: boolean } };
  const db = settled.get(base);
  if (body.user.passwordChangeRequired && !opts.oneTime && db?.open) {
    db.prepare("UPDATE users SET password_change_required = 0 WHERE name = ?").run(body.user.name);
  }
  const cookie = res.headers.get("set-cookie") ?? "";
  return cookie.split(";", 1)[0];
}

/** An API client that sends a cookie or a bearer key. */
export function as(base: string, auth: { cookie?: string; key?: string }) {
  const headers: Record<string, string> = {};
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.key) headers.authorization = `Bearer ${auth.key}`;
  return (method: string, path: string, body?: unknown) => api(base, method, path, body, headers);
}
