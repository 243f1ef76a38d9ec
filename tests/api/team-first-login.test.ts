import { spawn } from "node:child_process";
import os from "node:os";
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { hashPassword } from "@/lib/auth/passwords";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { ROOT, freshDbPath, waitFor } from "../helpers/server";
import { type TeamServer, adminCli, as, login, printedPassword, startTeamServer } from "../helpers/team";

// A one-time password (an invite, `npm run admin -- create`, `reset-password`) works once: the
// session it opens may only set the account's own password, read /auth/me and log out; every other
// route answers 403 `password_change_required` and every other page sends the person to /account.
// Accounts without one (made before migration 0011) are unaffected. Also: the account names any
// logged-in person may read (whom a run can be given to), and `npm start` refusing a team server
// without an admin before it builds anything.

let server: TeamServer;
beforeAll(async () => {
  server = await startTeamServer({ BABYSIT_TRUST_PROXY: "1" });
});
afterAll(async () => {
  server?.db.close();
  await server?.stop();
});

let ips = 0;
const freshIp = () => ({ "x-forwarded-for": `10.9.${Math.floor(++ips / 250)}.${ips % 250}` });
const admin = async () => as(server.url, { cookie: await login(server.url, "admin", server.adminPassword, freshIp()) });
const loginRaw = (name: string, password: string) =>
  fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...freshIp() },
    body: JSON.stringify({ name, password }),
  });

let invites = 0;
/** An invited account logged in with its one-time password, left on it. */
async function invited(role: "member" | "admin" = "member") {
  const name = `new-${++invites}`;
  const made = await (await admin())("POST", "/api/v1/users", { name, role });
  expect(made.status).toBe(201);
  const password = made.body.password as string;
  const cookie = await login(server.url, name, password, freshIp(), { oneTime: true });
  return { name, password, cookie, me: as(server.url, { cookie }) };
}

describe("a one-time password works once", () => {
  test("the login says so, /auth/me says so, and setting the same password again is refused", async () => {
    const name = `new-${++invites}`;
    const made = await (await admin())("POST", "/api/v1/users", { name });
    const res = await loginRaw(name, made.body.password);
    expect([res.status, (await res.json()).user]).toEqual([200, { name, role: "member", passwordChangeRequired: true }]);
    const me = as(server.url, { cookie: (res.headers.get("set-cookie") ?? "").split(";", 1)[0] });
    expect((await me("GET", "/api/v1/auth/me")).body.user).toEqual({ name, role: "member", passwordChangeRequired: true });
    const same = await me("POST", "/api/v1/auth/password", { current: made.body.password, password: made.body.password });
    expect([same.status, same.body.error.code, same.body.error.message]).toEqual([400, "invalid_body", "password must differ from the current one"]);
  });

  test.each([
    ["GET", "/api/v1/runs", undefined],
    ["POST", "/api/v1/runs", { project: "p" }],
    ["GET", "/api/v1/keys", undefined],
    ["POST", "/api/v1/keys", { name: "k" }],
    ["GET", "/api/v1/shares", undefined],
    ["GET", "/api/v1/users/names", undefined],
    ["GET", "/api/v1/users", undefined],
    ["POST", "/api/v1/users", { name: "someone-else" }],
    ["GET", "/api/v1/runs/no-such-run", undefined],
    ["POST", "/api/v1/runs/bulk", { ids: ["x"], action: "archive" }],
  ])("%s %s before the change: 403 password_change_required, nothing written", async (method, path, body) => {
    const a = await invited("admin"); // even an admin's invite
    const r = await a.me(method, path, body);
    expect([r.status, r.body.error.code]).toEqual([403, "password_change_required"]);
    expect(r.body.error.message).toContain("/account");
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.name = ?").get(a.name)).toEqual({ n: 0 });
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM users WHERE name = 'someone-else'").get()).toEqual({ n: 0 });
  });

  test.each([
    ["/", 303],
    ["/runs/x", 303],
    ["/compare?runs=a,b", 303],
    ["/account", 200],
    ["/login", 200],
  ])("the page %s before the change: %i (to /account's password form)", async (path, status) => {
    const a = await invited();
    const res = await fetch(`${server.url}${path}`, { headers: { cookie: a.cookie }, redirect: "manual" });
    expect(res.status).toBe(status);
    if (status === 303) expect(res.headers.get("location")).toBe("/account?password=required");
  });

  test("a live socket of such a session follows nothing (the runs list's news reach a settled one only)", async () => {
    const a = await invited();
    const adminCookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const open = async (cookie: string) => {
      const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false, extraHeaders: { cookie } });
      const got: string[] = [];
      s.onAny((e: string) => got.push(e));
      await new Promise<void>((resolve, reject) => {
        s.once("connect", () => resolve());
        s.once("connect_error", reject);
      });
      await s.emitWithAck("subscribe", { runs: true });
      return { s, got };
    };
    const [settled, oneTime] = [await open(adminCookie), await open(a.cookie)];
    try {
      expect((await as(server.url, { cookie: adminCookie })("POST", "/api/v1/runs", { project: "p", name: "news" })).status).toBe(201);
      await waitFor(() => settled.got.includes("run"), 10_000, "the settled socket hears the new run");
      // one more round trip on the one-time socket: whatever the server sent it before has arrived
      await oneTime.s.emitWithAck("subscribe", { runs: true });
      expect(oneTime.got).toEqual([]);
    } finally {
      settled.s.close();
      oneTime.s.close();
    }
  });

  test("after setting its own: the one-time password is refused (401), the new one opens everything, keys can be made", async () => {
    const a = await invited();
    const changed = await a.me("POST", "/api/v1/auth/password", { current: a.password, password: "my own password 1" });
    expect(changed.status).toBe(204);
    const old = await loginRaw(a.name, a.password);
    expect([old.status, (await old.json()).error.code]).toEqual([401, "unauthenticated"]);
    const res = await loginRaw(a.name, "my own password 1");
    expect((await res.json()).user.passwordChangeRequired).toBe(false);
    const me = as(server.url, { cookie: (res.headers.get("set-cookie") ?? "").split(";", 1)[0] });
    expect((await me("GET", "/api/v1/runs")).status).toBe(200);
    expect((await me("POST", "/api/v1/keys", { name: "mine" })).status).toBe(201);
    const page = await fetch(`${server.url}/`, { headers: { cookie: (res.headers.get("set-cookie") ?? "").split(";", 1)[0] }, redirect: "manual" });
    expect(page.status).toBe(200);
  });

  test("the admin CLI: create and reset-password print a one-time password that must be replaced; list marks it", async () => {
    const out = adminCli(server.dbPath, ["create", "cli-made", "--role", "member"]);
    expect(out).toContain("It works once: after logging in at /login with it, the account must set its own password");
    const made = printedPassword(out);
    const first = await loginRaw("cli-made", made);
    expect((await first.json()).user.passwordChangeRequired).toBe(true);
    expect(adminCli(server.dbPath, ["list"])).toMatch(/^member {2}cli-made \(one-time password\)$/m);
    // the account sets its own; then an admin resets it: one-time again
    const me = as(server.url, { cookie: (first.headers.get("set-cookie") ?? "").split(";", 1)[0] });
    expect((await me("POST", "/api/v1/auth/password", { current: made, password: "cli made own pw" })).status).toBe(204);
    expect(adminCli(server.dbPath, ["list"])).toMatch(/^member {2}cli-made$/m);
    const reset = adminCli(server.dbPath, ["reset-password", "cli-made"]);
    expect(reset).toContain("they must set their own password");
    const again = await loginRaw("cli-made", printedPassword(reset));
    expect((await again.json()).user.passwordChangeRequired).toBe(true);
  });

  test("an account made before migration 0011 (no flag written) is unaffected", async () => {
    server.db
      .prepare("INSERT INTO users (name, role, password_hash, created_at) VALUES ('old-timer', 'member', ?, 0)")
      .run(await hashPassword("an old password"));
    const res = await loginRaw("old-timer", "an old password");
    expect([res.status, (await res.json()).user.passwordChangeRequired]).toEqual([200, false]);
    const me = as(server.url, { cookie: (res.headers.get("set-cookie") ?? "").split(";", 1)[0] });
    expect((await me("GET", "/api/v1/runs")).status).toBe(200);
  });
});

describe("GET /api/v1/users/names: whom a run can be given to", () => {
  test("any logged-in person reads the enabled accounts' names, and nothing else about them", async () => {
    const a = await invited();
    const made = await (await admin())("POST", "/api/v1/users", { name: "gone-quiet" });
    expect((await (await admin())("PATCH", `/api/v1/users/${made.body.user.id}`, { disabled: true })).status).toBe(200);
    expect((await a.me("POST", "/api/v1/auth/password", { current: a.password, password: "a member's own" })).status).toBe(204);
    const member = as(server.url, { cookie: await login(server.url, a.name, "a member's own", freshIp()) });
    const r = await member("GET", "/api/v1/users/names");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(["names"]);
    expect(r.body.names).toContain(a.name);
    expect(r.body.names).toContain("admin");
    expect(r.body.names).not.toContain("gone-quiet");
    expect(r.body.names.every((n: unknown) => typeof n === "string")).toBe(true);
  });

  test.each([
    ["nobody", {}, 401, "unauthenticated"],
    ["an API key", "key", 403, "forbidden"],
  ] as const)("%s: %i %s", async (_who, how, status, code) => {
    let headers: Record<string, string> = {};
    if (how === "key") headers = { authorization: `Bearer ${(await (await admin())("POST", "/api/v1/keys", { name: "names" })).body.token}` };
    const r = await fetch(`${server.url}/api/v1/users/names`, { headers });
    expect([r.status, (await r.json()).error.code]).toEqual([status, code]);
  });
});

describe("npm start with team mode and no admin", () => {
  test("refuses before building the dashboard, saying what to do", async () => {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["scripts/start.mjs"], {
        cwd: ROOT,
        // a build folder that does not exist: a build first would take minutes and say so
        env: { ...process.env, DATABASE_URL: `file:${freshDbPath()}`, BABYSIT_MODE: "team", PORT: "0", BABYSIT_DIST_DIR: ".next-never-built" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("needs an admin account first");
    expect(r.stderr).toContain("npm run admin -- create <name>");
    expect(r.stdout).not.toContain("building");
  }, 60_000);
});

describe("the start-up lines of a team server bound to every interface", () => {
  test.each([
    ["no BABYSIT_PUBLIC_URL: this machine's name first", {}, (port: number) => `http://${os.hostname()}:${port}/`],
    ["BABYSIT_PUBLIC_URL: that one only", { BABYSIT_PUBLIC_URL: "https://babysit.lab.example" }, () => "https://babysit.lab.example/"],
  ])("%s", async (_what, env: Record<string, string>, first) => {
    const s = await startTeamServer({ HOST: "0.0.0.0", ...env });
    try {
      // printed right after the line startServer waits for: it may come in the next chunk
      const opened = (l: string) => l.startsWith("babysit: open (and log in) at ");
      const line = await waitFor(() => s.output().split("\n").find(opened), 10_000, "the line saying where to open it");
      expect(line?.slice("babysit: open (and log in) at ".length).split("  or  ")[0]).toBe(first(s.port));
      expect(line).not.toContain("0.0.0.0");
    } finally {
      s.db.close();
      await s.stop();
    }
  });
});
