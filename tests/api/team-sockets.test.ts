import crypto from "node:crypto";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type PointsPayload, SOCKET_PATH } from "@/lib/contract/socket";
import { waitFor } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// Live updates on a team server: who may open a socket and what it may follow. A dashboard socket
// needs a session of this server's own origin; an API key or a shared link's token is no session;
// a shared page's socket follows its own link only; a socket's subscriptions are asked of the
// permissions each time, so a session that ended follows nothing new.

let server: TeamServer;
let admin: ReturnType<typeof as>;
let adminCookie: string;
let runA: string;
let runB: string;
let shareA: string;
let apiKey: string;
const sockets: Socket[] = [];
let seq = 1;

beforeAll(async () => {
  server = await startTeamServer();
  adminCookie = await login(server.url, "admin", server.adminPassword);
  admin = as(server.url, { cookie: adminCookie });
  runA = (await admin("POST", "/api/v1/runs", { project: "p1", name: "a" })).body.id;
  runB = (await admin("POST", "/api/v1/runs", { project: "p2", name: "b" })).body.id;
  shareA = (await admin("POST", `/api/v1/runs/${runA}/shares`, { expiresIn: "1d" })).body.token;
  apiKey = (await admin("POST", "/api/v1/keys", { name: "socket" })).body.token;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  server?.db.close();
  await server?.stop();
});

type Opened = { ok: true; s: Socket } | { ok: false; message: string };

function open(
  opts: {
    headers?: Record<string, string>;
    auth?: Record<string, unknown>;
    query?: Record<string, string>;
    transport?: "websocket" | "polling";
  } = {},
): Promise<Opened> {
  const s = connect(server.url, {
    path: SOCKET_PATH,
    transports: [opts.transport ?? "websocket"],
    forceNew: true,
    reconnection: false,
    auth: opts.auth ?? {},
    query: opts.query ?? {},
    extraHeaders: opts.headers ?? {},
  });
  sockets.push(s);
  return new Promise((resolve) => {
    s.once("connect", () => resolve({ ok: true, s }));
    s.once("connect_error", (e) => resolve({ ok: false, message: e.message }));
  });
}

async function opened(opts: Parameters<typeof open>[0]): Promise<Socket> {
  const o = await open(opts);
  if (!o.ok) throw new Error(o.message);
  return o.s;
}

const log = (run: string, key = "loss") => admin("POST", `/api/v1/runs/${run}/log`, { seq: seq++, rows: [{ step: seq, metrics: { [key]: 1 } }] });

/** Everything a socket hears, by event. */
function listen(s: Socket) {
  const heard: { event: string; runId?: string; key?: string }[] = [];
  s.onAny((event: string, msg: PointsPayload & { id?: string }) =>
    heard.push({ event, runId: msg?.runId ?? msg?.id, key: event === "points" ? Object.keys(msg.series ?? {})[0] : undefined }),
  );
  return heard;
}

describe("who may open a socket", () => {
  test.each([
    ["another site", { origin: "http://evil.example" }],
    ["another port of this host", () => ({ origin: `http://127.0.0.1:${server.port + 1}` })],
    ["another loopback name", () => ({ origin: `http://localhost:${server.port}` })],
  ] as const)("a page of %s, with a valid session cookie: refused (websocket and polling)", async (_what, origin) => {
    const headers = { cookie: adminCookie, ...(typeof origin === "function" ? origin() : origin) };
    for (const transport of ["websocket", "polling"] as const) {
      const o = await open({ headers, transport });
      expect(o.ok, transport).toBe(false);
    }
  });

  test("this server's own origin with a session: connected", async () => {
    expect((await open({ headers: { cookie: adminCookie, origin: server.url } })).ok).toBe(true);
  });

  test.each([
    ["Authorization: Bearer", () => ({ headers: { authorization: `Bearer ${apiKey}` } })],
    ["the session cookie", () => ({ headers: { cookie: `babysit_session=${apiKey}` } })],
    ["handshake auth", () => ({ auth: { key: apiKey, token: apiKey, apiKey } })],
    ["the query", () => ({ query: { key: apiKey, token: apiKey } })],
  ] as const)("an API key as %s opens no socket (keys are for scripts, which do not follow live updates)", async (_how, opts) => {
    expect(await open(opts())).toEqual({ ok: false, message: "unauthenticated" });
  });

  test.each([
    ["Authorization: Bearer", () => ({ headers: { authorization: `Bearer ${shareA}` } })],
    ["the session cookie", () => ({ headers: { cookie: `babysit_session=${shareA}` } })],
    ["the query", () => ({ query: { share: shareA, token: shareA } })],
  ] as const)("a shared link's token as %s is no session: refused", async (_how, opts) => {
    expect(await open(opts())).toEqual({ ok: false, message: "unauthenticated" });
  });
});

describe("what a socket may follow", () => {
  test("a shared page's socket (auth.share) follows its own run only: not another run, not the runs list", async () => {
    const s = await opened({ auth: { share: shareA } });
    const heard = listen(s);
    s.emit("subscribe", { run: runB });
    s.emit("subscribe", { runs: true });
    s.emit("subscribe", { share: shareA });
    await waitFor(async () => {
      await log(runA);
      return heard.some((h) => h.event === "points" && h.runId === runA);
    });
    await log(runB, "secret");
    await admin("POST", "/api/v1/runs", { project: "p2", name: "new-one" });
    await log(runA, "last");
    await waitFor(() => heard.some((h) => h.key === "last"), 10_000, "run A's last point");
    expect(heard.filter((h) => h.runId !== runA)).toEqual([]);
  });

  test.each(["revoked", "unknown"] as const)("a socket naming a %s link is refused at connect, told why", async (which) => {
    let token = crypto.randomBytes(16).toString("base64url");
    if (which === "revoked") {
      const made = (await admin("POST", `/api/v1/runs/${runA}/shares`, { expiresIn: "1d" })).body;
      expect((await admin("DELETE", `/api/v1/runs/${runA}/shares/${made.id}`)).status).toBe(204);
      token = made.token;
    }
    for (const transport of ["websocket", "polling"] as const) {
      const s = connect(server.url, { path: SOCKET_PATH, transports: [transport], forceNew: true, reconnection: false, auth: { share: token } });
      sockets.push(s);
      const refused = await new Promise<{ connected: boolean; code?: unknown }>((resolve) => {
        s.once("connect", () => resolve({ connected: true }));
        s.once("connect_error", (e: Error & { data?: { error?: { code?: unknown } } }) => resolve({ connected: false, code: e.data?.error?.code }));
      });
      // the page reads this code as "the link was revoked" (app/_components/live.ts)
      expect(refused, transport).toEqual({ connected: false, code: "not_found" });
    }
  });

  test("a dashboard socket whose session has ended follows nothing new (what it already followed is unchanged)", async () => {
    const cookie = await login(server.url, "admin", server.adminPassword);
    const s = await opened({ headers: { cookie } });
    const heard = listen(s);
    await new Promise<void>((resolve) => s.emit("subscribe", { run: runA }, () => resolve()));
    const hash = crypto.createHash("sha256").update(cookie.split("=")[1]).digest("hex");
    server.db.prepare("UPDATE sessions SET expires_at = 1 WHERE token_hash = ?").run(hash);
    await new Promise<void>((resolve) => s.emit("subscribe", { run: runB, runs: true }, () => resolve()));
    // B's point and a new run are sent before A's: on one connection they would arrive first
    await log(runB, "b-point");
    await admin("POST", "/api/v1/runs", { project: "p2", name: "after-expiry" });
    await log(runA, "a-point");
    await waitFor(() => heard.some((h) => h.key === "a-point"), 10_000, "run A's point");
    expect(heard.filter((h) => h.runId !== runA)).toEqual([]);
  });

  test("a live session's socket follows any run it may read and the runs list", async () => {
    const s = await opened({ headers: { cookie: adminCookie } });
    const heard = listen(s);
    await new Promise<void>((resolve) => s.emit("subscribe", { run: runB, runs: true }, () => resolve()));
    await log(runB, "b-live");
    await admin("POST", "/api/v1/runs", { project: "p2", name: "listed" });
    await waitFor(() => heard.some((h) => h.key === "b-live") && heard.some((h) => h.event !== "points"), 10_000, "B's point and the new run");
  });
});
