import net from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { SOCKET_PATH } from "@/lib/contract/socket";
import { rawRequest } from "../helpers/raw-http";
import { type TestServer, api, freePort, startServer, waitFor } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// What an attacker found on a team server with a share-only listener (issue #9 review), each as the
// kind it is: every listener's socket.io guarded alike, body limits by route answered before the
// body is read, a link's token checked at connect, the security headers on every kind of answer,
// and no share path turned into a login redirect that carries its token.

let team: TeamServer;
let local: TestServer;
let teamShare: number;
let localShare: number;
let cookie: string;
let runId: string;
const links = { team: "", local: "", revoked: "", expired: "" };
const sockets: Socket[] = [];

beforeAll(async () => {
  [teamShare, localShare] = [await freePort(), await freePort()];
  [team, local] = await Promise.all([
    startTeamServer({ BABYSIT_SHARE_PORT: String(teamShare) }),
    startServer({ env: { BABYSIT_SHARE_PORT: String(localShare) } }),
  ]);
  cookie = await login(team.url, "admin", team.adminPassword);
  const admin = as(team.url, { cookie });
  runId = (await admin("POST", "/api/v1/runs", { project: "p", name: "secret" })).body.id;
  const share = async () => (await admin("POST", `/api/v1/runs/${runId}/shares`, { expiresIn: "1d" })).body as { id: number; token: string };
  links.team = (await share()).token;
  const revoked = await share();
  expect((await admin("DELETE", `/api/v1/runs/${runId}/shares/${revoked.id}`)).status).toBeLessThan(300);
  links.revoked = revoked.token;
  const expired = await share();
  team.db.prepare("UPDATE shares SET expires_at = ? WHERE id = ?").run(Math.floor(Date.now() / 1000) - 60, expired.id);
  links.expired = expired.token;
  const localRun = (await api(local.url, "POST", "/api/v1/runs", { project: "p", name: "r" })).body.id;
  links.local = (await api(local.url, "POST", `/api/v1/runs/${localRun}/shares`, {})).body.token;
}, 120_000);
afterAll(async () => {
  for (const s of sockets) s.close();
  team?.db.close();
  await Promise.all([team?.stop(), local?.stop()]);
});

const portOf = (which: string) =>
  ({ "team main": team.port, "team share": teamShare, "local main": local.port, "local share": localShare })[which] as number;

describe("every listener's socket.io refuses another origin and a foreign Host (polling and websocket)", () => {
  const listeners = ["team main", "team share", "local main", "local share"] as const;
  const refusals = [
    ["Origin of another site", { origin: "http://evil.example" }, 403, "cross_origin"],
    ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }, 403, "cross_origin"],
    ["a foreign Host", { host: "evil.example" }, 421, "unknown_host"],
  ] as const;
  const wsHeaders = { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" };
  const cases = listeners.flatMap((l) => ["polling", "websocket"].flatMap((t) => refusals.map((r) => [l, t, ...r] as const)));

  test.each(cases)("%s, %s, %s -> %i %s", async (listener, transport, _what, headers, status, code) => {
    const a = await rawRequest(portOf(listener), {
      method: "GET",
      target: `${SOCKET_PATH}/?EIO=4&transport=${transport}`,
      headers: { ...(transport === "websocket" ? wsHeaders : {}), ...headers },
    });
    expect([a.status, a.json?.error?.code]).toEqual([status, code]);
  });

  test.each(listeners)("%s: the same handshake without those headers opens (the refusals above are the headers')", async (listener) => {
    const a = await rawRequest(portOf(listener), { method: "GET", target: `${SOCKET_PATH}/?EIO=4&transport=polling` });
    expect(a.status).toBe(200);
    expect(a.body.toString("utf8")).toMatch(/^0\{"sid":/);
  });
});

/** Sends a request head that declares a body, then only `send` of it: the answer must come without the rest. */
function headOnly(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string>,
  send: Buffer[] = [],
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer to ${method} ${target} without its whole body`));
    }, 20_000);
    const done = () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return false;
      const head = text.slice(0, end);
      let body: string;
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        if (!text.endsWith("\r\n0\r\n\r\n")) return false;
        body = "";
        for (let at = end + 4; ; ) {
          const nl = text.indexOf("\r\n", at);
          const size = Number.parseInt(text.slice(at, nl), 16);
          if (!size) break;
          body += text.slice(nl + 2, nl + 2 + size);
          at = nl + 2 + size + 2;
        }
      } else {
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? -1);
        if (length < 0 || text.length < end + 4 + length) return false;
        body = text.slice(end + 4, end + 4 + length);
      }
      clearTimeout(timer);
      sock.destroy();
      resolve({ status: Number(text.slice(9, 12)), json: JSON.parse(Buffer.from(body, "latin1").toString("utf8")) });
      return true;
    };
    sock.on("data", (c) => {
      chunks.push(c);
      done();
    });
    sock.on("error", () => {
      if (!done()) {
        clearTimeout(timer);
        reject(new Error("connection reset before the answer"));
      }
    });
    const lines = Object.entries({ host: `127.0.0.1:${port}`, "content-type": "application/json", ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
    sock.write(`${method} ${target} HTTP/1.1\r\n${lines.join("")}\r\n`);
    for (const b of send) sock.write(b);
  });
}

describe("a body over its route's limit is answered 413 before it is read, whoever asks", () => {
  const small = LIMITS.smallBodyBytes.value;
  const edit = LIMITS.editBodyBytes.value;
  const create = LIMITS.runCreateBodyBytes.value;
  const log = LIMITS.bodyBytes.value;
  // [method, path, declared length]: one past the route's limit, and far past (the log route used to read it all)
  const cases = [
    ["POST", "/api/v1/auth/login", small + 1],
    ["POST", "/api/v1/auth/login", 4_800_000],
    ["POST", "/api/v1/auth/password", small + 1],
    ["POST", "/api/v1/auth/logout", small + 1],
    ["POST", "/api/v1/users", small + 1],
    ["POST", "/api/v1/keys", edit + 1],
    ["PATCH", "/api/v1/runs/RUN", edit + 1],
    ["POST", "/api/v1/runs/bulk", edit + 1],
    ["POST", "/api/v1/runs/RUN/finish", small + 1],
    ["POST", "/api/v1/runs/RUN/shares", small + 1],
    ["POST", "/api/v1/runs", create + 1],
    ["POST", "/api/v1/runs/RUN/log", log + 1],
    ["POST", "/api/v1/runs/RUN/log", 99_999_999_999],
    ["GET", "/api/v1/auth/me", small + 1],
    ["DELETE", "/api/v1/keys/1", small + 1],
    ["GET", "/login", small + 1],
  ] as const;

  test.each(cases)("team mode, no session: %s %s declaring %i bytes -> 413 payload_too_large at once", async (method, path, length) => {
    const a = await headOnly(team.port, method, path.replace("RUN", runId), { "content-length": String(length) });
    expect([a.status, a.json.error.code]).toEqual([413, "payload_too_large"]);
  });

  test.each([
    ["local", "POST", "/api/v1/runs/RUN/log", 99_999_999_999],
    ["local", "POST", "/api/v1/runs", create + 1],
    ["share-only listener", "GET", "/api/v1/shares/TOKEN", small + 1],
  ] as const)("%s: %s %s declaring %i bytes -> 413 at once", async (where, method, path, length) => {
    const port = where === "local" ? local.port : teamShare;
    const a = await headOnly(port, method, path.replace("TOKEN", links.team), { "content-length": String(length) });
    expect([a.status, a.json.error.code]).toEqual([413, "payload_too_large"]);
  });

  const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from("\r\n")]);
  test.each([
    ["POST", "/api/v1/auth/login", small],
    ["PATCH", "/api/v1/runs/RUN", edit],
    ["POST", "/api/v1/runs/RUN/log", log],
  ] as const)("a streamed (chunked) body to %s %s is answered 413 once it passes %i bytes, the rest never sent", async (method, path, limit) => {
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const pieces = Array.from({ length: Math.ceil(limit / piece.length) + 1 }, () => chunk(piece));
    const a = await headOnly(team.port, method, path.replace("RUN", runId), { "transfer-encoding": "chunked", cookie }, pieces);
    expect([a.status, a.json.error.code]).toEqual([413, "payload_too_large"]);
  });

  test("within the limits, a streamed body is served as before (login, then a PATCH with notes)", async () => {
    const body = (v: unknown) => chunk(Buffer.from(JSON.stringify(v)));
    const end = Buffer.from("0\r\n\r\n");
    const loggedIn = await headOnly(team.port, "POST", "/api/v1/auth/login", { "transfer-encoding": "chunked" }, [
      body({ name: "admin", password: team.adminPassword }),
      end,
    ]);
    expect(loggedIn.status).toBe(200);
    const notes = "n".repeat(LIMITS.notesMaxLength.value);
    const patched = await headOnly(team.port, "PATCH", `/api/v1/runs/${runId}`, { "transfer-encoding": "chunked", cookie }, [body({ notes }), end]);
    expect([patched.status, patched.json.run?.notes]).toEqual([200, notes]);
  });

  test("a run's config at configBytes, every character \\u-escaped as Python's json.dumps writes it, is within runCreateBodyBytes", async () => {
    const text = "é".repeat(Math.floor((LIMITS.configBytes.value - 100) / 2)); // 2 bytes of UTF-8 each, 6 escaped
    const body = JSON.stringify({ project: "p", name: "escaped", config: { text } }).replaceAll("é", "\\u00e9");
    expect(body.length).toBeGreaterThan(LIMITS.configBytes.value * 2.9);
    const r = await api(team.url, "POST", "/api/v1/runs", body, { cookie });
    expect(r.status).toBe(201);
  });
});

describe("a socket that names a link is let in only while the link is live, on every listener", () => {
  const fake = "A".repeat(22);
  const cases = [
    // [server, listener, auth, cookie?, expected]
    ["team", "main", "made up", false, "not_found"],
    ["team", "main", "revoked", false, "not_found"],
    ["team", "main", "expired", false, "share_expired"],
    ["team", "main", "none", false, "unauthenticated"],
    ["team", "main", "made up", true, "not_found"],
    ["team", "share", "made up", false, "not_found"],
    ["team", "share", "expired", false, "share_expired"],
    ["local", "main", "made up", false, "not_found"],
    ["team", "main", "live", false, "connected"],
    ["team", "share", "live", false, "connected"],
    ["team", "main", "none", true, "connected"],
    ["local", "main", "live", false, "connected"],
    ["local", "main", "none", false, "connected"],
  ] as const;

  test.each(cases)("%s mode, %s port, link %s, session %s -> %s (websocket and polling)", async (mode, listener, link, withCookie, expected) => {
    const token = { "made up": fake, revoked: links.revoked, expired: links.expired, live: mode === "team" ? links.team : links.local, none: null }[
      link
    ];
    for (const transport of ["websocket", "polling"]) {
      const s = connect(`http://127.0.0.1:${portOf(`${mode} ${listener}`)}`, {
        path: SOCKET_PATH,
        transports: [transport],
        forceNew: true,
        reconnection: false,
        auth: token ? { share: token } : {},
        extraHeaders: withCookie ? { cookie } : {},
      });
      sockets.push(s);
      const got = await new Promise<string>((resolve) => {
        s.once("connect", () => resolve("connected"));
        s.once("connect_error", (e) =>
          resolve((e as Error & { data?: { error?: { code?: string } } }).data?.error?.code ?? `no envelope: ${e.message}`),
        );
      });
      s.close();
      expect(got, transport).toBe(expected);
    }
  });

  test("a refused socket's engine.io session is ended by the server (no connection held per refused attempt)", async () => {
    const target = (sid = "") => `${SOCKET_PATH}/?EIO=4&transport=polling${sid ? `&sid=${sid}` : ""}`;
    const open = await rawRequest(team.port, { method: "GET", target: target() });
    const sid = JSON.parse(open.body.toString("utf8").slice(1)).sid;
    const sent = await rawRequest(team.port, {
      method: "POST",
      target: target(sid),
      headers: { "content-type": "text/plain" },
      body: `40${JSON.stringify({ share: fake })}`,
    });
    expect(sent.status).toBe(200);
    const packets: string[] = [];
    const ended = await waitFor(
      async () => {
        const a = await rawRequest(team.port, { method: "GET", target: target(sid) });
        if (a.status !== 200) return `${a.status} ${a.json?.error?.code}`;
        packets.push(...a.body.toString("utf8").split("\x1e"));
        return packets.includes("1") ? "close packet" : null;
      },
      10_000,
      "the session to end",
    );
    expect(packets.find((p) => p.startsWith("44"))).toContain("not_found");
    expect(["close packet", "400 invalid_query"]).toContain(ended);
  });
});

describe("every kind of answer carries the headers docs/security.md promises", () => {
  const PAGE_CSP = /^default-src 'self'; script-src 'self' 'nonce-[^']+'; .*frame-ancestors 'none'$/;
  const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
  let asset = "";
  beforeAll(async () => {
    const html = await (await fetch(`${team.url}/login`)).text();
    asset = /(?:src|href)="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1] ?? "";
    expect(asset).not.toBe("");
  });
  // [kind, where, path, with the session, status, page or api CSP, Cache-Control no-store]
  const kinds = [
    ["page", "team main", "/login", false, 200, "page", true],
    ["page, signed in", "team main", "/", true, 200, "page", true],
    ["page redirect to log in", "team main", "/", false, 303, "page", true],
    ["page 404", "team main", "/no-such-page", true, 404, "page", true],
    ["API ok", "team main", "/api/v1/auth/me", true, 200, "api", true],
    ["API ok: keys", "team main", "/api/v1/keys", true, 200, "api", true],
    ["API ok: a run with its config", "team main", "/api/v1/runs/RUN", true, 200, "api", true],
    ["API error 401", "team main", "/api/v1/runs", false, 401, "api", true],
    ["API 404", "team main", "/api/v1/nope", true, 404, "api", true],
    ["static asset", "team main", "ASSET", false, 200, "page", false],
    ["socket.io polling", "team main", `${SOCKET_PATH}/?EIO=4&transport=polling`, false, 200, "api", true],
    ["socket.io refusal", "team main", `${SOCKET_PATH}/?EIO=3&transport=polling`, false, 400, "api", true],
    ["socket.io polling", "local main", `${SOCKET_PATH}/?EIO=4&transport=polling`, false, 200, "api", true],
    ["share page", "team main", "/share/TOKEN", false, 200, "page", true],
    ["share page", "team share", "/share/TOKEN", false, 200, "page", true],
    ["share API", "team share", "/api/v1/shares/TOKEN", false, 200, "api", true],
    ["share port 404", "team share", "/x", false, 404, "page", true],
    ["share port static asset", "team share", "ASSET", false, 200, "page", false],
    ["share port socket.io polling", "team share", `${SOCKET_PATH}/?EIO=4&transport=polling`, false, 200, "api", true],
    ["share port socket.io refusal", "team share", `${SOCKET_PATH}/?EIO=4&transport=nope`, false, 400, "api", true],
    ["share page, local mode", "local main", "/share/LOCAL", false, 200, "page", true],
  ] as const;

  test.each(kinds)("%s (%s %s)", async (_kind, where, path, withCookie, status, csp, noStore) => {
    const target = path.replace("RUN", runId).replace("TOKEN", links.team).replace("LOCAL", links.local).replace("ASSET", asset);
    const a = await rawRequest(portOf(where), { method: "GET", target, headers: withCookie ? { cookie } : {} });
    expect(a.status).toBe(status);
    const h = a.headers;
    expect([h.get("x-content-type-options"), h.get("referrer-policy"), h.get("x-frame-options")]).toEqual(["nosniff", "no-referrer", "DENY"]);
    if (csp === "api") expect(h.get("content-security-policy")).toBe(API_CSP);
    else expect(h.get("content-security-policy")).toMatch(PAGE_CSP);
    if (noStore) expect(h.get("cache-control")).toBe("no-store");
    else expect(h.get("cache-control")).toMatch(/immutable/);
  });
});

describe("a share path in any other form is 404 (or malformed), never a redirect to log in carrying the token", () => {
  const forms = [
    ["team main", "/share/TOKEN/", 404, "not_found"],
    ["team main", "/share/TOKEN/x", 404, "not_found"],
    ["team main", "/share/", 404, "not_found"],
    ["team main", "/share", 404, "not_found"],
    ["team main", "/share//TOKEN", 400, "invalid_url"],
    ["team main", "/share/TOKEN//", 400, "invalid_url"],
    ["team main", "/share/TOKEN/.", 400, "invalid_url"],
    ["team main", "/share/TOKEN/?next=x", 404, "not_found"],
    ["team share", "/share/TOKEN/", 404, "not_found"],
    ["local main", "/share/TOKEN/", 404, "not_found"],
  ] as const;
  test.each(forms)("%s %s -> %i %s", async (where, path, status, code) => {
    const a = await rawRequest(portOf(where), { method: "GET", target: path.replace("TOKEN", links.team) });
    expect([a.status, a.json?.error?.code, a.headers.get("location")]).toEqual([status, code, undefined]);
    expect(a.body.toString("utf8")).not.toContain(links.team);
  });
});
