import crypto from "node:crypto";
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { API_ROUTES, matchRoute } from "@/lib/http/routes";
import { pngBase64 } from "../helpers/png";
import { api, waitFor } from "../helpers/server";
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
let targetUser = 0;
/** A sweep of p1 with a space (its trials can be claimed), made by the member. */
let sweepId = "";

beforeAll(async () => {
  server = await startTeamServer();
  const base = server.url;
  const adminCookie = await login(base, "admin", server.adminPassword);
  const admin = as(base, { cookie: adminCookie });
  const invite = await admin("POST", "/api/v1/users", { name: "mia" });
  expect(invite.status).toBe(201);
  const member = as(base, { cookie: await login(base, "mia", invite.body.password) });
  targetUser = (await admin("POST", "/api/v1/users", { name: "target" })).body.user.id;
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
  const sweep = await member("POST", "/api/v1/sweeps", {
    project: "p1",
    name: "search",
    space: { lr: { distribution: "log_uniform", low: 1e-4, high: 1 } },
  });
  expect(sweep.status).toBe(201);
  sweepId = sweep.body.sweep.id;
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
  ["read the checklist", "GET", "/api/v1/runs/RUN/checklist", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read histograms", "GET", "/api/v1/runs/RUN/histograms?key=h", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read images", "GET", "/api/v1/runs/RUN/images?key=i", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read console output", "GET", "/api/v1/runs/RUN/logs", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  [
    "store console lines",
    "POST",
    "/api/v1/runs/RUN/logs",
    () => ({ lines: [{ n: ++seq, stream: "stdout", text: "line" }] }),
    [U, 200, 200, 200, 200, F, F, U, U, U, U, U],
  ],
  ["rename a run", "PATCH", "/api/v1/runs/FRESH", () => ({ name: "renamed" }), [U, 200, 200, 200, 200, F, F, U, U, U, U, U]],
  ["delete a run", "DELETE", "/api/v1/runs/FRESH", () => undefined, [U, 200, 200, F, F, F, F, U, U, U, U, U]],
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
  // the import route takes a file's bytes (application/octet-stream): a JSON body is refused at the
  // gate, before anyone is asked who they are; tests/api/import.test.ts covers who may import
  [
    "import a file sent as JSON",
    "POST",
    "/api/v1/import?project=p1&source=s&path=a.log",
    () => ({}),
    [415, 415, 415, 415, 415, 415, 415, 415, 415, 415, 415, 415],
  ],
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
  ["list account names (give to)", "GET", "/api/v1/users/names", () => undefined, [U, 200, 200, F, F, F, F, U, U, U, U, U]],
  ["list every shared link", "GET", "/api/v1/shares", () => undefined, [U, 200, 200, F, F, F, F, U, U, U, U, U]],
  ["invite", "POST", "/api/v1/users", () => ({ name: `user${++names}` }), [U, F, 201, F, F, F, F, U, U, U, U, U]],
  ["change an account", "PATCH", "/api/v1/users/USER", () => ({ role: "member", disabled: false }), [U, F, 200, F, F, F, F, U, U, U, U, U]],
  ["delete an account that does not exist", "DELETE", "/api/v1/users/999999", () => undefined, [U, F, 404, F, F, F, F, U, U, U, U, U]],
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
  [
    "a shared link's checklist",
    "GET",
    "/api/v1/shares/TOKEN/checklist",
    () => undefined,
    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
  ],
  // sweeps follow the rules of the runs of their project (lib/auth/sweep-access.ts)
  ["list sweeps", "GET", "/api/v1/sweeps", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  [
    "create a sweep in p1",
    "POST",
    "/api/v1/sweeps",
    () => ({ project: "p1", name: `sweep${++names}` }),
    [U, 201, 201, 201, 201, F, F, U, U, U, U, U],
  ],
  ["read a sweep", "GET", "/api/v1/sweeps/SWEEP", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["read a sweep's alerts", "GET", "/api/v1/sweeps/SWEEP/alerts", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
  ["claim a trial of p1's sweep", "POST", "/api/v1/sweeps/SWEEP/trials", () => ({}), [U, 201, 201, 201, 201, F, F, U, U, U, U, U]],
  // allowed, then refused for want of trials with an objective
  ["refine p1's sweep", "POST", "/api/v1/sweeps/SWEEP/refine", () => ({}), [U, 409, 409, 409, 409, F, F, U, U, U, U, U]],
  ["ask whether a run should stop", "GET", "/api/v1/runs/RUN/should-stop", () => undefined, [U, 200, 200, 200, 200, 200, 200, U, U, U, U, U]],
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
      path.replace("RUN", runId).replace("FRESH", fresh).replace("SWEEP", sweepId).replace("TOKEN", shareToken).replace("USER", String(targetUser)),
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
    // a training script without a key reads this too: the key and the SDKs' variable come first
    expect(await msg("nobody")).toBe(
      "send an API key (Authorization: Bearer <key>, BABYSIT_API_KEY in the SDKs) or log in (POST /api/v1/auth/login)",
    );
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
    expect((await callers.get("member")!("GET", "/api/v1/auth/me")).body).toEqual({
      mode: "team",
      user: { name: "mia", role: "member", passwordChangeRequired: false },
      key: null,
    });
    const k = (await callers.get("key: write, in scope")!("GET", "/api/v1/auth/me")).body;
    expect(k.user).toEqual({ name: "mia", role: "member" }); // the key's user's role (a key still never administers)
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

// Run ownership (docs/team-mode.md "Who may do what"): members read and write every run, but only
// a run's owner (or an admin) shares it and administers it (deletes it, revokes any of its links,
// gives it away); a key never shares or administers; a run without an owner is admins' only.
describe("team mode: run routes x (owner, another member, admin, the owner's key)", () => {
  const OWN = ["owner", "other member", "admin", "owner's key"] as const;
  const who = new Map<string, Caller>();
  let nextName = 0;

  beforeAll(async () => {
    const admin = callers.get("admin")!;
    const invite = await admin("POST", "/api/v1/users", { name: "olga" });
    expect(invite.status).toBe(201);
    who.set("owner", callers.get("member")!); // mia
    who.set("other member", as(server.url, { cookie: await login(server.url, "olga", invite.body.password) }));
    who.set("admin", admin);
    who.set("owner's key", callers.get("key: write, all projects")!); // mia's key
  });

  /** A fresh run of mia's (made with her session), or one without an owner (as from before accounts). */
  async function freshRun(owned: boolean): Promise<{ id: string; shareId: number }> {
    const mia = who.get("owner")!;
    const r = await mia("POST", "/api/v1/runs", { project: "p1", name: `owned-${++nextName}` });
    expect(r.status).toBe(201);
    const shareId = (await mia("POST", `/api/v1/runs/${r.body.id}/shares`, { expiresIn: "1d" })).body.id as number;
    if (!owned) server.db.prepare("UPDATE runs SET owner_id = NULL WHERE id = ?").run(r.body.id);
    return { id: r.body.id, shareId };
  }

  // [what, method, path (RUN, SHARE replaced), body, wanted per caller in OWN for mia's run, for a run without an owner]
  const RUN_ROUTES: [string, string, string, unknown, Want[], Want[]][] = [
    ["read the run", "GET", "/api/v1/runs/RUN", undefined, [200, 200, 200, 200], [200, 200, 200, 200]],
    ["log to it", "POST", "/api/v1/runs/RUN/log", { seq: 1, rows: [{ step: 1, metrics: { loss: 1 } }] }, [200, 200, 200, 200], [200, 200, 200, 200]],
    ["finish it", "POST", "/api/v1/runs/RUN/finish", { status: "finished" }, [200, 200, 200, 200], [200, 200, 200, 200]],
    ["rename it", "PATCH", "/api/v1/runs/RUN", { name: "renamed" }, [200, 200, 200, 200], [200, 200, 200, 200]],
    [
      "archive, tag and note it",
      "PATCH",
      "/api/v1/runs/RUN",
      { archived: true, tags: ["t"], notes: "n" },
      [200, 200, 200, 200],
      [200, 200, 200, 200],
    ],
    ["give it to olga", "PATCH", "/api/v1/runs/RUN", { owner: "olga" }, [200, F, 200, F], [F, F, 200, F]],
    ["give it and rename it", "PATCH", "/api/v1/runs/RUN", { owner: "admin", name: "x" }, [200, F, 200, F], [F, F, 200, F]],
    ["give it to nobody known", "PATCH", "/api/v1/runs/RUN", { owner: "no-such-user" }, [400, F, 400, F], [F, F, 400, F]],
    ["delete it", "DELETE", "/api/v1/runs/RUN", undefined, [200, F, 200, F], [F, F, 200, F]],
    ["list its links", "GET", "/api/v1/runs/RUN/shares", undefined, [200, F, 200, F], [F, F, 200, F]],
    ["make a link", "POST", "/api/v1/runs/RUN/shares", { expiresIn: "1d" }, [201, F, 201, F], [F, F, 201, F]],
    ["revoke the owner's link", "DELETE", "/api/v1/runs/RUN/shares/SHARE", undefined, [204, F, 204, F], [204, F, 204, F]],
    ["bulk: delete it", "POST", "/api/v1/runs/bulk", { ids: ["RUN"], action: "delete" }, [200, F, 200, F], [F, F, 200, F]],
    ["bulk: archive it", "POST", "/api/v1/runs/bulk", { ids: ["RUN"], action: "archive" }, [200, 200, 200, F], [200, 200, 200, F]],
    ["bulk: tag it", "POST", "/api/v1/runs/bulk", { ids: ["RUN"], action: "tag", tag: "t" }, [200, 200, 200, F], [200, 200, 200, F]],
  ];
  const OWN_CASES = RUN_ROUTES.flatMap(([what, method, path, body, owned, unowned]) =>
    OWN.flatMap((caller, i) => [
      [what, caller, "mia's run", method, path, body, owned[i]] as const,
      [what, caller, "a run without an owner", method, path, body, unowned[i]] as const,
    ]),
  );

  test.each(OWN_CASES)("%s as %s, %s", async (_what, caller, whose, method, path, body, want) => {
    const run = await freshRun(whose === "mia's run");
    const fill = (s: string) => s.replace("RUN", run.id).replace("SHARE", String(run.shareId));
    const sent = body === undefined ? undefined : JSON.parse(fill(JSON.stringify(body)));
    const r = await who.get(caller)!(method, fill(path), sent);
    if (typeof want === "number") {
      expect(r.status, JSON.stringify(r.body)).toBe(want);
      if (want === 400) expect(r.body.error.code).toBe("invalid_body");
    } else {
      expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: 403, code: want });
      // a refusal changes nothing: the run is there, as it was
      const after = await who.get("admin")!("GET", `/api/v1/runs/${run.id}`);
      expect(after.status).toBe(200);
      expect(after.body.run.name).toMatch(/^owned-/);
      expect(after.body.run.owner).toBe(whose === "mia's run" ? "mia" : null);
    }
  });

  test("a run's owner is whoever made it: a session's user, an API key's user; resuming never changes it", async () => {
    const mia = who.get("owner")!;
    const olga = who.get("other member")!;
    const bySession = (await mia("POST", "/api/v1/runs", { project: "p1", name: "by-session" })).body.id as string;
    const byKey = (await who.get("owner's key")!("POST", "/api/v1/runs", { project: "p1", name: "by-key" })).body.id as string;
    const byAdmin = (await who.get("admin")!("POST", "/api/v1/runs", { project: "p1", name: "by-admin" })).body.id as string;
    for (const [id, owner] of [
      [bySession, "mia"],
      [byKey, "mia"],
      [byAdmin, "admin"],
    ]) {
      expect((await olga("GET", `/api/v1/runs/${id}`)).body.run.owner).toBe(owner);
    }
    const resumed = await olga("POST", "/api/v1/runs", { project: "p1", id: bySession, name: "resumed by olga" });
    expect(resumed.status).toBe(200);
    expect((await olga("GET", `/api/v1/runs/${bySession}`)).body.run).toMatchObject({ name: "resumed by olga", owner: "mia" });
    // the list carries owners, and ?owner= lists one user's runs (the name bound, never SQL text)
    const list = await olga("GET", "/api/v1/runs?owner=mia&limit=1000");
    expect(list.status).toBe(200);
    const ids = list.body.runs.map((r: { id: string }) => r.id);
    expect(ids).toEqual(expect.arrayContaining([bySession, byKey]));
    expect(ids).not.toContain(byAdmin);
    expect(new Set(list.body.runs.map((r: { owner: string }) => r.owner))).toEqual(new Set(["mia"]));
    expect((await olga("GET", "/api/v1/runs?owner=admin&limit=1000")).body.runs.map((r: { id: string }) => r.id)).toContain(byAdmin);
    for (const odd of ["nobody-at-all", "mia' OR 1=1 --", "%", "MIA"]) {
      const r = await olga("GET", `/api/v1/runs?owner=${encodeURIComponent(odd)}`);
      expect([r.status, r.body.runs.length, r.body.total]).toEqual([200, 0, 0]);
    }
  });

  test("the owner gives a run away: the new owner administers it, the old one no longer does", async () => {
    const mia = who.get("owner")!;
    const olga = who.get("other member")!;
    const { id } = await freshRun(true);
    const given = await mia("PATCH", `/api/v1/runs/${id}`, { owner: "olga" });
    expect([given.status, given.body.run.owner]).toEqual([200, "olga"]);
    expect((await mia("GET", `/api/v1/runs?owner=olga&limit=1000`)).body.runs.find((r: { id: string }) => r.id === id)?.owner).toBe("olga");
    const back = await mia("PATCH", `/api/v1/runs/${id}`, { owner: "mia" });
    expect([back.status, back.body.error.code]).toEqual([403, "forbidden"]);
    expect((await mia("GET", `/api/v1/runs/${id}/shares`)).status).toBe(403);
    expect((await olga("GET", `/api/v1/runs/${id}/shares`)).status).toBe(200);
    const del = await mia("DELETE", `/api/v1/runs/${id}`);
    expect([del.status, del.body.error.code]).toEqual([403, "forbidden"]);
    expect((await olga("DELETE", `/api/v1/runs/${id}`)).status).toBe(200);
  });

  test("a deleted account's runs have no owner: admins only share and administer them", async () => {
    const admin = who.get("admin")!;
    const mia = who.get("owner")!;
    const invite = await admin("POST", "/api/v1/users", { name: "leaver" });
    const leaver = as(server.url, { cookie: await login(server.url, "leaver", invite.body.password) });
    const id = (await leaver("POST", "/api/v1/runs", { project: "p1", name: "left behind" })).body.id as string;
    expect((await admin("GET", `/api/v1/runs/${id}`)).body.run.owner).toBe("leaver");
    server.db.pragma("foreign_keys = ON");
    server.db.prepare("DELETE FROM users WHERE name = ?").run("leaver");
    expect((await admin("GET", `/api/v1/runs/${id}`)).body.run.owner).toBeNull();
    expect((await mia("GET", "/api/v1/runs?limit=1000")).body.runs.find((r: { id: string }) => r.id === id)?.owner).toBeNull();
    for (const [method, path, body] of [
      ["POST", `/api/v1/runs/${id}/shares`, { expiresIn: "1d" }],
      ["PATCH", `/api/v1/runs/${id}`, { owner: "mia" }],
      ["DELETE", `/api/v1/runs/${id}`, undefined],
    ] as const) {
      const r = await mia(method, path, body);
      expect([method, r.status, r.body.error?.code]).toEqual([method, 403, "forbidden"]);
    }
    expect((await mia("PATCH", `/api/v1/runs/${id}`, { notes: "still writable" })).status).toBe(200);
    expect((await admin("DELETE", `/api/v1/runs/${id}`)).status).toBe(200);
  });

  test("bulk: one refused run refuses the whole request, names the refused ids (20 at most) and changes nothing", async () => {
    const mia = who.get("owner")!;
    const olga = who.get("other member")!;
    const olgas = (await olga("POST", "/api/v1/runs", { project: "p1", name: "olga's" })).body.id as string;
    const mias: string[] = [];
    for (let i = 0; i < 22; i++) mias.push((await mia("POST", "/api/v1/runs", { project: "p1", name: `mia's ${i}` })).body.id);
    const r = await olga("POST", "/api/v1/runs/bulk", { ids: [olgas, ...mias, "no-such-run"], action: "delete" });
    expect([r.status, r.body.error.code]).toEqual([403, "forbidden"]);
    const message = r.body.error.message as string;
    for (const id of mias.slice(0, 20)) expect(message).toContain(id);
    for (const id of [...mias.slice(20), olgas]) expect(message).not.toContain(id);
    expect(message).toContain("and 2 more");
    for (const id of [olgas, ...mias]) expect((await olga("GET", `/api/v1/runs/${id}`)).status).toBe(200);
    // archiving is writing: every member may, so the same ids pass
    const archived = await olga("POST", "/api/v1/runs/bulk", { ids: [olgas, mias[0]], action: "archive" });
    expect(archived.body.results).toEqual([
      { id: olgas, ok: true },
      { id: mias[0], ok: true },
    ]);
    // and a request of her own runs only goes through, answered per id as before
    const own = await olga("POST", "/api/v1/runs/bulk", { ids: [olgas, "no-such-run"], action: "delete" });
    expect(own.status).toBe(200);
    expect(own.body.results.map((x: { ok: boolean }) => x.ok)).toEqual([true, false]);
  });

  test("a shared link never shows the owner's name: not its API, not its page", async () => {
    const { id } = await freshRun(true);
    const mia = who.get("owner")!;
    const token = (await mia("POST", `/api/v1/runs/${id}/shares`, { expiresIn: "1d" })).body.token as string;
    expect((await mia("GET", `/api/v1/runs/${id}`)).body.run.owner).toBe("mia");
    const shared = await api(server.url, "GET", `/api/v1/shares/${token}`);
    expect(shared.status).toBe(200);
    expect(shared.body.run.name).toMatch(/^owned-/);
    expect(Object.hasOwn(shared.body.run, "owner")).toBe(false);
    const page = await fetch(`${server.url}/share/${token}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(shared.body.run.name);
    expect(html).not.toMatch(/owner\\?"/);
    expect(html).not.toContain("data-owner");
    // (the same checks find the owner on the dashboard's page of the run)
    const dashboard = (await mia("GET", `/runs/${id}`)).body as string;
    expect(dashboard).toMatch(/owner\\?"/);
    expect(dashboard).toContain("data-owner");
  });

  test("a shared link's socket hears the run's changes, but never its owner (a transfer included)", async () => {
    const { id } = await freshRun(true);
    const mia = who.get("owner")!;
    const token = (await mia("POST", `/api/v1/runs/${id}/shares`, { expiresIn: "1d" })).body.token as string;
    const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, auth: { share: token } });
    try {
      const got: Record<string, unknown>[] = [];
      s.on("run", (m: Record<string, unknown>) => got.push(m));
      await new Promise<void>((resolve, reject) => {
        s.once("connect_error", reject);
        s.emit("subscribe", { share: token }, () => resolve());
      });
      expect((await mia("PATCH", `/api/v1/runs/${id}`, { name: "renamed-live", owner: "olga" })).status).toBe(200);
      await waitFor(() => got.some((m) => m.name === "renamed-live"), 10_000, "the run event");
      for (const m of got) expect(Object.hasOwn(m, "owner")).toBe(false);
    } finally {
      s.close();
    }
  });
});
