import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH, type SessionEndReason } from "@/lib/contract/socket";
import { type TeamServer, adminCli, as, login, printedPassword, startTeamServer } from "../helpers/team";

// Team mode's account management: an admin changes roles, disables, enables and deletes accounts
// (PATCH/DELETE /api/v1/users/{id} and the admin CLI), the last enabled admin is kept, and a live
// socket leaves with its session whatever ended it (logout, a new password, expiry, an account
// disabled or deleted, the CLI in another process), hearing why first.

let server: TeamServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  // a trusted proxy: each login comes from its own address, clear of the per-address limit
  server = await startTeamServer({ BABYSIT_TRUST_PROXY: "1" });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  server?.db.close();
  await server?.stop();
});

let ips = 0;
const freshIp = () => ({ "x-forwarded-for": `10.1.${Math.floor(++ips / 250)}.${ips % 250}` });
const loginRaw = (name: string, password: string) =>
  fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...freshIp() },
    body: JSON.stringify({ name, password }),
  });
const admin = async () => as(server.url, { cookie: await login(server.url, "admin", server.adminPassword, freshIp()) });
const idOf = (name: string) => (server.db.prepare("SELECT id FROM users WHERE name = ?").get(name) as { id: number } | undefined)?.id;

let invites = 0;
/** A new account (role as given), logged in: its name, password, cookie and API client. */
async function account(role: "admin" | "member" = "member") {
  const name = `user-${++invites}`;
  const made = await (await admin())("POST", "/api/v1/users", { name, role });
  expect(made.status).toBe(201);
  const password = made.body.password as string;
  const cookie = await login(server.url, name, password, freshIp());
  return { name, id: made.body.user.id as number, password, cookie, me: as(server.url, { cookie }) };
}

type Live = { s: Socket; ended: Promise<{ reason: SessionEndReason | null; disconnect: string }> };
/** A dashboard socket on a session; `ended` settles when the server drops it, with the reason it gave. */
async function openSocket(cookie: string): Promise<Live> {
  const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false, extraHeaders: { cookie } });
  sockets.push(s);
  let reason: SessionEndReason | null = null;
  s.on("session-ended", (m: { reason: SessionEndReason }) => {
    reason = m.reason;
  });
  const ended = new Promise<{ reason: SessionEndReason | null; disconnect: string }>((resolve) =>
    s.once("disconnect", (d) => resolve({ reason, disconnect: d })),
  );
  await new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("connect_error", (e) => reject(e));
  });
  return { s, ended };
}
const refusedSocket = (cookie: string) =>
  openSocket(cookie).then(
    () => "connected",
    (e: Error) => e.message,
  );

describe("the last enabled admin (while it is the only admin)", () => {
  test.each([
    ["demoted", "PATCH", { role: "member" }],
    ["disabled", "PATCH", { disabled: true }],
    ["demoted and disabled at once", "PATCH", { role: "member", disabled: true }],
    ["deleted", "DELETE", undefined],
  ])("cannot be %s: 409 last_admin, nothing changes", async (_what, method, body) => {
    const me = await admin();
    const r = await me(method, `/api/v1/users/${idOf("admin")}`, body);
    expect([r.status, r.body.error.code]).toEqual([409, "last_admin"]);
    expect(r.body.error.message).toMatch(/last enabled admin/);
    expect(server.db.prepare("SELECT role, disabled_at FROM users WHERE name = 'admin'").get()).toEqual({ role: "admin", disabled_at: null });
    expect((await me("GET", "/api/v1/users")).status).toBe(200); // the session lives on
  });

  test("a disabled admin does not count: with the other admin disabled, the last enabled one is still kept", async () => {
    const other = await account("admin");
    const me = await admin();
    expect((await me("PATCH", `/api/v1/users/${other.id}`, { disabled: true })).status).toBe(200);
    const r = await me("PATCH", `/api/v1/users/${idOf("admin")}`, { role: "member" });
    expect([r.status, r.body.error.code]).toEqual([409, "last_admin"]);
    // enabled again, the other admin makes demoting this one possible, and promotes it back
    expect((await me("PATCH", `/api/v1/users/${other.id}`, { disabled: false })).body.user.disabledAt).toBeNull();
    expect((await me("PATCH", `/api/v1/users/${idOf("admin")}`, { role: "member" })).body.user.role).toBe("member");
    expect((await me("GET", "/api/v1/users")).status).toBe(403); // the role is read at each request
    const back = await as(server.url, { cookie: await login(server.url, other.name, other.password, freshIp()) })(
      "PATCH",
      `/api/v1/users/${idOf("admin")}`,
      { role: "admin" },
    );
    expect(back.body.user.role).toBe("admin");
    expect((await me("GET", "/api/v1/users")).status).toBe(200);
  });
});

describe("PATCH and DELETE /api/v1/users/{id}: bad input", () => {
  test.each([
    ["an empty object", {}],
    ["an unknown role", { role: "owner" }],
    ["a string for disabled", { disabled: "yes" }],
    ["null for disabled", { disabled: null }],
    ["an unknown field", { role: "member", name: "renamed" }],
    ["an array", [{ role: "member" }]],
    ["a JSON string", '"member"'],
  ])("%s: 400 invalid_body, the account unchanged", async (_what, body) => {
    const target = await account();
    const before = server.db.prepare("SELECT * FROM users WHERE id = ?").get(target.id);
    const r = await (await admin())("PATCH", `/api/v1/users/${target.id}`, body);
    expect([r.status, r.body.error.code]).toEqual([400, "invalid_body"]);
    expect(server.db.prepare("SELECT * FROM users WHERE id = ?").get(target.id)).toEqual(before);
  });

  test.each([
    ["PATCH", "999999"],
    ["PATCH", "0"],
    ["PATCH", "abc"],
    ["PATCH", "01"],
    ["PATCH", "1e3"],
    ["DELETE", "999999"],
    ["DELETE", "-1"],
    ["DELETE", "99999999999999999999"],
  ])("%s of user %j: 404 not_found", async (method, id) => {
    const r = await (await admin())(method, `/api/v1/users/${id}`, method === "PATCH" ? { role: "member" } : undefined);
    expect([r.status, r.body.error.code]).toEqual([404, "not_found"]);
  });
});

describe("who may manage accounts", () => {
  test("nobody: 401; a member and an admin's API key: 403; nothing changes", async () => {
    const target = await account();
    const member = await account();
    const key = (await (await admin())("POST", "/api/v1/keys", { name: "admin key" })).body.token as string;
    const callers: [string, ReturnType<typeof as>, number, string][] = [
      ["nobody", as(server.url, {}), 401, "unauthenticated"],
      ["a member", member.me, 403, "forbidden"],
      ["an admin's API key", as(server.url, { key }), 403, "forbidden"],
    ];
    for (const [who, call, status, code] of callers) {
      for (const [method, body] of [
        ["PATCH", { disabled: true }],
        ["PATCH", { role: "admin" }],
        ["DELETE", undefined],
      ] as const) {
        const r = await call(method, `/api/v1/users/${target.id}`, body);
        expect({ who, method, status: r.status, code: r.body.error.code }).toEqual({ who, method, status, code });
      }
    }
    expect(server.db.prepare("SELECT role, disabled_at FROM users WHERE id = ?").get(target.id)).toEqual({ role: "member", disabled_at: null });
  });
});

describe("disabling an account", () => {
  test("a run cannot be given to a disabled account (the same 400 as for no account); the owner stays", async () => {
    const giver = await account();
    const taker = await account();
    const run = (await giver.me("POST", "/api/v1/runs", { project: "give", name: "r" })).body.id;
    expect((await (await admin())("PATCH", `/api/v1/users/${taker.id}`, { disabled: true })).status).toBe(200);
    for (const who of [giver.me, await admin()]) {
      const r = await who("PATCH", `/api/v1/runs/${run}`, { owner: taker.name });
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([
        400,
        "invalid_body",
        `owner: no enabled account is named "${taker.name}"`,
      ]);
    }
    expect((await giver.me("GET", `/api/v1/runs/${run}`)).body.run.owner).toBe(giver.name);
  });

  test("ends its sessions and live sockets at once, its keys answer 401 saying why, login says 403 account_disabled; what it made stays; enabling brings it back", async () => {
    const u = await account();
    const run = (await u.me("POST", "/api/v1/runs", { project: "dis", name: "made-by-a-disabled-user" })).body.id as string;
    const key = (await u.me("POST", "/api/v1/keys", { name: "script" })).body.token as string;
    const live = await openSocket(u.cookie);

    const r = await (await admin())("PATCH", `/api/v1/users/${u.id}`, { disabled: true });
    expect(r.status).toBe(200);
    expect(r.body.user).toMatchObject({ name: u.name, role: "member" });
    expect(r.body.user.disabledAt).toBeGreaterThan(0);
    expect(await live.ended).toEqual({ reason: "account_disabled", disconnect: "io server disconnect" });

    const session = await u.me("GET", "/api/v1/runs");
    expect([session.status, session.body.error.code]).toEqual([401, "unauthenticated"]);
    expect(await refusedSocket(u.cookie)).toBe("unauthenticated");
    const byKey = await as(server.url, { key })("POST", `/api/v1/runs/${run}/log`, { seq: 1, rows: [{ step: 1, metrics: { loss: 1 } }] });
    expect([byKey.status, byKey.body.error.code]).toEqual([401, "unauthenticated"]);
    expect(byKey.body.error.message).toMatch(/disabled/);

    const right = await loginRaw(u.name, u.password);
    expect([right.status, (await right.json()).error.code]).toEqual([403, "account_disabled"]);
    expect(right.headers.get("set-cookie")).toBeNull();
    const wrong = await loginRaw(u.name, "not-the-password");
    expect([wrong.status, (await wrong.json()).error]).toEqual([401, { code: "unauthenticated", message: "wrong user name or password" }]);

    const me = await admin();
    expect((await me("GET", `/api/v1/runs/${run}`)).body.run.name).toBe("made-by-a-disabled-user");
    expect((await me("GET", "/api/v1/users")).body.users.find((x: { id: number }) => x.id === u.id).disabledAt).not.toBeNull();

    expect((await me("PATCH", `/api/v1/users/${u.id}`, { disabled: false })).body.user.disabledAt).toBeNull();
    expect((await loginRaw(u.name, u.password)).status).toBe(200);
    expect((await as(server.url, { key })("GET", `/api/v1/runs/${run}`)).status).toBe(200);
  });
});

describe("deleting an account", () => {
  test("removes its sessions and keys and ends its sockets; its runs stay, its links keep the maker's name", async () => {
    const u = await account();
    const run = (await u.me("POST", "/api/v1/runs", { project: "del", name: "made-by-a-deleted-user" })).body.id as string;
    const key = (await u.me("POST", "/api/v1/keys", { name: "script" })).body.token as string;
    expect((await u.me("POST", `/api/v1/runs/${run}/shares`, { expiresIn: "1d" })).status).toBe(201);
    const live = await openSocket(u.cookie);

    const me = await admin();
    const r = await me("DELETE", `/api/v1/users/${u.id}`);
    expect(r.status).toBe(204);
    expect(await live.ended).toEqual({ reason: "account_deleted", disconnect: "io server disconnect" });
    for (const table of ["sessions", "api_keys"]) {
      expect(server.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`).get(u.id)).toEqual({ n: 0 });
    }
    expect((await u.me("GET", "/api/v1/runs")).status).toBe(401);
    const byKey = await as(server.url, { key })("GET", "/api/v1/runs");
    expect([byKey.status, byKey.body.error.code]).toEqual([401, "unauthenticated"]);
    expect((await loginRaw(u.name, u.password)).status).toBe(401);

    expect((await me("GET", `/api/v1/runs/${run}`)).body.run.name).toBe("made-by-a-deleted-user");
    expect((await me("GET", `/api/v1/runs/${run}/shares`)).body.shares.map((s: { createdBy: string }) => s.createdBy)).toEqual([u.name]);
    expect((await me("GET", "/api/v1/users")).body.users.map((x: { name: string }) => x.name)).not.toContain(u.name);
    const again = await me("DELETE", `/api/v1/users/${u.id}`);
    expect([again.status, again.body.error.code]).toEqual([404, "not_found"]);
  });
});

describe("a live socket leaves with its session, whatever ended it", () => {
  // [what ended it, how, the reason the socket hears]
  const CASES: [string, (u: Awaited<ReturnType<typeof account>>) => Promise<unknown>, SessionEndReason][] = [
    ["logout", async (u) => expect((await u.me("POST", "/api/v1/auth/logout", {})).status).toBe(204), "logged_out"],
    [
      "a password change in this session",
      async (u) => expect((await u.me("POST", "/api/v1/auth/password", { current: u.password, password: "a brand new password" })).status).toBe(204),
      "password_changed",
    ],
    [
      "a password change in another browser",
      async (u) => {
        const other = as(server.url, { cookie: await login(server.url, u.name, u.password, freshIp()) });
        expect((await other("POST", "/api/v1/auth/password", { current: u.password, password: "a brand new password" })).status).toBe(204);
      },
      "password_changed",
    ],
    ["expiry", async (u) => server.db.prepare("UPDATE sessions SET expires_at = 1 WHERE user_id = ?").run(u.id), "expired"],
    ["the session deleted by another process", async (u) => server.db.prepare("DELETE FROM sessions WHERE user_id = ?").run(u.id), "ended"],
    ["the admin CLI's reset-password", async (u) => printedPassword(adminCli(server.dbPath, ["reset-password", u.name])), "ended"],
    ["the admin CLI's disable", async (u) => adminCli(server.dbPath, ["disable", u.name]), "account_disabled"],
    ["the admin CLI's delete", async (u) => adminCli(server.dbPath, ["delete", u.name]), "account_deleted"],
    ["an admin disabling the account", async (u) => (await admin())("PATCH", `/api/v1/users/${u.id}`, { disabled: true }), "account_disabled"],
    ["an admin deleting the account", async (u) => (await admin())("DELETE", `/api/v1/users/${u.id}`), "account_deleted"],
  ];

  test.each(CASES)("%s: the socket hears why and is disconnected; the session is refused", async (_what, end, reason) => {
    const u = await account();
    const live = await openSocket(u.cookie);
    await end(u);
    expect(await live.ended).toEqual({ reason, disconnect: "io server disconnect" });
    expect(await refusedSocket(u.cookie)).toBe("unauthenticated");
    expect((await u.me("GET", "/api/v1/runs")).status).toBe(401);
  });

  test("a session that goes on keeps its socket while another session of the user logs out", async () => {
    const u = await account();
    const staying = await openSocket(u.cookie);
    const other = await login(server.url, u.name, u.password, freshIp());
    const leaving = await openSocket(other);
    expect((await as(server.url, { cookie: other })("POST", "/api/v1/auth/logout", {})).status).toBe(204);
    expect(await leaving.ended).toEqual({ reason: "logged_out", disconnect: "io server disconnect" });
    // the periodic check ends only the expired session's socket
    const third = await login(server.url, u.name, u.password, freshIp());
    const expiring = await openSocket(third);
    server.db
      .prepare("UPDATE sessions SET expires_at = 1 WHERE token_hash = (SELECT token_hash FROM sessions WHERE user_id = ? ORDER BY id DESC LIMIT 1)")
      .run(u.id);
    expect((await expiring.ended).reason).toBe("expired");
    expect(staying.s.connected).toBe(true);
    expect((await u.me("GET", "/api/v1/runs")).status).toBe(200);
  });
});

describe("the admin CLI", () => {
  beforeAll(() => {
    // the last-admin cases below need "admin" to be the only enabled admin
    const others = server.db.prepare("SELECT name FROM users WHERE role = 'admin' AND name != 'admin'").all() as { name: string }[];
    for (const { name } of others) adminCli(server.dbPath, ["role", name, "member"]);
  });

  test("role, disable, enable and delete, with the same last-admin rule; list shows who is disabled", async () => {
    const u = await account();
    expect(adminCli(server.dbPath, ["role", u.name, "admin"])).toContain(`${u.name} is now an admin`);
    expect((await u.me("GET", "/api/v1/users")).status).toBe(200);
    expect(adminCli(server.dbPath, ["role", u.name, "member"])).toContain("a member");
    adminCli(server.dbPath, ["disable", u.name]);
    expect(adminCli(server.dbPath, ["list"])).toContain(`member  ${u.name} (disabled)`);
    const refused = await loginRaw(u.name, u.password);
    expect([refused.status, (await refused.json()).error.code]).toEqual([403, "account_disabled"]);
    adminCli(server.dbPath, ["enable", u.name]);
    expect(adminCli(server.dbPath, ["list"])).toMatch(new RegExp(`^member  ${u.name}$`, "m"));
    expect((await loginRaw(u.name, u.password)).status).toBe(200);
    adminCli(server.dbPath, ["delete", u.name]);
    expect(idOf(u.name)).toBeUndefined();
  });

  test.each([
    [["role", "admin", "member"], /last enabled admin/],
    [["disable", "admin"], /last enabled admin/],
    [["delete", "admin"], /last enabled admin/],
    [["role", "nobody-here", "admin"], /no user named nobody-here/],
    [["disable", "nobody-here"], /no user named nobody-here/],
    [["role", "admin"], /usage/],
    [["role", "admin", "owner"], /admin or member/],
    [["enable"], /usage/],
    [["delete", "admin", "extra"], /unexpected arguments/],
  ])("%j exits 2 saying why, and changes nothing", (args, why) => {
    const before = server.db.prepare("SELECT * FROM users ORDER BY id").all();
    let err: (Error & { status?: number; stderr?: string }) | null = null;
    try {
      adminCli(server.dbPath, args);
    } catch (e) {
      err = e as Error & { status?: number; stderr?: string };
    }
    expect(err?.status).toBe(2);
    expect(err?.stderr ?? "").toMatch(why);
    expect(server.db.prepare("SELECT * FROM users ORDER BY id").all()).toEqual(before);
  });
});
