import os from "node:os";
import { io as connect } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { API_ROUTES } from "@/lib/http/routes";
import { dbFingerprint } from "../helpers/db-fingerprint";
import { type RawAnswer, type RawRequest, rawRequest } from "../helpers/raw-http";
import { login, startTeamServer } from "../helpers/team";
import { type TestServer, api, startServer } from "../helpers/server";

// Local mode (docs/security.md): no login, but no other web page gets in. Every write needs
// Content-Type: application/json and must not come from another origin; every request, page,
// API or socket, must name this server in its Host header; no answer lets another origin read it.

let server: TestServer;
let runId: string;
let token: string;

beforeAll(async () => {
  server = await startServer();
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "local", name: "r" })).body.id;
  await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 0, rows: [{ step: 0, metrics: { a: 1 } }] });
  token = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`)).body.token;
});
afterAll(async () => {
  await server?.stop();
});

const own = () => `http://127.0.0.1:${server.port}`;

/** Every write the API has, with its path parameters filled with this test's run and share. */
function writes(): [string, string, string][] {
  const bodies: Record<string, string> = {
    "/api/v1/runs": '{"project":"local-x"}',
    "/api/v1/runs/[id]/log": '{"seq":9,"rows":[{"step":1,"metrics":{"a":"NaN"}}]}',
    "/api/v1/runs/[id]/finish": '{"status":"finished"}',
  };
  return API_ROUTES.flatMap((r) =>
    r.methods
      .filter((m) => m !== "GET")
      .map((m): [string, string, string] => [
        m,
        r.path
          .replace("[id]", runId)
          .replace("[token]", token)
          .replace(/\[[a-zA-Z]+\]/g, "x"),
        bodies[r.path] ?? "{}",
      ]),
  );
}

async function expectRefused(r: RawRequest, status: number, code: string): Promise<RawAnswer> {
  const before = dbFingerprint(server.dbPath);
  const a = await rawRequest(server.port, r);
  expect({ status: a.status, code: a.json?.error?.code }).toEqual({ status, code });
  expect(a.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(dbFingerprint(server.dbPath)).toBe(before);
  return a;
}

describe("every write needs Content-Type: application/json -> 415 unsupported_media_type", () => {
  const TYPES: [string, Record<string, string>][] = [
    ["no Content-Type", {}],
    ["text/plain (fetch's default for a string, sendBeacon's)", { "content-type": "text/plain;charset=UTF-8" }],
    ["a form's type", { "content-type": "application/x-www-form-urlencoded" }],
    ["a multipart form's type", { "content-type": "multipart/form-data; boundary=x" }],
  ];
  test("the table covers every write route", () => {
    expect(writes().map(([m]) => m)).toEqual(expect.arrayContaining(["POST", "DELETE"]));
    expect(writes().length).toBe(API_ROUTES.flatMap((r) => r.methods.filter((m) => m !== "GET")).length);
  });
  test.each(TYPES.flatMap(([what, headers]) => writes().map(([m, p, body]) => [m, p, what, headers, body] as const)))(
    "%s %s with %s",
    async (method, target, _what, headers, body) => {
      await expectRefused({ method, target, headers, body }, 415, "unsupported_media_type");
    },
  );
  test("an empty-bodied write with the type is accepted (POST .../shares, DELETE .../shares/<id>)", async () => {
    const made = await rawRequest(server.port, {
      method: "POST",
      target: `/api/v1/runs/${runId}/shares`,
      headers: { "content-type": "application/json" },
    });
    expect(made.status).toBe(201);
    const gone = await rawRequest(server.port, {
      method: "DELETE",
      target: `/api/v1/runs/${runId}/shares/${made.json.id}`,
      headers: { "content-type": "application/json" },
    });
    expect(gone.status).toBe(204);
  });
});

describe("a write from another origin -> 403 cross_origin, whatever its type", () => {
  const FROM: [string, (port: number) => Record<string, string>][] = [
    ["another port of the same host", (p) => ({ origin: `http://127.0.0.1:${p + 1}`, "sec-fetch-site": "same-site" })],
    ["another site", () => ({ origin: "http://evil.example", "sec-fetch-site": "cross-site" })],
    ["another site, Origin only", () => ({ origin: "http://evil.example" })],
    ["another loopback name", (p) => ({ origin: `http://localhost:${p}` })],
    ["a sandboxed frame (Origin: null)", () => ({ origin: "null" })],
    ["Sec-Fetch-Site cross-site only", () => ({ "sec-fetch-site": "cross-site" })],
    ["https on this host and port", (p) => ({ origin: `https://127.0.0.1:${p}` })],
  ];
  test.each(FROM.flatMap(([what, headers]) => writes().map(([m, p, body]) => [m, p, what, headers, body] as const)))(
    "%s %s from %s",
    async (method, target, _what, headers, body) => {
      await expectRefused({ method, target, headers: { ...headers(server.port), "content-type": "application/json" }, body }, 403, "cross_origin");
    },
  );

  test("this server's own pages may write (Origin is its own, Sec-Fetch-Site same-origin)", async () => {
    const a = await rawRequest(server.port, {
      method: "POST",
      target: "/api/v1/runs",
      headers: { origin: own(), "sec-fetch-site": "same-origin", "content-type": "application/json" },
      body: '{"project":"local","name":"from-own-page"}',
    });
    expect(a.status).toBe(201);
  });
});

test.each([["/share/TOKEN"], ["/runs/RUN"], ["/"]])(
  "following a link to %s from another site (a shared link in a chat) opens it: reads are never refused for their origin",
  async (target) => {
    const a = await rawRequest(server.port, {
      method: "GET",
      target: target.replace("RUN", runId).replace("TOKEN", token),
      headers: { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", referer: "https://chat.example/" },
    });
    expect(a.status).toBe(200);
  },
);

describe("Host must name this server -> 421 unknown_host (DNS rebinding)", () => {
  const TARGETS: [string, string][] = [
    ["GET", "/"],
    ["GET", "/runs/RUN"],
    ["GET", "/share/TOKEN"],
    ["GET", "/compare?ids=RUN"],
    ["GET", "/api/v1/runs"],
    ["GET", "/api/v1/runs/RUN"],
    ["GET", "/api/v1/shares/TOKEN"],
    ["GET", "/_next/static/nothing.js"],
    ["POST", "/api/v1/runs/RUN/log"],
    ["POST", "/api/v1/runs/RUN/finish"],
    ["GET", `${SOCKET_PATH}/?EIO=4&transport=polling`],
  ];
  test.each(TARGETS.flatMap(([m, t]) => ["evil.example", "evil.example:PORT", "localhost.evil.example"].map((h) => [m, t, h] as const)))(
    "%s %s with Host: %s",
    async (method, target, host) => {
      await expectRefused(
        {
          method,
          target: target.replaceAll("RUN", runId).replaceAll("TOKEN", token),
          headers: { host: host.replace("PORT", String(server.port)), "content-type": "application/json" },
          body: method === "POST" ? '{"seq":10,"rows":[{"step":2,"metrics":{"a":1}}]}' : undefined,
        },
        421,
        "unknown_host",
      );
    },
  );

  test.each([["localhost:PORT"], ["127.0.0.1:PORT"], ["[::1]:PORT"], ["babysit.localhost:PORT"]])("Host: %s is served", async (host) => {
    const a = await rawRequest(server.port, { method: "GET", target: "/api/v1/runs", headers: { host: host.replace("PORT", String(server.port)) } });
    expect(a.status).toBe(200);
  });

  test("a WebSocket handshake with a foreign Host gets the 421 envelope and no socket", async () => {
    const a = await rawRequest(server.port, {
      method: "GET",
      target: `${SOCKET_PATH}/?EIO=4&transport=websocket`,
      headers: {
        host: "evil.example",
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    expect({ status: a.status, body: a.json }).toEqual({ status: 421, body: { error: { code: "unknown_host", message: expect.any(String) } } });
  });
});

describe("socket.io from another origin gets no socket", () => {
  test.each([["websocket"], ["polling"]])("%s from http://evil.example: connect_error, never connected", async (transport) => {
    const s = connect(server.url, {
      path: SOCKET_PATH,
      transports: [transport],
      forceNew: true,
      reconnection: false,
      extraHeaders: { origin: "http://evil.example" },
    });
    try {
      const outcome = await new Promise<string>((resolve) => {
        s.once("connect", () => resolve("connected"));
        s.once("connect_error", () => resolve("refused"));
      });
      expect(outcome).toBe("refused");
    } finally {
      s.close();
    }
  });

  test("a WebSocket handshake from another origin gets the 403 envelope", async () => {
    const a = await rawRequest(server.port, {
      method: "GET",
      target: `${SOCKET_PATH}/?EIO=4&transport=websocket`,
      headers: {
        origin: "http://evil.example",
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      },
    });
    expect({ status: a.status, body: a.json }).toEqual({ status: 403, body: { error: { code: "cross_origin", message: expect.any(String) } } });
  });

  test("a polling handshake from another origin gets the 403 envelope; from its own origin, a session", async () => {
    const target = `${SOCKET_PATH}/?EIO=4&transport=polling`;
    await expectRefused({ method: "GET", target, headers: { origin: "http://evil.example" } }, 403, "cross_origin");
    const ok = await rawRequest(server.port, { method: "GET", target, headers: { origin: own() } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString("utf8").slice(1)).sid).toEqual(expect.any(String));
  });
});

describe("nothing lets another origin read an answer", () => {
  test.each([["/api/v1/runs"], ["/api/v1/runs/RUN"], ["/api/v1/runs/RUN/shares"], ["/api/v1/shares/TOKEN"], ["/"]])(
    "GET %s with a foreign Origin: no CORS headers",
    async (target) => {
      const a = await rawRequest(server.port, {
        method: "GET",
        target: target.replace("RUN", runId).replace("TOKEN", token),
        headers: { origin: "http://evil.example" },
      });
      expect(a.status).toBe(200);
      expect([...a.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
      expect(a.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    },
  );

  test.each(writes())("a preflight for %s %s is granted nothing", async (_method, target) => {
    const a = await rawRequest(server.port, {
      method: "OPTIONS",
      target,
      headers: { origin: "http://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect([...a.headers.keys()].filter((h) => h.startsWith("access-control-"))).toEqual([]);
  });
});

describe("security headers on every answer", () => {
  const COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
  };
  test.each<[string, RawRequest]>([
    ["the runs list page", { method: "GET", target: "/" }],
    ["a run page", { method: "GET", target: "/runs/RUN" }],
    ["a shared page", { method: "GET", target: "/share/TOKEN" }],
    ["a missing page (404)", { method: "GET", target: "/no-such-page" }],
    ["an API answer", { method: "GET", target: "/api/v1/runs" }],
    [
      "the ingest fast path",
      { method: "POST", target: "/api/v1/runs/RUN/log", headers: { "content-type": "application/json" }, body: '{"seq":11,"rows":[]}' },
    ],
    ["a front-gate refusal", { method: "GET", target: "/api/v1/nope" }],
    ["a refused write", { method: "POST", target: "/api/v1/runs" }],
    ["a refused Host", { method: "GET", target: "/", headers: { host: "evil.example" } }],
    ["Node's parser refusing a request", { method: "GET", target: "/api/v1/runs", headers: { "bad name": "x" } }],
    [
      "an unknown Expect (417)",
      { method: "POST", target: "/api/v1/runs", headers: { expect: "teapot", "content-type": "application/json" }, body: "{}" },
    ],
    ["CONNECT (405)", { method: "CONNECT", target: "127.0.0.1:1" }],
    ["a socket.io polling answer", { method: "GET", target: `${SOCKET_PATH}/?EIO=4&transport=polling` }],
  ])("%s", async (_what, r) => {
    const a = await rawRequest(server.port, { ...r, target: r.target.replace("RUN", runId).replace("TOKEN", token) });
    for (const [name, value] of Object.entries(COMMON)) expect(a.headers.get(name), name).toBe(value);
    if (!r.target.startsWith(SOCKET_PATH)) expect(a.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
  });

  test("a page's scripts all carry the nonce of its CSP, which changes with every answer", async () => {
    const nonces: string[] = [];
    for (let i = 0; i < 2; i++) {
      const a = await rawRequest(server.port, { method: "GET", target: `/runs/${runId}` });
      const csp = a.headers.get("content-security-policy") ?? "";
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+'(;|$)/);
      expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)![1];
      nonces.push(nonce);
      const scripts = [...a.body.toString("utf8").matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    }
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  test("an API answer's CSP lets it load nothing", async () => {
    const a = await rawRequest(server.port, { method: "GET", target: "/api/v1/runs" });
    expect(a.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
  });
});

describe("BABYSIT_PUBLIC_URL", () => {
  let proxied: TestServer;
  beforeAll(async () => {
    proxied = await startServer({ env: { BABYSIT_PUBLIC_URL: "https://babysit.lab.example" } });
  });
  afterAll(async () => {
    await proxied?.stop();
  });

  test("its host is served, and a write from its origin passes (a reverse proxy with https in front)", async () => {
    const page = await rawRequest(proxied.port, { method: "GET", target: "/", headers: { host: "babysit.lab.example" } });
    expect(page.status).toBe(200);
    const made = await rawRequest(proxied.port, {
      method: "POST",
      target: "/api/v1/runs",
      headers: { host: "127.0.0.1", origin: "https://babysit.lab.example", "content-type": "application/json" },
      body: '{"project":"behind-proxy"}',
    });
    expect(made.status).toBe(201);
  });

  test("another host is still refused", async () => {
    const a = await rawRequest(proxied.port, { method: "GET", target: "/", headers: { host: "lab.example" } });
    expect(a.status).toBe(421);
  });

  test("a value that is not an http(s) URL stops the server at start, saying why", async () => {
    await expect(startServer({ env: { BABYSIT_PUBLIC_URL: "babysit.lab.example" } })).rejects.toThrow(/BABYSIT_PUBLIC_URL/);
  });
});

describe("HOST=0.0.0.0 (every interface, so team mode: the same name and origin checks, behind a login)", () => {
  let wide: TestServer;
  let cookie: string;
  beforeAll(async () => {
    const team = await startTeamServer({ HOST: "0.0.0.0" });
    wide = team;
    cookie = await login(team.url, "admin", team.adminPassword);
  });
  afterAll(async () => {
    await wide?.stop();
  });

  test("the machine's hostname and addresses are served, and a script writes as before; another name is not", async () => {
    const addresses = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && !a.scopeid && a.family === "IPv4")
      .map((a) => a!.address);
    for (const host of [os.hostname(), ...addresses, "0.0.0.0"]) {
      const a = await rawRequest(wide.port, { method: "GET", target: "/api/v1/runs", headers: { host: `${host}:${wide.port}`, cookie } });
      expect({ host, status: a.status }).toEqual({ host, status: 200 });
      // past the name check, who is asking: no session is 401, not 421
      const anonymous = await rawRequest(wide.port, { method: "GET", target: "/api/v1/runs", headers: { host: `${host}:${wide.port}` } });
      expect({ host, status: anonymous.status }).toEqual({ host, status: 401 });
    }
    const made = await rawRequest(wide.port, {
      method: "POST",
      target: "/api/v1/runs",
      headers: { host: `${os.hostname()}:${wide.port}`, "content-type": "application/json", cookie },
      body: '{"project":"wide"}',
    });
    expect(made.status).toBe(201);
    const page = await rawRequest(wide.port, { method: "GET", target: "/", headers: { host: `${os.hostname()}:${wide.port}`, cookie } });
    expect(page.status).toBe(200);
    const evil = await rawRequest(wide.port, { method: "GET", target: "/", headers: { host: `evil.example:${wide.port}`, cookie } });
    expect(evil.status).toBe(421);
  });

  test("a page on a colleague's browser writes from its own origin; another origin is still refused", async () => {
    const host = `${os.hostname()}:${wide.port}`;
    const write = (origin: string) =>
      rawRequest(wide.port, {
        method: "POST",
        target: "/api/v1/runs",
        headers: { host, origin, "content-type": "application/json", cookie },
        body: '{"project":"wide"}',
      });
    expect((await write(`http://${host}`)).status).toBe(201);
    expect((await write("http://evil.example")).json.error.code).toBe("cross_origin");
  });
});
