import Database from "better-sqlite3";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { rawRequest } from "../helpers/raw-http";
import { type TestServer, api, freePort, startServer, waitFor } from "../helpers/server";
import { startTeamServer } from "../helpers/team";

// The share-only listener's socket gate must hold whatever transport a socket uses. A long-polling
// socket is made of many short requests, each on a connection that may close right after it (curl,
// a proxy without keep-alive): the gate cannot rely on the handshake's TCP connection, only on
// which listener the handshake came in on.

let server: TestServer;
let sharePort: number;
let runId: string;
let other: string;
const links: Record<"valid" | "revoked" | "expired", string> = { valid: "", revoked: "", expired: "" };
const sockets: Socket[] = [];
const SHARES_ONLY = "this address serves shared links only: give a live link's token";

beforeAll(async () => {
  sharePort = await freePort();
  server = await startServer({ env: { BABYSIT_SHARE_PORT: String(sharePort) } });
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "gate", name: "shared" })).body.id;
  other = (await api(server.url, "POST", "/api/v1/runs", { project: "gate", name: "private" })).body.id;
  const share = async () =>
    (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`, { expiresIn: "1d" })).body as { id: number; token: string };
  links.valid = (await share()).token;
  const revoked = await share();
  expect((await api(server.url, "DELETE", `/api/v1/runs/${runId}/shares/${revoked.id}`)).status).toBeLessThan(300);
  links.revoked = revoked.token;
  const expired = await share();
  const db = new Database(server.dbPath);
  db.pragma("busy_timeout = 5000");
  db.prepare("UPDATE shares SET expires_at = ? WHERE id = ?").run(Math.floor(Date.now() / 1000) - 60, expired.id);
  db.close();
  links.expired = expired.token;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

/** engine.io long-polling by hand, every request on its own connection (closed after it, as curl does). */
class Poller {
  sid = "";
  constructor(private port: number) {}
  private target() {
    return `${SOCKET_PATH}/?EIO=4&transport=polling${this.sid ? `&sid=${this.sid}` : ""}`;
  }
  async open(): Promise<void> {
    const a = await rawRequest(this.port, { method: "GET", target: this.target() });
    expect(a.status).toBe(200);
    this.sid = JSON.parse(a.body.toString("utf8").slice(1)).sid;
  }
  async send(...packets: string[]): Promise<void> {
    const a = await rawRequest(this.port, {
      method: "POST",
      target: this.target(),
      headers: { "content-type": "text/plain" },
      body: packets.join("\x1e"),
    });
    expect(a.status).toBe(200);
  }
  /** One poll: the packets the server had queued (it answers as soon as it has any). */
  async receive(): Promise<string[]> {
    const a = await rawRequest(this.port, { method: "GET", target: this.target() });
    expect(a.status).toBe(200);
    return a.body.toString("utf8").split("\x1e");
  }
}

/** The answer to a socket.io CONNECT ("40", with the handshake's auth), as the client decodes it. */
async function connectByPolling(auth: Record<string, string> | null, port = sharePort): Promise<{ p: Poller; answer: string }> {
  const p = new Poller(port);
  await p.open();
  await p.send(auth ? `40${JSON.stringify(auth)}` : "40");
  const answer = (await p.receive()).find((x) => x.startsWith("4")) ?? "";
  return { p, answer };
}

const authOf = (which: "none" | "revoked" | "expired" | "unknown") =>
  which === "none" ? null : { share: which === "unknown" ? "A".repeat(22) : links[which] };
const codeOf = (which: string) => (which === "expired" ? "share_expired" : "not_found");

describe("a socket on the share-only listener without a live link is refused", () => {
  test.each(["none", "revoked", "expired", "unknown"] as const)("long-polling, connection closed after each request, %s", async (which) => {
    const { answer } = await connectByPolling(authOf(which));
    // 44: CONNECT_ERROR, with the envelope as its data
    expect(answer.slice(0, 2)).toBe("44");
    expect(JSON.parse(answer.slice(2))).toEqual({ message: SHARES_ONLY, data: { error: { code: codeOf(which), message: SHARES_ONLY } } });
  });

  test.each([
    ["websocket", "none"],
    ["websocket", "revoked"],
    ["websocket", "expired"],
    ["websocket", "unknown"],
    ["polling", "none"],
    ["polling", "revoked"],
    ["polling", "expired"],
  ] as const)("socket.io-client over %s, %s: connect_error whose data is the envelope", async (transport, which) => {
    const s = connect(`http://127.0.0.1:${sharePort}`, {
      path: SOCKET_PATH,
      transports: [transport],
      forceNew: true,
      reconnection: false,
      auth: authOf(which) ?? {},
    });
    sockets.push(s);
    const got = await new Promise<{ connected: true } | { message: string; data: unknown }>((resolve) => {
      s.once("connect", () => resolve({ connected: true }));
      s.once("connect_error", (e) => resolve({ message: e.message, data: (e as Error & { data?: unknown }).data }));
    });
    expect(got).toEqual({ message: SHARES_ONLY, data: { error: { code: codeOf(which), message: SHARES_ONLY } } });
  });
});

describe("a socket on the share-only listener with a live link", () => {
  test("long-polling, connection closed after each request: connected, and it gets its run's updates only", async () => {
    const { p, answer } = await connectByPolling({ share: links.valid });
    expect(answer.slice(0, 3)).toBe("40{");
    await p.send('42["subscribe",{"runs":true}]', `42["subscribe",{"run":"${other}"}]`, `42["subscribe",{"share":"${links.valid}"}]`);
    await api(server.url, "POST", `/api/v1/runs/${other}/log`, { seq: 2, rows: [{ step: 1, metrics: { secret: 2 } }] });
    await api(server.url, "POST", "/api/v1/runs", { project: "gate", name: "another" });
    await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 1, rows: [{ step: 99, metrics: { loss: 1 } }] });
    const seen: string[] = [];
    await waitFor(
      async () => {
        seen.push(...(await p.receive()));
        return seen.some((x) => x.startsWith('42["points"') && x.includes(runId));
      },
      15_000,
      "the shared run's points",
    );
    const events = seen.filter((x) => x.startsWith("42"));
    expect(events.filter((x) => !x.includes(runId))).toEqual([]);
    expect(events.join("\n")).not.toContain(other);
  });

  test.each(["websocket", "polling"] as const)("socket.io-client over %s connects", async (transport) => {
    const s = connect(`http://127.0.0.1:${sharePort}`, {
      path: SOCKET_PATH,
      transports: [transport],
      forceNew: true,
      reconnection: false,
      auth: { share: links.valid },
    });
    sockets.push(s);
    await waitFor(() => s.connected, 10_000, "connected");
  });
});

describe("the main listener is not the share listener's gate", () => {
  test("a dashboard socket there needs no link (local mode), over long-polling with closed connections too", async () => {
    const p = new Poller(server.port);
    await p.open();
    await p.send("40");
    expect((await p.receive()).find((x) => x.startsWith("4"))?.slice(0, 3)).toBe("40{");
  });
});

describe("team mode: a refused socket's connect_error carries the envelope too", () => {
  test("no session on the main listener (websocket, polling, polling by hand); no link on the share listener", async () => {
    const port = await freePort();
    const team = await startTeamServer({ BABYSIT_SHARE_PORT: String(port) });
    try {
      for (const transport of ["websocket", "polling"] as const) {
        const s = connect(team.url, { path: SOCKET_PATH, transports: [transport], forceNew: true, reconnection: false });
        sockets.push(s);
        const got = await new Promise<unknown>((resolve) => {
          s.once("connect", () => resolve("connected"));
          s.once("connect_error", (e) => resolve({ message: e.message, data: (e as Error & { data?: unknown }).data }));
        });
        expect(got, transport).toEqual({
          message: "unauthenticated",
          data: { error: { code: "unauthenticated", message: "log in to follow live updates" } },
        });
      }
      const main = await connectByPolling(null, team.port);
      expect(JSON.parse(main.answer.slice(2))).toEqual({
        message: "unauthenticated",
        data: { error: { code: "unauthenticated", message: "log in to follow live updates" } },
      });
      const share = await connectByPolling(null, port);
      expect(JSON.parse(share.answer.slice(2)).data).toEqual({ error: { code: "not_found", message: SHARES_ONLY } });
    } finally {
      team.db.close();
      await team.stop();
    }
  });
});
