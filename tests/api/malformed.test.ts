import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "../../lib/contract/limits";
import { dbFingerprint } from "../helpers/db-fingerprint";
import { type RawAnswer, type RawRequest, rawRequest } from "../helpers/raw-http";
import { type TestServer, api, startServer } from "../helpers/server";

// Malformed requests, kind by kind: each gets an exact 4xx and code in the error envelope, on the
// ingest fast path (POST .../log, answered in server.ts) as on the Next.js routes, and writes nothing.

let server: TestServer;
let runId: string;
let token: string;

beforeAll(async () => {
  server = await startServer();
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "malformed", name: "r" })).body.id;
  await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 0, rows: [{ step: 0, metrics: { a: 1 } }] });
  token = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`)).body.token;
});
afterAll(async () => {
  await server?.stop();
});

const fill = (target: string) => target.replaceAll("RUN", runId).replaceAll("TOKEN", token);

async function send(r: RawRequest): Promise<RawAnswer> {
  return rawRequest(server.port, { ...r, target: fill(r.target) });
}

/** Sends the request and checks status, code, the envelope's exact shape and that nothing was written. */
async function expectRefused(r: RawRequest, status: number, code: string): Promise<RawAnswer> {
  const before = dbFingerprint(server.dbPath);
  const a = await send(r);
  expect({ status: a.status, code: a.json?.error?.code }).toEqual({ status, code });
  expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  expect(a.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(dbFingerprint(server.dbPath)).toBe(before);
  return a;
}

const JSON_TYPE = { "content-type": "application/json" };
const logBody = '{"seq":7,"rows":[{"step":1,"metrics":{"b":2}}]}';

describe("percent-encoding errors in the path -> 400 invalid_url", () => {
  const BAD = ["%E0%A4%A", "%", "%zz", "%FF", "%ED%A0%80", "%C0%AF", "%e0%80%80", "abc%4"];
  const ROUTES: [string, string, string?][] = [
    ["POST", "/api/v1/runs/ID/log", logBody],
    ["POST", "/api/v1/runs/ID/finish", "{}"],
    ["GET", "/api/v1/runs/ID"],
    ["GET", "/api/v1/runs/ID/series?key=a"],
    ["POST", "/api/v1/runs/ID/shares"],
    ["GET", "/api/v1/shares/ID/series?key=a"],
    ["DELETE", "/api/v1/runs/ID/shares/1"],
    ["DELETE", "/api/v1/runs/RUN/shares/ID"],
    ["GET", "/runs/ID"],
    ["GET", "/share/ID"],
  ];
  test.each(ROUTES.flatMap(([m, p, b]) => BAD.map((bad) => [m, p.replace("ID", bad), b] as const)))("%s %s", async (method, target, body) => {
    await expectRefused({ method, target, body, headers: JSON_TYPE }, 400, "invalid_url");
  });

  test.each([
    ["raw byte 0xE9", "/api/v1/runs/\u00e9"],
    ["a fragment", "/api/v1/runs/RUN#x"],
    ["a dot segment", "/api/v1/runs/./finish"],
    ["a dot-dot segment", "/api/v1/runs/RUN/../RUN"],
    ["an encoded dot-dot segment", "/api/v1/runs/%2e%2E/finish"],
    ["not a path", "http://example.com/api/v1/runs"],
  ])("%s -> 400 invalid_url", async (_name, target) => {
    await expectRefused({ method: "POST", target, body: "{}", headers: JSON_TYPE }, 400, "invalid_url");
  });
});

describe("percent-encoding errors in the query -> 400 invalid_query", () => {
  test.each([
    ["GET", "/api/v1/runs?project=%E0%A4%A"],
    ["GET", "/api/v1/runs?%zz=1"],
    ["GET", "/api/v1/runs/RUN/series?key=%FF"],
    ["GET", "/api/v1/runs/RUN/series?keys=a,%ED%A0%80"],
    ["GET", "/api/v1/runs/RUN/images?key=%"],
    ["GET", "/api/v1/shares/TOKEN/histograms?key=a%C0%AF"],
    ["POST", "/api/v1/runs/RUN/log?x=%E0%A4%A"],
    ["GET", "/?q=%FF"],
  ])("%s %s", async (method, target) => {
    await expectRefused({ method, target, body: method === "POST" ? logBody : undefined, headers: JSON_TYPE }, 400, "invalid_query");
  });

  test("well-formed encodings still reach the route: an encoded key with a slash and an emoji", async () => {
    await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 1, rows: [{ step: 0, metrics: { "val/🚀 x": 3 } }] });
    const r = await send({ method: "GET", target: `/api/v1/runs/RUN/series?key=${encodeURIComponent("val/🚀 x")}` });
    expect(r.status).toBe(200);
    expect(r.json.key).toBe("val/🚀 x");
  });
});

describe("JSON nested deeper than LIMITS.jsonDepth -> 400 invalid_json", () => {
  const max = LIMITS.jsonDepth.value;
  const nest = (depth: number, open = "[", close = "]") => open.repeat(depth) + close.repeat(depth);
  const deepObj = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
  test.each([
    ["log, event data arrays", "/api/v1/runs/RUN/log", `{"seq":9,"events":[{"type":"x","data":{"v":${nest(max)}}}]}`],
    ["log, 10,000 deep", "/api/v1/runs/RUN/log", `{"seq":9,"events":[{"type":"x","data":{"v":${nest(10_000)}}}]}`],
    ["log, 1,000,000 deep", "/api/v1/runs/RUN/log", nest(1_000_000)],
    ["create, config objects", "/api/v1/runs", `{"project":"deep","config":{"c":${deepObj(max)}}}`],
    ["create, 10,000 deep", "/api/v1/runs", `{"project":"deep","config":{"c":${deepObj(10_000)}}}`],
    ["finish, 100 deep", "/api/v1/runs/RUN/finish", nest(100)],
  ])("%s", async (_name, target, body) => {
    const a = await expectRefused({ method: "POST", target, body, headers: JSON_TYPE }, 400, "invalid_json");
    expect(a.json.error.message).toContain(`nested more than ${max} levels`);
  });

  test(`exactly ${max} levels are accepted`, async () => {
    // batch {1} events [2] event {3} data {4} v: 60 more
    const body = `{"seq":10,"events":[{"type":"x","data":{"v":${nest(max - 4)}}}]}`;
    const a = await send({ method: "POST", target: "/api/v1/runs/RUN/log", body, headers: JSON_TYPE });
    expect(a.status).toBe(200);
  });

  test("brackets inside strings do not count", async () => {
    const body = JSON.stringify({ seq: 11, events: [{ type: "x", data: { s: "[".repeat(1000) + '\\"{'.repeat(100) } }] });
    expect((await send({ method: "POST", target: "/api/v1/runs/RUN/log", body, headers: JSON_TYPE })).status).toBe(200);
  });
});

describe("bodies that are not valid UTF-8 -> 400 invalid_json", () => {
  const BAD: [string, number[]][] = [
    ["a lone 0xFF", [0xff]],
    ["a truncated 3-byte sequence", [0xe0, 0xa4]],
    ["an overlong slash", [0xc0, 0xaf]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
    ["beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["a lone continuation byte", [0x80]],
  ];
  const withBytes = (before: string, bytes: number[], after: string) => Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
  test.each(BAD)("%s in a metric key", async (_name, bytes) => {
    const body = withBytes('{"seq":20,"rows":[{"step":1,"metrics":{"k', bytes, '":1}}]}');
    const a = await expectRefused({ method: "POST", target: "/api/v1/runs/RUN/log", body, headers: JSON_TYPE }, 400, "invalid_json");
    expect(a.json.error.message).toContain("UTF-8");
  });
  test.each(BAD)("%s in a project name", async (_name, bytes) => {
    await expectRefused(
      { method: "POST", target: "/api/v1/runs", body: withBytes('{"project":"p', bytes, '"}'), headers: JSON_TYPE },
      400,
      "invalid_json",
    );
  });
  test.each(BAD)("%s in a finish body", async (_name, bytes) => {
    await expectRefused(
      { method: "POST", target: "/api/v1/runs/RUN/finish", body: withBytes('{"status":"finished', bytes, '"}'), headers: JSON_TYPE },
      400,
      "invalid_json",
    );
  });

  test("two keys that differ only in invalid bytes do not become one", async () => {
    const body = Buffer.concat([
      Buffer.from('{"seq":21,"rows":[{"step":1,"metrics":{"k'),
      Buffer.from([0xff]),
      Buffer.from('":1,"k'),
      Buffer.from([0xfe]),
      Buffer.from('":2}}]}'),
    ]);
    await expectRefused({ method: "POST", target: "/api/v1/runs/RUN/log", body, headers: JSON_TYPE }, 400, "invalid_json");
    const run = await api(server.url, "GET", `/api/v1/runs/${runId}`);
    expect(run.body.keys.map((k: { key: string }) => k.key)).not.toContain("k\ufffd");
  });
});

describe("methods", () => {
  test.each([
    ["TRACE", "/api/v1/runs", "GET, POST, HEAD, OPTIONS"],
    ["PUT", "/api/v1/runs", "GET, POST, HEAD, OPTIONS"],
    ["PUT", "/api/v1/runs/RUN", "GET, PATCH, DELETE, HEAD, OPTIONS"],
    ["POST", "/api/v1/runs/RUN", "GET, PATCH, DELETE, HEAD, OPTIONS"],
    ["GET", "/api/v1/runs/RUN/log", "POST, OPTIONS"],
    ["PUT", "/api/v1/runs/RUN/log", "POST, OPTIONS"],
    ["GET", "/api/v1/runs/RUN/finish", "POST, OPTIONS"],
    ["POST", "/api/v1/runs/RUN/series", "GET, HEAD, OPTIONS"],
    ["DELETE", "/api/v1/runs/RUN/shares", "GET, POST, HEAD, OPTIONS"],
    ["POST", "/api/v1/shares/TOKEN", "GET, HEAD, OPTIONS"],
    // a link's holder cannot revoke it: only its run's owner (DELETE /api/v1/runs/{id}/shares/{shareId})
    ["DELETE", "/api/v1/shares/TOKEN", "GET, HEAD, OPTIONS"],
    ["GET", "/api/v1/runs/RUN/shares/1", "DELETE, OPTIONS"],
    ["POST", "/api/v1/shares/TOKEN/alerts", "GET, HEAD, OPTIONS"],
    ["PROPFIND", "/api/v1/runs", "GET, POST, HEAD, OPTIONS"],
    ["TRACE", "/", "GET, HEAD, OPTIONS"],
    ["POST", "/runs/RUN", "GET, HEAD, OPTIONS"],
    ["DELETE", "/share/TOKEN", "GET, HEAD, OPTIONS"],
  ])("%s %s -> 405 with Allow: %s", async (method, target, allow) => {
    const a = await expectRefused({ method, target, body: method === "GET" ? undefined : "{}", headers: JSON_TYPE }, 405, "method_not_allowed");
    expect(a.headers.get("allow")).toBe(allow);
  });

  test.each(["FOO", "get", "BREW", "CONNECT"])("an unknown method %s -> 405 in the envelope", async (method) => {
    const a = await expectRefused({ method, target: method === "CONNECT" ? "127.0.0.1:1" : "/api/v1/runs" }, 405, "method_not_allowed");
    expect(a.headers.get("allow")).toContain("GET");
  });

  test.each([
    ["/api/v1/runs", 200],
    ["/api/v1/runs/RUN", 200],
    ["/api/v1/runs/RUN/series?key=a", 200],
    ["/api/v1/shares/TOKEN", 200],
    ["/api/v1/runs/nope", 404],
    ["/api/v1/nothing", 404],
  ])("HEAD %s answers as GET would, without a body", async (target, status) => {
    const a = await send({ method: "HEAD", target });
    expect(a.status).toBe(status);
    expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  });

  test.each([
    ["/api/v1/runs", "GET, POST, HEAD, OPTIONS"],
    ["/api/v1/runs/RUN/log", "POST, OPTIONS"],
    ["/api/v1/shares/TOKEN", "GET, HEAD, OPTIONS"],
    ["/api/v1/runs/RUN/shares/1", "DELETE, OPTIONS"],
    ["/", "GET, HEAD, OPTIONS"],
  ])("OPTIONS %s -> 204 with Allow", async (target, allow) => {
    const a = await send({ method: "OPTIONS", target });
    expect(a.status).toBe(204);
    expect(a.headers.get("allow")).toBe(allow);
  });

  test("OPTIONS /api/unknown -> 404", async () => {
    await expectRefused({ method: "OPTIONS", target: "/api/unknown" }, 404, "not_found");
  });
});

describe("over-long URLs and headers", () => {
  const max = LIMITS.urlBytesMax.value;
  test.each([
    ["one byte over, in the path", "/api/v1/runs/", max + 1],
    ["one byte over, in the query", "/api/v1/runs?project=", max + 1],
    ["20 KB, past Node's header limit", "/api/v1/runs/", 20_000],
    ["100 KB", "/api/v1/runs/RUN/series?key=", 100_000],
    ["1 MB", "/api/v1/runs/", 1_000_000],
    ["a page, 50 KB", "/runs/", 50_000],
  ])("%s -> 414 uri_too_long", async (_name, prefix, length) => {
    const target = fill(prefix).padEnd(length, "a");
    await expectRefused({ method: "GET", target }, 414, "uri_too_long");
  });

  test(`a URL of exactly ${max} bytes is served`, async () => {
    const target = `/api/v1/runs?project=`.padEnd(max, "a");
    expect((await send({ method: "GET", target })).status).toBe(200);
  });

  test("a 40 KB header -> 431 headers_too_large", async () => {
    await expectRefused({ method: "GET", target: "/api/v1/runs", headers: { "x-big": "b".repeat(40_000) } }, 431, "headers_too_large");
  });
});

describe("unknown /api paths -> 404 not_found", () => {
  test.each([
    ["GET", "/api"],
    ["GET", "/api/v1"],
    ["GET", "/api/v2/runs"],
    ["GET", "/api/v1/runs/RUN/nothing"],
    ["POST", "/api/v1/runs/RUN/log/extra"],
    ["GET", "/api/v1/share"], // (GET /api/v1/shares is the list of links now: tests/api/shares-list.test.ts)
    ["DELETE", "/api/v1/nothing"],
    ["TRACE", "/api/nope"],
    ["GET", "/api/v1/runs/RUN/nothing/"],
    ["GET", "/api/"],
  ])("%s %s", async (method, target) => {
    // (one trailing slash on a known route is the same route: tests/api/strict-input.test.ts)
    await expectRefused({ method, target }, 404, "not_found");
  });
});

describe("Content-Type", () => {
  const TYPES = [
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "application/json; charset=latin1",
    "application/json; charset=utf-8; charset=latin1",
    "json",
    "",
  ];
  const ROUTES: [string, string][] = [
    ["/api/v1/runs/RUN/log", '{"seq":30,"rows":[{"step":1,"metrics":{"c":1}}]}'],
    ["/api/v1/runs", '{"project":"ctype"}'],
    ["/api/v1/runs/RUN/finish", '{"status":"crashed"}'],
  ];
  test.each(ROUTES.flatMap(([target, body]) => TYPES.map((type) => [type, target, body] as const)))("%j on %s -> 415", async (type, target, body) => {
    await expectRefused({ method: "POST", target, body, headers: { "content-type": type } }, 415, "unsupported_media_type");
  });

  // a missing Content-Type is what another site's page sends without asking (docs/security.md)
  test.each(ROUTES)("no Content-Type on %s -> 415", async (target, body) => {
    await expectRefused({ method: "POST", target, body }, 415, "unsupported_media_type");
  });

  test.each(["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8", "application/vnd.babysit+json"])(
    "%s is JSON",
    async (type) => {
      const a = await send({ method: "POST", target: "/api/v1/runs", body: '{"project":"ctype-ok"}', headers: { "content-type": type } });
      expect(a.status).toBe(201);
    },
  );
});

describe("malformed HTTP -> 400 bad_request", () => {
  test.each([
    ["both Content-Length and Transfer-Encoding", { "content-length": "3", "transfer-encoding": "chunked" }, "{}\r\n"],
    ["a broken chunk size", { ...JSON_TYPE, "transfer-encoding": "chunked" }, "zz\r\n{}\r\n0\r\n\r\n"],
    ["a header name with a space", { "bad name": "x" }, undefined],
    ["a control character in a header value", { "x-a": "a\u0001b" }, undefined],
  ])("%s", async (_name, headers, body) => {
    await expectRefused({ method: "POST", target: "/api/v1/runs", headers: headers as Record<string, string>, body }, 400, "bad_request");
  });

  test("an unknown Expect -> 417 expectation_failed", async () => {
    await expectRefused(
      { method: "POST", target: "/api/v1/runs", headers: { ...JSON_TYPE, expect: "teapot" }, body: '{"project":"e"}' },
      417,
      "expectation_failed",
    );
  });
});

test("socket.io's long-polling (GET and POST on /socket.io/) still reaches socket.io, ahead of the gate", async () => {
  const open = await send({ method: "GET", target: "/socket.io/?EIO=4&transport=polling" });
  expect(open.status).toBe(200);
  const sid = JSON.parse(open.body.toString("utf8").slice(1)).sid as string;
  const post = await send({
    method: "POST",
    target: `/socket.io/?EIO=4&transport=polling&sid=${sid}`,
    body: "40",
    headers: { "content-type": "text/plain" },
  });
  expect({ status: post.status, body: post.body.toString() }).toEqual({ status: 200, body: "ok" });
});

test("the server answers normally after all that, and logged no unhandled error", async () => {
  const r = await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 99, rows: [{ step: 5, metrics: { a: 2 } }] });
  expect(r).toMatchObject({ status: 200, body: { accepted: { points: 1 } } });
  expect((await api(server.url, "GET", "/api/v1/runs?project=malformed")).body.runs).toHaveLength(1);
  expect(server.output()).not.toMatch(/unhandled error|request failed/);
});
