import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { type TestServer, api, freePort, startServer } from "../helpers/server";

// Requests Node hands to socket.io's 'upgrade' listener or lets through its parser although they are
// not what this server speaks: an offer to switch protocols that is not socket.io's WebSocket
// (`curl --http2` sends Upgrade: h2c) is served as the plain HTTP/1.1 request it also is, on both
// listeners; an HTTP version other than 1.0/1.1 (HTTP/2.0 on an HTTP/1 connection, a request line
// without a version) is refused with 400 bad_request in the envelope.

let server: TestServer;
let sharePort: number;
let runId: string;
let token: string;

beforeAll(async () => {
  sharePort = await freePort();
  server = await startServer({ env: { BABYSIT_SHARE_PORT: String(sharePort) } });
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "upgrades", name: "u" })).body.id;
  token = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`, {})).body.token;
});
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Sends bytes as they are on a fresh connection and reads the one answer (Content-Length framed). */
function send(port: number, raw: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    let got = Buffer.alloc(0);
    const done = () => {
      const text = got.toString("utf8");
      const end = text.indexOf("\r\n\r\n");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (end < 0 || !m) return false;
      const headers = new Map<string, string>();
      for (const l of text.slice(0, end).split("\r\n").slice(1)) {
        const i = l.indexOf(":");
        headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      let body = got.subarray(Buffer.byteLength(text.slice(0, end + 4)));
      if (headers.get("transfer-encoding") === "chunked") {
        const parts: Buffer[] = [];
        for (let at = 0; ; ) {
          const nl = body.indexOf("\r\n", at);
          if (nl < 0) return false;
          const size = Number.parseInt(body.toString("latin1", at, nl), 16);
          if (size === 0) break;
          if (body.length < nl + 2 + size) return false;
          parts.push(body.subarray(nl + 2, nl + 2 + size));
          at = nl + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      } else {
        const length = Number(headers.get("content-length") ?? Number.NaN);
        if (!(body.length >= length)) return false;
        body = body.subarray(0, length);
      }
      sock.destroy();
      resolve({ status: Number(m[1]), headers, body: body.toString("utf8") });
      return true;
    };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${raw.slice(0, 80)}: ${got.toString("latin1").slice(0, 200)}`));
    }, 20_000);
    sock.on("data", (c) => {
      got = Buffer.concat([got, c]);
      if (done()) clearTimeout(timer);
    });
    const closed = () => {
      clearTimeout(timer);
      if (!done()) reject(new Error(`connection closed without an answer to ${raw.slice(0, 80)}: ${got.toString("latin1").slice(0, 200)}`));
    };
    sock.on("end", closed);
    sock.on("error", closed);
    sock.write(raw, "latin1");
  });
}

const H2C = "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n";
const WS = "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
const host = (port: number) => `Host: 127.0.0.1:${port}\r\n`;

describe("an upgrade request that is not socket.io's WebSocket is served as plain HTTP/1.1", () => {
  test.each([
    ["h2c", H2C],
    ["websocket", WS],
    ["an unknown protocol", "Connection: upgrade\r\nUpgrade: foo/2\r\n"],
  ])("GET /api/v1/runs with Upgrade: %s -> 200 and the runs, with the security headers", async (_what, up) => {
    const a = await send(server.port, `GET /api/v1/runs HTTP/1.1\r\n${host(server.port)}${up}\r\n`);
    expect(a.status).toBe(200);
    expect(a.headers.get("x-content-type-options")).toBe("nosniff");
    expect(JSON.stringify(JSON.parse(a.body))).toContain(runId);
  });

  test.each([
    ["h2c", H2C],
    ["websocket", WS],
  ])("POST /log with Upgrade: %s stores the batch and answers", async (_what, up) => {
    const before = (await api(server.url, "GET", `/api/v1/runs/${runId}`)).body.keys.find((k: { key: string }) => k.key === `via_${_what}`);
    expect(before).toBeUndefined();
    const body = JSON.stringify({ seq: Date.now(), rows: [{ step: 1, metrics: { [`via_${_what}`]: 1 } }] });
    const a = await send(
      server.port,
      `POST /api/v1/runs/${runId}/log HTTP/1.1\r\n${host(server.port)}${up}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    expect([a.status, a.body]).toEqual([200, expect.any(String)]);
    const after = await api(server.url, "GET", `/api/v1/runs/${runId}`);
    expect(after.body.keys.find((k: { key: string }) => k.key === `via_${_what}`)?.lastStep).toBe(1);
  });

  test("a socket.io polling handshake with Upgrade: h2c is answered as one", async () => {
    const a = await send(server.port, `GET ${SOCKET_PATH}/?EIO=4&transport=polling HTTP/1.1\r\n${host(server.port)}${H2C}\r\n`);
    expect(a.status).toBe(200);
    expect(a.body.startsWith('0{"sid":')).toBe(true);
  });

  test("the share-only listener: a share's API with Upgrade: h2c -> 200; anything else -> its 404", async () => {
    const shared = await send(sharePort, `GET /api/v1/shares/${token} HTTP/1.1\r\n${host(sharePort)}${H2C}\r\n`);
    expect(shared.status).toBe(200);
    expect(JSON.parse(shared.body)).toEqual((await api(server.url, "GET", `/api/v1/shares/${token}`)).body);
    for (const up of [H2C, WS]) {
      const a = await send(sharePort, `GET /api/v1/runs HTTP/1.1\r\n${host(sharePort)}${up}\r\n`);
      expect([a.status, JSON.parse(a.body)]).toEqual([404, { error: { code: "not_found", message: "this address serves shared links only" } }]);
      expect(a.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test("a keep-alive connection goes on after a served upgrade request", async () => {
    const a = await send(
      server.port,
      `GET /api/v1/runs HTTP/1.1\r\n${host(server.port)}${H2C}\r\nGET /api/v1/runs/${runId} HTTP/1.1\r\n${host(server.port)}Connection: close\r\n\r\n`,
    );
    expect(a.status).toBe(200);
  });
});

/** Sends bytes on a fresh connection and reads every answer until the server closes it: their statuses. */
function sendPipelined(port: number, raw: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the server did not close the connection: ${Buffer.concat(chunks).toString("latin1").slice(0, 300)}`));
    }, 20_000);
    sock.on("data", (c) => chunks.push(c));
    const closed = () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const statuses: number[] = [];
      for (let at = 0; at < all.length; ) {
        const end = all.indexOf("\r\n\r\n", at);
        const head = all.toString("latin1", at, end);
        statuses.push(Number(head.slice(9, 12)));
        let next = end + 4;
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          for (;;) {
            const nl = all.indexOf("\r\n", next);
            const size = Number.parseInt(all.toString("latin1", next, nl), 16);
            next = nl + 2 + size + 2;
            if (size === 0) break;
          }
        } else next += Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        at = next;
      }
      resolve(statuses);
    };
    sock.on("end", closed);
    sock.on("error", closed);
    sock.write(raw, "latin1");
  });
}

describe("requests pipelined behind an upgrade request", () => {
  const then = (port: number) => `GET /api/v1/auth/me HTTP/1.1\r\n${host(port)}Connection: close\r\n\r\n`;
  const log = JSON.stringify({ seq: 1, rows: [{ step: 1, metrics: { pipelined: 1 } }] });
  test.each([
    ["GET with Upgrade: h2c", (p: number) => `GET /api/v1/runs HTTP/1.1\r\n${host(p)}${H2C}\r\n`, [200, 200]],
    ["GET with Upgrade: websocket", (p: number) => `GET /api/v1/runs HTTP/1.1\r\n${host(p)}${WS}\r\n`, [200, 200]],
    ["a page with Upgrade: h2c", (p: number) => `GET /compare HTTP/1.1\r\n${host(p)}${H2C}\r\n`, [200, 200]],
    [
      "POST /log with Upgrade: h2c and a body",
      (p: number) =>
        `POST /api/v1/runs/${runId}/log HTTP/1.1\r\n${host(p)}${H2C}Content-Type: application/json\r\nContent-Length: ${log.length}\r\n\r\n${log}`,
      [200, 200],
    ],
    // RFC 9112 §9.6: nothing after a request that says close is processed; that request is still answered
    [
      "GET with Connection: close, Upgrade",
      (p: number) => `GET /api/v1/runs HTTP/1.1\r\n${host(p)}Connection: close, Upgrade\r\nUpgrade: h2c\r\n\r\n`,
      [200],
    ],
    ["GET with Connection: close", (p: number) => `GET /api/v1/runs HTTP/1.1\r\n${host(p)}Connection: close\r\n\r\n`, [200]],
  ] as const)("%s, then a GET on the same connection -> answers %j", async (_what, first, statuses) => {
    expect(await sendPipelined(server.port, first(server.port) + then(server.port))).toEqual(statuses);
  });
});

describe("an HTTP version other than 1.0/1.1 -> 400 bad_request", () => {
  test.each([
    ["HTTP/2.0 with Host", "GET /api/v1/runs HTTP/2.0\r\nHOST\r\n"],
    ["HTTP/2.0 without Host", "GET /api/v1/runs HTTP/2.0\r\n\r\n"],
    ["no version (HTTP/0.9)", "GET /api/v1/runs\r\n\r\n"],
    ["HTTP/0.9", "GET /api/v1/runs HTTP/0.9\r\n\r\n"],
    ["HTTP/2.0 on a page", "GET / HTTP/2.0\r\nHOST\r\n"],
    ["HTTP/2.0 on socket.io", `GET ${SOCKET_PATH}/?EIO=4&transport=polling HTTP/2.0\r\nHOST\r\n`],
    ["HTTP/2.0 POST /log", "POST /api/v1/runs/RUN/log HTTP/2.0\r\nHOSTContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"],
  ])("%s", async (_what, raw) => {
    const a = await send(server.port, raw.replace("HOST", host(server.port)).replace("RUN", runId));
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).error.code).toBe("bad_request");
    expect(JSON.parse(a.body).error.message).toMatch(/^HTTP\/[0-9.]+ is not served here/);
    expect(a.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("on the share-only listener too", async () => {
    const a = await send(sharePort, `GET /api/v1/shares/${token} HTTP/2.0\r\n${host(sharePort)}\r\n`);
    expect([a.status, JSON.parse(a.body).error.code]).toEqual([400, "bad_request"]);
  });
});
