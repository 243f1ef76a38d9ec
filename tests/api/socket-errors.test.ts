import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RawRequest, rawRequest } from "../helpers/raw-http";
import { type TestServer, startServer, waitFor } from "../helpers/server";

// socket.io's endpoint refuses malformed handshakes and session requests with babysit's one error
// envelope and a 4xx, like every other path: not engine.io's own {"code":0,"message":...} bodies,
// bare 400/413/500 answers, text/html upgrade refusals, or no answer at all.

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

async function expectEnvelope(r: RawRequest, status: number, code: string) {
  const a = await rawRequest(server.port, r);
  expect({ status: a.status, code: a.json?.error?.code }).toEqual({ status, code });
  expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  expect(a.json).toEqual({ error: { code, message: expect.any(String) } });
  return a;
}

/** A polling session's id, from a real handshake. */
async function pollingSid(): Promise<string> {
  const a = await rawRequest(server.port, { method: "GET", target: "/socket.io/?EIO=4&transport=polling" });
  expect(a.status).toBe(200);
  const text = a.body.toString("utf8");
  return JSON.parse(text.slice(text.indexOf("{"))).sid;
}

const UPGRADE = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };

describe("malformed handshakes -> the envelope", () => {
  const CASES: [string, RawRequest, number, string][] = [
    ["no query at all", { method: "GET", target: "/socket.io/" }, 400, "invalid_query"],
    ["EIO=3 (socket.io 2 clients)", { method: "GET", target: "/socket.io/?EIO=3&transport=polling" }, 400, "invalid_query"],
    ["EIO=5", { method: "GET", target: "/socket.io/?EIO=5&transport=polling" }, 400, "invalid_query"],
    ["EIO not a number", { method: "GET", target: "/socket.io/?EIO=four&transport=polling" }, 400, "invalid_query"],
    ["unknown transport", { method: "GET", target: "/socket.io/?EIO=4&transport=carrier-pigeon" }, 400, "invalid_query"],
    ["webtransport over HTTP/1.1", { method: "GET", target: "/socket.io/?EIO=4&transport=webtransport" }, 400, "invalid_query"],
    ["no transport", { method: "GET", target: "/socket.io/?EIO=4" }, 400, "invalid_query"],
    ["unknown sid", { method: "GET", target: "/socket.io/?EIO=4&transport=polling&sid=nope" }, 400, "invalid_query"],
    ["unknown sid, POST", { method: "POST", target: "/socket.io/?EIO=4&transport=polling&sid=nope", body: "4hello" }, 400, "invalid_query"],
    ["handshake by POST", { method: "POST", target: "/socket.io/?EIO=4&transport=polling", body: "0" }, 405, "method_not_allowed"],
    ["handshake by PUT", { method: "PUT", target: "/socket.io/?EIO=4&transport=polling", body: "0" }, 405, "method_not_allowed"],
    ["websocket without an upgrade", { method: "GET", target: "/socket.io/?EIO=4&transport=websocket" }, 400, "bad_request"],
    ["upgrade, unknown transport", { method: "GET", target: "/socket.io/?EIO=4&transport=carrier-pigeon", headers: UPGRADE }, 400, "invalid_query"],
    ["upgrade, unknown sid", { method: "GET", target: "/socket.io/?EIO=4&transport=websocket&sid=nope", headers: UPGRADE }, 400, "invalid_query"],
    [
      "upgrade without Sec-WebSocket-Key",
      {
        method: "GET",
        target: "/socket.io/?EIO=4&transport=websocket",
        headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": "13" },
      },
      400,
      "bad_request",
    ],
    [
      "upgrade with an unsupported WebSocket version",
      { method: "GET", target: "/socket.io/?EIO=4&transport=websocket", headers: { ...UPGRADE, "sec-websocket-version": "7" } },
      400,
      "bad_request",
    ],
  ];
  test.each(CASES)("%s", async (_name, r, status, code) => {
    const a = await expectEnvelope(r, status, code);
    if (status === 405) expect(a.headers.get("allow")).toMatch(/GET/);
  });
});

describe("requests on an open session -> the envelope", () => {
  test.each([
    ["PUT on a polling session", "PUT", "", {}, 405, "method_not_allowed"],
    ["binary POST (protocol 4 sends text)", "POST", "4hi", { "content-type": "application/octet-stream" }, 400, "bad_request"],
    [
      "POST past the message size limit",
      "POST",
      `4${"x".repeat(1_100_000)}`,
      { "content-type": "text/plain;charset=UTF-8" },
      413,
      "payload_too_large",
    ],
  ] as const)("%s", async (_name, method, body, headers, status, code) => {
    const sid = await pollingSid();
    await expectEnvelope({ method, target: `/socket.io/?EIO=4&transport=polling&sid=${sid}`, body, headers }, status, code);
  });

  test("POST of garbage ends the session; its next request gets the envelope, and the server still serves sockets", async () => {
    const sid = await pollingSid();
    const target = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    await rawRequest(server.port, { method: "POST", target, body: "\u0000\u00ffnot an engine.io packet", headers: { "content-type": "text/plain" } });
    // engine.io closes the session on the packet it cannot parse, before it answers the POST
    await expectEnvelope({ method: "GET", target }, 400, "invalid_query");
    const socket = io(server.url, { transports: ["polling"] });
    try {
      await waitFor(() => socket.connected, 10_000, "a fresh socket.io connection");
    } finally {
      socket.close();
    }
  });

  test("a plain GET naming an open websocket session is answered, not left hanging", async () => {
    const socket = io(server.url, { transports: ["websocket"] });
    try {
      await waitFor(() => socket.connected, 10_000, "a websocket connection");
      const sid = (socket.io.engine as unknown as { id: string }).id;
      await expectEnvelope({ method: "GET", target: `/socket.io/?EIO=4&transport=websocket&sid=${sid}` }, 400, "bad_request");
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });

  test("a good session still works end to end (polling upgraded to websocket)", async () => {
    const socket = io(server.url);
    try {
      await waitFor(() => socket.connected && socket.io.engine.transport.name === "websocket", 10_000, "an upgraded connection");
    } finally {
      socket.close();
    }
  });
});
