import crypto from "node:crypto";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { api, freshDbPath, startServer, type TestServer, waitFor } from "../helpers/server";
import { type TeamServer, adminCli, as, login, printedPassword, startTeamServer } from "../helpers/team";

// Team mode's sessions as a browser and a terminal see them: login and its cookie, logout,
// expiry (sliding), rate-limited attempts, pages that send you to /login, sockets that need a
// session, invites and password changes, and a server that will not start without an admin.

let server: TeamServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  // a trusted proxy: the tests choose the client address (X-Forwarded-For) and scheme (X-Forwarded-Proto)
  server = await startTeamServer({ BABYSIT_TRUST_PROXY: "1" });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  server?.db.close();
  await server?.stop();
});

let ips = 0;
const freshIp = () => ({ "x-forwarded-for": `10.0.${Math.floor(++ips / 250)}.${ips % 250}` });
const loginRaw = (name: string, password: string, headers: Record<string, string> = freshIp()) =>
  fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ name, password }),
  });
const sessionHash = (cookie: string) => crypto.createHash("sha256").update(cookie.split("=")[1]).digest("hex");

async function invite(name: string): Promise<string> {
  const admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword, freshIp()) });
  const r = await admin("POST", "/api/v1/users", { name });
  expect(r.status).toBe(201);
  return r.body.password;
}

describe("login", () => {
  test("gives an HttpOnly, SameSite=Lax session cookie, Secure only over https, stored as its hash", async () => {
    const res = await loginRaw("admin", server.adminPassword);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user: { name: "admin", role: "admin", passwordChangeRequired: false } });
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^babysit_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);
    const value = cookie.split(";", 1)[0];
    const rows = server.db.prepare("SELECT token_hash FROM sessions").all() as { token_hash: string }[];
    expect(rows.map((r) => r.token_hash)).toContain(sessionHash(value));
    expect(rows.map((r) => r.token_hash)).not.toContain(value.split("=")[1]);

    const https = await loginRaw("admin", server.adminPassword, { ...freshIp(), "x-forwarded-proto": "https" });
    expect(https.headers.get("set-cookie")).toMatch(/; Secure/);
  });

  test.each([
    ["a wrong password", "admin", "not-the-password"],
    ["an unknown user", "nobody-here", "whatever-password"],
  ])("%s: 401 unauthenticated, the same message either way", async (_what, name, password) => {
    const res = await loginRaw(name, password);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "unauthenticated", message: "wrong user name or password" } });
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  // the limits on failed attempts (per name and address, per address, per name): tests/api/team-login-limits.test.ts

  test.each([
    ["no body fields", {}],
    ["a number for a name", { name: 1, password: "x" }],
  ])("a malformed login body (%s) is 400 invalid_body", async (_what, body) => {
    const r = await api(server.url, "POST", "/api/v1/auth/login", body, freshIp());
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_body");
  });
});

describe("sessions", () => {
  test("logout deletes the session: the cookie stops working and the cookie is cleared", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const me = as(server.url, { cookie });
    expect((await me("GET", "/api/v1/runs")).status).toBe(200);
    const out = await fetch(`${server.url}/api/v1/auth/logout`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^babysit_session=; .*Max-Age=0/);
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE token_hash = ?").get(sessionHash(cookie))).toEqual({ n: 0 });
    const after = await me("GET", "/api/v1/runs");
    expect([after.status, after.body.error.code]).toEqual([401, "unauthenticated"]);
  });

  test("an expired session is refused and its row deleted", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    server.db.prepare("UPDATE sessions SET expires_at = 1 WHERE token_hash = ?").run(sessionHash(cookie));
    const r = await as(server.url, { cookie })("GET", "/api/v1/runs");
    expect([r.status, r.body.error.code]).toEqual([401, "unauthenticated"]);
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE token_hash = ?").get(sessionHash(cookie))).toEqual({ n: 0 });
  });

  test("a login sweeps sessions nobody came back to", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    server.db.prepare("UPDATE sessions SET expires_at = 1 WHERE token_hash = ?").run(sessionHash(cookie));
    await login(server.url, "admin", server.adminPassword, freshIp());
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE expires_at <= ?").get(Date.now() / 1000)).toEqual({ n: 0 });
  });

  test("a session in use slides: its expiry moves 14 days ahead", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const soon = Date.now() / 1000 + 60;
    server.db.prepare("UPDATE sessions SET expires_at = ? WHERE token_hash = ?").run(soon, sessionHash(cookie));
    expect((await as(server.url, { cookie })("GET", "/api/v1/runs")).status).toBe(200);
    const { expires_at } = server.db.prepare("SELECT expires_at FROM sessions WHERE token_hash = ?").get(sessionHash(cookie)) as {
      expires_at: number;
    };
    expect(expires_at).toBeGreaterThan(Date.now() / 1000 + 13 * 86400);
  });
});

describe("invites and passwords", () => {
  test("an invited member logs in with the one-time password, changes it, and every old session ends", async () => {
    const first = await invite("newcomer");
    const cookie = await login(server.url, "newcomer", first, freshIp(), { oneTime: true });
    const me = as(server.url, { cookie });
    expect((await me("GET", "/api/v1/auth/me")).body.user).toEqual({ name: "newcomer", role: "member", passwordChangeRequired: true });
    const tooShort = await me("POST", "/api/v1/auth/password", { current: first, password: "short" });
    expect([tooShort.status, tooShort.body.error.code]).toEqual([400, "invalid_body"]);
    expect((await me("POST", "/api/v1/auth/password", { current: first, password: "my own long password" })).status).toBe(204);
    expect((await me("GET", "/api/v1/runs")).status).toBe(401);
    expect((await loginRaw("newcomer", first)).status).toBe(401);
    expect((await loginRaw("newcomer", "my own long password")).status).toBe(200);
  });

  test.each([
    ["a taken name", "admin", 409, "conflict"],
    ["a name with a space", "two words", 400, "invalid_body"],
    ["an empty name", "", 400, "invalid_body"],
  ])("inviting %s (%j): %i %s", async (_what, name, status, code) => {
    const admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword, freshIp()) });
    const r = await admin("POST", "/api/v1/users", { name });
    expect([r.status, r.body.error.code]).toEqual([status, code]);
  });
});

describe("API keys", () => {
  test("a key is shown once, listed by prefix with its last use, and works until revoked", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const me = as(server.url, { cookie });
    const made = await me("POST", "/api/v1/keys", { name: "trainer", projects: ["vision"], expiresInDays: 30 });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^bsk_[A-Za-z0-9_-]{43}$/);
    expect(made.body.key).toMatchObject({ name: "trainer", access: "write", projects: ["vision"], lastUsedAt: null, revokedAt: null });
    expect(made.body.key.expiresAt - made.body.key.createdAt).toBeCloseTo(30 * 86400, 0);
    const key = as(server.url, { key: made.body.token });
    expect((await key("POST", "/api/v1/runs", { project: "vision" })).status).toBe(201);
    const listed = (await me("GET", "/api/v1/keys")).body.keys.find((k: { id: number }) => k.id === made.body.key.id);
    expect(listed.prefix).toBe(made.body.token.slice(0, 12));
    expect(listed.lastUsedAt).not.toBeNull();
    expect(JSON.stringify((await me("GET", "/api/v1/keys")).body)).not.toContain(made.body.token);
    expect(server.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE token_hash = ?").get(made.body.token)).toEqual({ n: 0 });

    expect((await me("DELETE", `/api/v1/keys/${made.body.key.id}`)).body.key.revokedAt).not.toBeNull();
    const after = await key("POST", "/api/v1/runs", { project: "vision" });
    expect([after.status, after.body.error.code]).toEqual([401, "unauthenticated"]);
  });

  test("a member cannot revoke someone else's key (404), an admin can", async () => {
    const adminCookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const admin = as(server.url, { cookie: adminCookie });
    const made = (await admin("POST", "/api/v1/keys", { name: "admin's" })).body;
    const member = as(server.url, { cookie: await login(server.url, "keeper", await invite("keeper"), freshIp()) });
    const other = await member("DELETE", `/api/v1/keys/${made.key.id}`);
    expect([other.status, other.body.error.code]).toEqual([404, "not_found"]);
    const mine = (await member("POST", "/api/v1/keys", { name: "mine" })).body;
    expect((await admin("DELETE", `/api/v1/keys/${mine.key.id}`)).status).toBe(200);
    expect((await member("GET", "/api/v1/keys")).body.keys.every((k: { user: string }) => k.user === "keeper")).toBe(true);
  });

  test.each([
    ["no name", {}],
    ["an unknown access", { name: "k", access: "admin" }],
    ["projects on a read key", { name: "k", access: "read", projects: ["a"] }],
    ["an empty projects list", { name: "k", projects: [] }],
    ["a zero-day expiry", { name: "k", expiresInDays: 0 }],
    ["a fractional expiry", { name: "k", expiresInDays: 1.5 }],
  ])("a key request with %s is 400 invalid_body and makes no key", async (_what, body) => {
    const me = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword, freshIp()) });
    const before = (server.db.prepare("SELECT COUNT(*) AS n FROM api_keys").get() as { n: number }).n;
    const r = await me("POST", "/api/v1/keys", body);
    expect([r.status, r.body.error.code]).toEqual([400, "invalid_body"]);
    expect((server.db.prepare("SELECT COUNT(*) AS n FROM api_keys").get() as { n: number }).n).toBe(before);
  });
});

describe("pages", () => {
  test.each([
    ["/", "/login?next=%2F"],
    ["/runs/abc", "/login?next=%2Fruns%2Fabc"],
    ["/compare?runs=a,b", "/login?next=%2Fcompare%3Fruns%3Da%2Cb"],
  ])("%s without a session goes to /login (303)", async (path, location) => {
    const r = await fetch(server.url + path, { redirect: "manual" });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe(location);
  });

  test("with a session the dashboard answers; /login and a shared page need none; a key does not open pages", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    expect((await fetch(server.url, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${server.url}/login`)).status).toBe(200);
    const run = (await as(server.url, { cookie })("POST", "/api/v1/runs", { project: "pages" })).body.id;
    const link = (await as(server.url, { cookie })("POST", `/api/v1/runs/${run}/shares`, {})).body;
    expect((await fetch(`${server.url}/share/${link.token}`, { redirect: "manual" })).status).toBe(200);
    const key = (await as(server.url, { cookie })("POST", "/api/v1/keys", { name: "k" })).body.token;
    expect((await fetch(server.url, { headers: { authorization: `Bearer ${key}` }, redirect: "manual" })).status).toBe(303);
  });
});

describe("sockets", () => {
  const open = (opts: { cookie?: string; share?: string }) => {
    const s = connect(server.url, {
      path: SOCKET_PATH,
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      auth: opts.share ? { share: opts.share } : {},
      extraHeaders: opts.cookie ? { cookie: opts.cookie } : {},
    });
    sockets.push(s);
    return new Promise<{ ok: true; s: Socket } | { ok: false; message: string }>((resolve) => {
      s.once("connect", () => resolve({ ok: true, s }));
      s.once("connect_error", (e) => resolve({ ok: false, message: e.message }));
    });
  };

  test("a dashboard socket needs a session; with one it gets live points; a shared page's socket needs none", async () => {
    expect(await open({})).toEqual({ ok: false, message: "unauthenticated" });
    expect(await open({ cookie: "babysit_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" })).toEqual({ ok: false, message: "unauthenticated" });
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const me = as(server.url, { cookie });
    const run = (await me("POST", "/api/v1/runs", { project: "live" })).body.id;
    const opened = await open({ cookie });
    if (!opened.ok) throw new Error(opened.message);
    const got: unknown[] = [];
    opened.s.on("points", (m: unknown) => got.push(m));
    opened.s.emit("subscribe", { run });
    await waitFor(
      async () => {
        await me("POST", `/api/v1/runs/${run}/log`, { seq: got.length + Date.now(), rows: [{ step: 1, metrics: { loss: 1 } }] });
        return got.length > 0;
      },
      10_000,
      "a live point",
    );
    const link = (await me("POST", `/api/v1/runs/${run}/shares`, {})).body.token;
    expect((await open({ share: link })).ok).toBe(true);
  });

  test.each([
    ["logging out", "logout"],
    ["changing the password", "password"],
  ])("%s disconnects the session's live sockets", async (_what, how) => {
    const password = await invite(`live-${how}`);
    const cookie = await login(server.url, `live-${how}`, password, freshIp());
    const opened = await open({ cookie });
    if (!opened.ok) throw new Error(opened.message);
    const gone = new Promise<string>((resolve) => opened.s.once("disconnect", (reason) => resolve(reason)));
    const me = as(server.url, { cookie });
    if (how === "logout") expect((await me("POST", "/api/v1/auth/logout", {})).status).toBe(204);
    else expect((await me("POST", "/api/v1/auth/password", { current: password, password: "a brand new password" })).status).toBe(204);
    expect(await gone).toBe("io server disconnect");
    expect(await open({ cookie })).toEqual({ ok: false, message: "unauthenticated" });
  });
});

describe("starting", () => {
  test("a server on a non-loopback HOST refuses to start until an admin exists, and says how to make one", async () => {
    const dbPath = freshDbPath();
    let failure = "";
    try {
      const s: TestServer = await startServer({ dbPath, env: { HOST: "0.0.0.0" } });
      await s.stop();
    } catch (e) {
      failure = (e as Error).message;
    }
    expect(failure).toContain("server exited early");
    expect(failure).toContain("npm run admin -- create <name>");
    const password = printedPassword(adminCli(dbPath, ["create", "root"]));
    expect(password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(adminCli(dbPath, ["list"])).toContain("admin   root");
  });

  test("the admin CLI: reset-password gives a new one-time password and ends the sessions; bad commands exit 2", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword, freshIp());
    const fresh = printedPassword(adminCli(server.dbPath, ["reset-password", "admin"]));
    expect((await as(server.url, { cookie })("GET", "/api/v1/runs")).status).toBe(401);
    expect((await loginRaw("admin", server.adminPassword)).status).toBe(401);
    expect((await loginRaw("admin", fresh)).status).toBe(200);
    server.adminPassword = fresh;
    for (const args of [["create"], ["create", "admin"], ["create", "x", "--role", "owner"], ["frobnicate"], ["reset-password", "nobody"]]) {
      expect(() => adminCli(server.dbPath, args), args.join(" ")).toThrow(/status 2|exit code 2|Command failed/);
    }
  });

  test("BABYSIT_MODE=team on loopback refuses too; an unknown BABYSIT_MODE stops the server", async () => {
    await expect(startServer({ env: { BABYSIT_MODE: "team" } })).rejects.toThrow(/npm run admin -- create <name>/);
    await expect(startServer({ env: { BABYSIT_MODE: "teams" } })).rejects.toThrow(/BABYSIT_MODE must be "team" or "local"/);
  });
});
