import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitFor } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// Access is decided when a request's head arrives and again once its body is all here, right
// before anything acts on it: a client may hold a body open up to the request timeout while the
// world changes (the account disabled, deleted or logged out, the password changed, the key
// revoked, the run given away). Each case sends the head and part of the body, makes the change,
// then sends the rest: the answer is the one the request would get if it were sent now, and
// nothing changed.

let server: TeamServer;
let admin: ReturnType<typeof as>;
let n = 0;
const fresh = (what: string) => `${what}${++n}`;

beforeAll(async () => {
  server = await startTeamServer();
  admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
});
afterAll(async () => {
  server.db.close();
  await server.stop();
});

/** A member invited and logged in: its name, id, password, session cookie and client. */
async function member(role: "member" | "admin" = "member") {
  const name = fresh("m");
  const made = await admin("POST", "/api/v1/users", { name, role });
  expect(made.status).toBe(201);
  const cookie = await login(server.url, name, made.body.password);
  return { name, id: made.body.user.id as number, password: made.body.password as string, cookie, api: as(server.url, { cookie }) };
}

/** A write API key of a fresh member: its token, id and the member. */
async function writeKey() {
  const m = await member();
  const k = await m.api("POST", "/api/v1/keys", { name: "k", access: "write" });
  expect(k.status).toBe(201);
  return { token: k.body.token as string, id: k.body.key.id as number, m };
}

/** A run owned by `who` (a cookie client), with one logged point. */
async function runOf(who: ReturnType<typeof as>) {
  const id = fresh("run");
  expect((await who("POST", "/api/v1/runs", { project: "held", id })).status).toBe(201);
  return id;
}

/**
 * Sends a request's head and the first byte of its body on a fresh connection and holds the rest.
 * `finish()` sends the rest and resolves with the answer's status and body.
 */
async function hold(method: string, path: string, body: unknown, auth: { cookie?: string; key?: string }) {
  const bytes = Buffer.from(JSON.stringify(body));
  const headers = [
    `${method} ${path} HTTP/1.1`,
    `host: 127.0.0.1:${server.port}`,
    "content-type: application/json",
    `content-length: ${bytes.length}`,
    "connection: close",
    ...(auth.cookie ? [`cookie: ${auth.cookie}`] : []),
    ...(auth.key ? [`authorization: Bearer ${auth.key}`] : []),
  ];
  const sock = net.connect(server.port, "127.0.0.1");
  const chunks: Buffer[] = [];
  sock.on("data", (c) => chunks.push(c));
  const ended = new Promise<void>((resolve) => sock.on("close", () => resolve()));
  sock.on("error", () => {});
  const received = () => Buffer.concat(chunks).toString("utf8");
  const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
  // Node answers 100 Continue as it hands the request to the server's handler, in the same tick as
  // the first access check: once it is here, the head has been let in (or refused, answered with it)
  sock.write(`${[...headers, "expect: 100-continue"].join("\r\n")}\r\n\r\n`);
  await waitFor(() => received().startsWith(CONTINUE), 10_000, "100 Continue");
  sock.write(bytes.subarray(0, 1));
  // a round trip on another connection: anything the server wrote to this one in that tick has arrived
  expect((await fetch(`${server.url}/api/v1/auth/me`)).status).toBe(200);
  return {
    /** Whatever the server answered so far besides the 100 Continue (nothing while it waits for the body). */
    answered: () => received() !== CONTINUE,
    finish: async () => {
      sock.write(bytes.subarray(1));
      await ended;
      const raw = received().slice(CONTINUE.length);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
      const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
      let text = raw.slice(head.length + 4);
      if (/^transfer-encoding: *chunked/im.test(head)) text = text.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, "");
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status, body: json };
    },
  };
}

interface Case {
  /** What the request does, who sends it, and what changes while its body is held. */
  what: string;
  /** Makes the actors; returns the request to hold, the change, and a check that nothing changed. */
  setup: () => Promise<{
    method: string;
    path: string;
    body: unknown;
    auth: { cookie?: string; key?: string };
    change: () => Promise<void>;
    unchanged: () => Promise<void>;
  }>;
  status: number;
  code: string;
}

const disable = async (id: number) => expect((await admin("PATCH", `/api/v1/users/${id}`, { disabled: true })).status).toBe(200);
const remove = async (id: number) => expect((await admin("DELETE", `/api/v1/users/${id}`)).status).toBe(204);
const noUser = (name: string) => async () => expect(server.db.prepare("SELECT count(*) AS c FROM users WHERE name = ?").get(name)).toEqual({ c: 0 });
const keysOf = (userId: number) => (server.db.prepare("SELECT count(*) AS c FROM api_keys WHERE user_id = ?").get(userId) as { c: number }).c;
const linksOn = (runId: string) => (server.db.prepare("SELECT count(*) AS c FROM shares WHERE run_id = ?").get(runId) as { c: number }).c;
const runRow = (runId: string) =>
  server.db.prepare("SELECT name, archived FROM runs WHERE id = ?").get(runId) as { name: string; archived: number } | undefined;
const giveAway = async (runId: string, to: string) => expect((await admin("PATCH", `/api/v1/runs/${runId}`, { owner: to })).status).toBe(200);

/** A new admin account (the backdoor of the report): POST /api/v1/users by an admin whose standing changes. */
const inviteAs = (change: (a: Awaited<ReturnType<typeof member>>) => Promise<void>) => async () => {
  const a = await member("admin");
  const name = fresh("backdoor");
  return {
    method: "POST",
    path: "/api/v1/users",
    body: { name, role: "admin" },
    auth: { cookie: a.cookie },
    change: () => change(a),
    unchanged: noUser(name),
  };
};

const CASES: Case[] = [
  { what: "an admin invites an admin; the admin is disabled", setup: inviteAs((a) => disable(a.id)), status: 401, code: "unauthenticated" },
  { what: "an admin invites an admin; the admin is deleted", setup: inviteAs((a) => remove(a.id)), status: 401, code: "unauthenticated" },
  {
    what: "an admin invites an admin; the admin logs out",
    setup: inviteAs(async (a) => expect((await a.api("POST", "/api/v1/auth/logout", {})).status).toBe(204)),
    status: 401,
    code: "unauthenticated",
  },
  {
    what: "an admin invites an admin; the admin is made a member",
    setup: inviteAs(async (a) => expect((await admin("PATCH", `/api/v1/users/${a.id}`, { role: "member" })).status).toBe(200)),
    status: 403,
    code: "forbidden",
  },
  {
    what: "an admin makes a member an admin; the admin is disabled",
    setup: async () => {
      const a = await member("admin");
      const target = await member();
      return {
        method: "PATCH",
        path: `/api/v1/users/${target.id}`,
        body: { role: "admin" },
        auth: { cookie: a.cookie },
        change: () => disable(a.id),
        unchanged: async () => expect(server.db.prepare("SELECT role FROM users WHERE id = ?").get(target.id)).toEqual({ role: "member" }),
      };
    },
    status: 401,
    code: "unauthenticated",
  },
  ...(
    [
      [
        "the password is changed",
        (m: Awaited<ReturnType<typeof member>>) => m.api("POST", "/api/v1/auth/password", { current: m.password, password: "a brand new password" }),
      ],
      ["the account is deleted", (m: Awaited<ReturnType<typeof member>>) => admin("DELETE", `/api/v1/users/${m.id}`)],
      ["the account is disabled", (m: Awaited<ReturnType<typeof member>>) => admin("PATCH", `/api/v1/users/${m.id}`, { disabled: true })],
    ] as const
  ).map(
    ([change, act]): Case => ({
      what: `a session makes an API key; ${change}`,
      setup: async () => {
        // the victim's own session, held open by whoever stole it
        const m = await member();
        return {
          method: "POST",
          path: "/api/v1/keys",
          body: { name: "persist", access: "write" },
          auth: { cookie: m.cookie },
          change: async () => expect((await act(m)).status).toBeLessThan(300),
          unchanged: async () => expect(keysOf(m.id)).toBe(0),
        };
      },
      status: 401,
      code: "unauthenticated",
    }),
  ),
  {
    what: "a member creates a run; the account is deleted",
    setup: async () => {
      const m = await member();
      const id = fresh("orphan");
      return {
        method: "POST",
        path: "/api/v1/runs",
        body: { project: "held", id },
        auth: { cookie: m.cookie },
        change: () => remove(m.id),
        unchanged: async () => expect(runRow(id)).toBeUndefined(),
      };
    },
    status: 401,
    code: "unauthenticated",
  },
  {
    what: "a key creates a run; the key is revoked",
    setup: async () => {
      const k = await writeKey();
      const id = fresh("keyrun");
      return {
        method: "POST",
        path: "/api/v1/runs",
        body: { project: "held", id },
        auth: { key: k.token },
        change: async () => expect((await k.m.api("DELETE", `/api/v1/keys/${k.id}`)).status).toBe(200),
        unchanged: async () => expect(runRow(id)).toBeUndefined(),
      };
    },
    status: 401,
    code: "unauthenticated",
  },
  {
    what: "an owner shares a run; the run is given to someone else",
    setup: async () => {
      const owner = await member();
      const other = await member();
      const run = await runOf(owner.api);
      return {
        method: "POST",
        path: `/api/v1/runs/${run}/shares`,
        body: { expiresIn: "never" },
        auth: { cookie: owner.cookie },
        change: () => giveAway(run, other.name),
        unchanged: async () => expect(linksOn(run)).toBe(0),
      };
    },
    status: 403,
    code: "forbidden",
  },
  {
    what: "an owner deletes a run (with a body); the run is given to someone else",
    setup: async () => {
      const owner = await member();
      const other = await member();
      const run = await runOf(owner.api);
      return {
        method: "DELETE",
        path: `/api/v1/runs/${run}`,
        body: {},
        auth: { cookie: owner.cookie },
        change: () => giveAway(run, other.name),
        unchanged: async () => expect(runRow(run)).toBeDefined(),
      };
    },
    status: 403,
    code: "forbidden",
  },
  {
    what: "a member renames a run; the member is disabled",
    setup: async () => {
      const m = await member();
      const run = await runOf(m.api);
      const before = runRow(run);
      return {
        method: "PATCH",
        path: `/api/v1/runs/${run}`,
        body: { name: "renamed-late" },
        auth: { cookie: m.cookie },
        change: () => disable(m.id),
        unchanged: async () => expect(runRow(run)).toEqual(before),
      };
    },
    status: 401,
    code: "unauthenticated",
  },
  {
    what: "a key renames a run; the key is revoked",
    setup: async () => {
      const k = await writeKey();
      const run = await runOf(k.m.api);
      const before = runRow(run);
      return {
        method: "PATCH",
        path: `/api/v1/runs/${run}`,
        body: { name: "renamed-late" },
        auth: { key: k.token },
        change: async () => expect((await k.m.api("DELETE", `/api/v1/keys/${k.id}`)).status).toBe(200),
        unchanged: async () => expect(runRow(run)).toEqual(before),
      };
    },
    status: 401,
    code: "unauthenticated",
  },
  {
    what: "a member archives runs in bulk; the member is deleted",
    setup: async () => {
      const m = await member();
      const run = await runOf(m.api);
      return {
        method: "POST",
        path: "/api/v1/runs/bulk",
        body: { ids: [run], action: "archive" },
        auth: { cookie: m.cookie },
        change: () => remove(m.id),
        unchanged: async () => expect(runRow(run)?.archived).toBe(0),
      };
    },
    status: 401,
    code: "unauthenticated",
  },
  ...(
    [
      ["the key is revoked", "key"],
      ["the key's account is disabled", "disable"],
      ["the session logs out", "logout"],
    ] as const
  ).map(
    ([change, how]): Case => ({
      what: `a log batch; ${change}`,
      setup: async () => {
        const k = await writeKey();
        const run = await runOf(k.m.api);
        // every batch the server took is recorded (its seq), stored or pending
        const batches = () => (server.db.prepare("SELECT count(*) AS c FROM batches WHERE run_id = ?").get(run) as { c: number }).c;
        return {
          method: "POST",
          path: `/api/v1/runs/${run}/log`,
          body: { seq: 1, rows: [{ step: 1, metrics: { loss: 1 } }] },
          auth: how === "logout" ? { cookie: k.m.cookie } : { key: k.token },
          change: async () => {
            const r =
              how === "key"
                ? await k.m.api("DELETE", `/api/v1/keys/${k.id}`)
                : how === "disable"
                  ? await admin("PATCH", `/api/v1/users/${k.m.id}`, { disabled: true })
                  : await k.m.api("POST", "/api/v1/auth/logout", {});
            expect(r.status).toBeLessThan(300);
          },
          unchanged: async () => {
            expect(batches()).toBe(0);
            expect(server.db.prepare("SELECT count(*) AS c FROM series WHERE run_id = ?").get(run)).toEqual({ c: 0 });
          },
        };
      },
      status: 401,
      code: "unauthenticated",
    }),
  ),
];

describe("a request whose body is held open is decided again once the body is here", () => {
  test.each(CASES.map((c) => [c.what, c] as const))("%s", async (_what, c) => {
    const s = await c.setup();
    const held = await hold(s.method, s.path, s.body, s.auth);
    // let in at its head: an early refusal would be here already
    expect(held.answered()).toBe(false);
    await s.change();
    const r = await held.finish();
    expect([r.status, r.body?.error?.code]).toEqual([c.status, c.code]);
    await s.unchanged();
  });

  test("a held body whose sender stays allowed is served as before (201, the principal the route sees is the sender)", async () => {
    const m = await member();
    const held = await hold("POST", "/api/v1/keys", { name: "fine", access: "read" }, { cookie: m.cookie });
    const r = await held.finish();
    expect([r.status, r.body.key.user]).toEqual([201, m.name]);
  });
});

describe("/api/v1/auth/me for an API key", () => {
  test.each(["member", "admin"] as const)("a %s's key: the user's name and role", async (role) => {
    const m = await member(role);
    const k = await m.api("POST", "/api/v1/keys", { name: "k", access: "read" });
    const me = await as(server.url, { key: k.body.token })("GET", "/api/v1/auth/me");
    expect(me.body.user).toEqual({ name: m.name, role });
  });
});
