import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { API_ROUTES, matchRoute } from "@/lib/http/routes";
import { pngBase64 } from "../helpers/png";
import { api } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// Team mode's permission table, exactly: every route x every kind of caller (nobody, member,
// admin, API keys in and out of scope, read-only, revoked, expired, a shared link's token, unknown
// and expired sessions), with
// the status and error code a client sees. 401 `unauthenticated` says "who are you?", 403
// `forbidden` says "you may not".

let server: TeamServer;
type Caller = ReturnType<typeof as>;
const callers = new Map<string, Caller>();
const bearers = new Map<string, string>();
let runId = "";
let shareToken = "";
/** Passwords, for rows that end a session (logout): member and admin log in afresh for them. */
const passwords = new Map<string, string>();

beforeAll(async () => {
  server = await startTeamServer();
  const base = server.url;
  const adminCookie = await login(base, "admin", server.adminPassword);
  const admin = as(base, { cookie: adminCookie });
  const invite = await admin("POST", "/api/v1/users", { name: "mia" });
  expect(invite.status).toBe(201);
  const member = as(base, { cookie: await login(base, "mia", invite.body.password) });
  runId = (await member("POST", "/api/v1/runs", { project: "p1", name: "r" })).body.id;
  const batch = {
    seq: 0,
    rows: [{ step: 0, metrics: { loss: 1 } }],
    histograms: [{ step: 0, key: "h", edges: [0, 1], counts: [3] }],
    events: [{ type: "image", step: 0, data: { key: "i", width: 1, height: 1, png_base64: pngBase64(1, 1) } }],
  };
  expect((await member("POST", `/api/v1/runs/${runId}/log`, batch)).status).toBe(200);
  passwords.set("member", invite.body.password).set("admin", server.adminPassword);
  shareToken = (await member("POST", `/api/v1/runs/${runId}/shares`, { expiresIn: "1d" })).body.token;
  const key = async (body: object) => {
    const r = await member("POST", "/api/v1/keys", body);
    expect(r.status).toBe(201);
    return r.body as { key: { id: number }; token: string };
  };
  const all = await key({ name: "all" });
  const inScope = await key({ name: "p1 only", projects: ["p1"] });
  const outScope = await key({ name: "p2 only", projects: ["p2"] });
  const read = await key({ name: "read", access: "read" });
  const revoked = await key({ name: "revoked" });
  expect((await member("DELETE", `/api/v1/keys/${revoked.key.id}`)).status).toBe(200);
  const expired = await key({ name: "expired", expiresInDays: 1 });
  server.db.prepare("UPDATE api_keys SET expires_at = 1 WHERE id = ?").run(expired.key.id);

  callers.set("nobody", as(base, {}));
  callers.set("member", member);
  callers.set("admin", admin);
  callers.set("key: write, all projects", as(base, { key: all.token }));
  callers.set("key: write, in scope", as(base, { key: inScope.token }));
  callers.set("key: write, out of scope", as(base, { key: outScope.token }));
  bearers.set("key: write, out of scope", `Bearer ${outScope.token}`);
  callers.set("key: read-only", as(base, { key: read.token }));
  callers.set("key: revoked", as(base, { key: revoked.token }));
  callers.set("key: expired", as(base, { key: expired.token }));
  callers.set("share token as bearer", as(base, { key: shareToken }));
  // a session of mia's past its expiry, put back before each request (the server deletes an expired
  // session's row when it sees it, which would make later requests an unknown session's)
  const expiredSession = crypto.randomBytes(32).toString("base64url");
  const miaId = (server.db.prepare("SELECT id FROM users WHERE name = 'mia'").get() as { id: number }).id;
  const expiredCaller = as(base, { cookie: `babysit_session=${expiredSession}` });
  const hash = crypto.createHash("sha256").update(expiredSession).digest("hex");
  callers.set("session: expired", (method, path, body) => {
    server.db.prepare("DELETE FROM sessions WHERE token_hash = ?").run(hash);
    server.db.prepare("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, 1, 2)").run(hash, miaId);
    return expiredCaller(method, path, body);
  });
  callers.set("unknown session cookie", as(base, { cookie: "babysit_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }));
});
afterAll(async () => {
  server?.db.close();
  await server?.stop();
});

const U = "unauthenticated";
const F = "forbidden";
type Want = number | typeof U | typeof F;
const ORDER = [
  "nobody",
  "member",
  "admin",
  "key: write, all projects",
  "key: write, in scope",
  "key: write, out of scope",
  "key: read-only",
  "key: revoked",
  "key: expired",
  "share token as bearer",
  "unknown session cookie",
  "session: expired",
] as const;

let seq = 0;
let names = 0;
// [what, method, path (RUN, FRESH and TOKEN replaced), body, expected per caller in ORDER]; FRESH is
// a run made for the one request (which may delete or finish it). Every route of the registry
// (lib/http/routes.ts) needs at least one row: a test below fails otherwise.
const ROUTES: [string, string, string, () => unknown, Want[]][] = [
  ["list runs", "GET", "/api/v1/runs", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read a run", "GET", "/api/v1/runs/RUN", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read a series", "GET", "/api/v1/runs/RUN/series?key=loss", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read alerts", "GET", "/api/v1/runs/RUN/alerts", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read histograms", "GET", "/api/v1/runs/RUN/histograms?key=h", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read images", "GET", "/api/v1/runs/RUN/images?key=i", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["rename a run", "PATCH", "/api/v1/runs/FRESH", () => ({ name: "renamed" }), [U, 200, 200, 200, 200, F, F, U, U, U, U, U]],
  ["delete a run", "DELETE", "/api/v1/runs/FRESH", () => undefined, [U, 200, 200, 200, 200, F, F, U, U, U, U, U]],
  ["finish a run", "POST", "/api/v1/runs/FRESH/finish", () => ({}), [U, 200, 200, 200, 200, F, F, U, U, U, U, U]],
  ["archive runs in bulk", "POST", "/api/v1/runs/bulk", () => ({ ids: ["FRESH"], action: "archive" }), [U, 200, 200, F, F, F, F, U, U, U, U, U]],
  [
    "log to a run",
    "POST",
    "/api/v1/runs/RUN/log",
    () => ({ seq: ++seq, rows: [{ step: seq, metrics: { loss: 1 } }] }),
    [U, 200, 200, 200, 200, F, F, U, U, U, U, U],
  ],
  ["create a run in p1", "POST", "/api/v1/runs", () => ({ project: "p1" }), [U, 201, 201, 201, 201, F, F, U, U, U, U, U]],
  ["create a run in p2", "POST", "/api/v1/runs", () => ({ project: "p2" }), [U, 201, 201, 201, F, 201, F, U, U, U, U, U]],
  ["resume p1's run naming p2", "POST", "/api/v1/runs", () => ({ project: "p2", id: runId }), [U, 200, 200, 200, F, F, F, U, U, U, U, U]],
  ["list a run's links", "GET", "/api/v1/runs/RUN/shares", () => undefined, [U, 200, 200, F, F, F, F, U, U, U, U, U]],
  ["make a link", "POST", "/api/v1/runs/RUN/shares", () => ({ expiresIn: "1d" }), [U, 201, 201, F, F, F, F, U, U, U, U, U]],
  ["revoke a link that is not there", "DELETE", "/api/v1/runs/RUN/shares/999999", () => undefined, [U, 404, 404, F, F, F, F, U, U, U, U, U]],
  ["revoke a key that is not there", "DELETE", "/api/v1/keys/999999", () => undefined, [U, 404, 404, F, F, F, F, U, U, U, U, U]],
  ["log in without a name", "POST", "/api/v1/auth/login", () => ({}), [400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400]],
  ["log out (a fresh session)", "POST", "/api/v1/auth/logout", () => ({}), [204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204]],
  ["list API keys", "GET", "/api/v1/keys", () => undefined, [U, 200, 200, F, F, F, F, U, U, U, U, U]],
  ["make an API key", "POST", "/api/v1/keys", () => ({ name: "k" }), [U, 201, 201, F, F, F, F, U, U, U, U, U]],
  ["list accounts", "GET", "/api/v1/users", () => undefined, [U, F, 200, F, F, F, F, U, U, U, U, U]],
  ["list every shared link", "GET", "/api/v1/shares", () => undefined, [U, 200, 200, F, F, F, F, U, U, U, U, U]],
  ["invite", "POST", "/api/v1/users", () => ({ name: `user${++names}` }), [U, F, 201, F, F, F, F, U, U, U, U, U]],
  [
    "change password (wrong current)",
    "POST",
    "/api/v1/auth/password",
    () => ({ current: "x", password: "a-new-password" }),
    [U, F, F, F, F, F, F, U, U, U, U, U],
  ],
  ["who am I", "GET", "/api/v1/auth/me", () => undefined, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
  ["open a shared link", "GET", "/api/v1/shares/TOKEN", () => undefined, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
  [
    "a shared link's series",
    "GET",
    "/api/v1/shares/TOKEN/series?key=loss",
    () => undefined,
    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
  ],
  [
    "a shared link's histograms",
    "GET",
    "/api/v1/shares/TOKEN/histograms?key=h",
    () => undefined,
    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
  ],
  [
    "a shared link's images",
    "GET",
    "/api/v1/shares/TOKEN/images?key=i",
    () => undefined,
    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
  ],
  ["a shared link's alerts", "GET", "/api/v1/shares/TOKEN/alerts", () => undefined, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]],
  ["read a run that does not exist", "GET", "/api/v1/runs/nope", () => undefined, [U, 404, 404, 404, 404, 404, 404, U, U, U, U, U]],
  [
    "log to a run that does not exist",
    "POST",
    "/api/v1/runs/nope/log",
    () => ({ seq: 1, rows: [] }),
    [U, 404, 404, 404, 404, 404, 404, U, U, U, U, U],
  ],
];

const CASES = ROUTES.flatMap(([what, method, path, body, wants]) => ORDER.map((who, i) => [what, who, method, path, body, wants[i]] as const));

test("every route of the registry has a row in the table", () => {
  const covered = new Set(
    ROUTES.map(([, method, path]) => {
      const m = matchRoute(path.split("?", 1)[0].split("/").slice(1));
      return `${method} ${m?.route.path ?? path}`;
    }),
  );
  const missing = API_ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${r.path}`)).filter((r) => !covered.has(r));
  expect(missing).toEqual([]);
  // and every row says what each caller gets (a new column needs a value in every row)
  expect(ROUTES.filter((r) => r[4].length !== ORDER.length).map((r) => r[0])).toEqual([]);
});

/** The caller for a row: member and admin log in afresh for a row that ends the session (logout). */
async function callerFor(who: string, path: string): Promise<Caller> {
  const password = passwords.get(who);
  if (!path.endsWith("/logout") || password === undefined) return callers.get(who)!;
  return as(server.url, { cookie: await login(server.url, who === "member" ? "mia" : "admin", password) });
}

async function freshRun(): Promise<string> {
  const r = await callers.get("member")!("POST", "/api/v1/runs", { project: "p1" });
  expect(r.status).toBe(201);
  return r.body.id;
}

describe("team mode: route x caller", () => {
  test.each(CASES)("%s as %s", async (_what, who, method, path, body, want) => {
    const call = await callerFor(who, path);
    const sent = body();
    const fresh = path.includes("FRESH") || JSON.stringify(sent ?? null).includes("FRESH") ? await freshRun() : "";
    const r = await call(
      method,
      path.replace("RUN", runId).replace("FRESH", fresh).replace("TOKEN", shareToken),
      sent === undefined ? undefined : JSON.parse(JSON.stringify(sent).replaceAll("FRESH", fresh)),
    );
    if (typeof want === "number") {
      expect(r.status, JSON.stringify(r.body)).toBe(want);
    } else {
      expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: want === U ? 401 : 403, code: want });
    }
  });
});

describe("team mode: what the answers say", () => {
  test("a 401 tells a revoked key and an expired key apart from an unknown one", async () => {
    const msg = async (who: string) => (await callers.get(who)!("GET", "/api/v1/runs")).body.error.message as string;
    expect(await msg("key: revoked")).toMatch(/revoked/);
    expect(await msg("key: expired")).toMatch(/expired/);
    expect(await msg("nobody")).toMatch(/log in/);
  });

  test("a forged x-babysit-auth header is dropped: it makes nobody an admin", async () => {
    const forged = Buffer.from(
      JSON.stringify({ mode: "team", principal: { kind: "user", id: 1, name: "admin", role: "admin" }, ip: "x", secure: false }),
    ).toString("base64url");
    const r = await fetch(`${server.url}/api/v1/users`, { headers: { "x-babysit-auth": forged } });
    expect(r.status).toBe(401);
  });

  test("a forged x-babysit-auth header never reaches a route: not on a public route, not beside a key", async () => {
    const forge = (principal: object) => Buffer.from(JSON.stringify({ mode: "team", principal, ip: "x", secure: false })).toString("base64url");
    const asAdmin = forge({ kind: "user", id: 1, name: "admin", role: "admin" });
    const me = await api(server.url, "GET", "/api/v1/auth/me", undefined, { "x-babysit-auth": asAdmin });
    expect(me.body).toEqual({ mode: "team", user: null, key: null });
    const twice = await fetch(`${server.url}/api/v1/auth/me`, {
      headers: [
        ["x-babysit-auth", asAdmin],
        ["X-Babysit-Auth", asAdmin],
      ],
    });
    expect((await twice.json()).user).toBeNull();
    // a key limited to p2 writing to p1 while claiming to be the local user
    const outOfScope = callers.get("key: write, out of scope")!;
    const key = (await outOfScope("GET", "/api/v1/auth/me")).body.key;
    expect(key.projects).toEqual(["p2"]);
    const r = await fetch(`${server.url}/api/v1/runs`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-babysit-auth": forge({ kind: "local" }),
        authorization: bearers.get("key: write, out of scope")!,
      },
      body: JSON.stringify({ project: "p1" }),
    });
    expect(r.status).toBe(403);
  });

  test("who am I names the user, or the key's user and scope", async () => {
    expect((await callers.get("member")!("GET", "/api/v1/auth/me")).body).toEqual({ mode: "team", user: { name: "mia", role: "member" }, key: null });
    const k = (await callers.get("key: write, in scope")!("GET", "/api/v1/auth/me")).body;
    expect(k.user).toEqual({ name: "mia", role: null });
    expect(k.key).toMatchObject({ access: "write", projects: ["p1"] });
    expect((await callers.get("nobody")!("GET", "/api/v1/auth/me")).body).toEqual({ mode: "team", user: null, key: null });
  });

  test("a link is revoked by whoever made it or an admin; another member gets 403 forbidden", async () => {
    const admin = callers.get("admin")!;
    const mia = callers.get("member")!;
    const invite = await admin("POST", "/api/v1/users", { name: "noah" });
    const noah = as(server.url, { cookie: await login(server.url, "noah", invite.body.password) });
    const make = async () => (await mia("POST", `/api/v1/runs/${runId}/shares`, { expiresIn: "1d" })).body.id as number;
    const [first, second] = [await make(), await make()];
    const byNoah = await noah("DELETE", `/api/v1/runs/${runId}/shares/${first}`);
    expect([byNoah.status, byNoah.body.error.code]).toEqual([403, "forbidden"]);
    expect((await mia("DELETE", `/api/v1/runs/${runId}/shares/${first}`)).status).toBe(204);
    expect((await admin("DELETE", `/api/v1/runs/${runId}/shares/${second}`)).status).toBe(204);
    const ids = (await mia("GET", `/api/v1/runs/${runId}/shares`)).body.shares.map((s: { id: number }) => s.id);
    expect(ids).not.toContain(first);
    expect(ids).not.toContain(second);
  });

  test("a link made by a member says who made it", async () => {
    const list = await callers.get("member")!("GET", `/api/v1/runs/${runId}/shares`);
    expect(list.body.shares[0].createdBy).toBe("mia");
  });
});
