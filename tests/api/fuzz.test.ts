import fc from "fast-check";
import { afterAll, beforeAll, expect, test } from "vitest";
import { API_ROUTES } from "../../lib/http/routes";
import { dbFingerprint } from "../helpers/db-fingerprint";
import { pngBase64 } from "../helpers/png";
import { type RawAnswer, type RawRequest, rawRequest } from "../helpers/raw-http";
import { type TestServer, api, startServer } from "../helpers/server";

// Property: whatever arrives (random methods, the real routes with mangled segments and
// percent-encodings, hostile query strings and headers, bodies that are random JSON, nested
// thousands deep, not UTF-8, with huge numbers, lone surrogates or a wrong type in any field),
// the server answers: never a 5xx, never a reset connection, every refusal in the error envelope,
// a refusal writes nothing, and the server works normally afterwards.
// A failure prints fast-check's shrunk counterexample and the seed to replay it.

// BABYSIT_FUZZ_SEED / BABYSIT_FUZZ_RUNS explore further; the suite runs the fixed seed.
const SEED = Number(process.env.BABYSIT_FUZZ_SEED ?? 20261129);
const RUNS = Number(process.env.BABYSIT_FUZZ_RUNS ?? 400);

let server: TestServer;
let runId: string;
/** Runs a generated DELETE /api/v1/runs/{id} may delete (a success, not a refusal), so the target run lives on. */
const victims: string[] = [];
let shareToken: string;

beforeAll(async () => {
  server = await startServer();
  const run = await api(server.url, "POST", "/api/v1/runs", { project: "fuzz", name: "target", config: { lr: 0.1 } });
  runId = run.body.id;
  await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 0, rows: [{ step: 0, metrics: { "train/loss": 1 } }] });
  shareToken = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`)).body.token;
  for (let i = 0; i < 3; i++) victims.push((await api(server.url, "POST", "/api/v1/runs", { project: "fuzz", name: `victim-${i}` })).body.id);
});
afterAll(async () => {
  await server?.stop();
});

// Raw JSON literals JSON.stringify cannot write: numbers beyond double range or precision.
const RAW = ["1e400", "-1e400", "1e308", "-1.7976931348623157e308", "123456789012345678901234567890", "-0", "5e-324", "1E+2"];
const raw = (i: number) => `__raw${i}__`;

const deepText = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("\ud800", "a\udc00b", "\udbff\udfff", "🚀".repeat(150), "x".repeat(300), "", " ", "\u0000", "a\u001fb", "\u007f"),
  fc.constantFrom("constructor", "__proto__", "toString", "hasOwnProperty", "NaN", "Infinity", "-Infinity", "nan"),
);

const LONE_SURROGATES = ["\ud800", "a\udc00b", "\udbff", "x\ud83d"];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...RAW.map((_, i) => raw(i))),
  fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 64, 1e10, 1e12, 1e306, Number.MAX_VALUE, -Number.MAX_VALUE),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const PNG_2x3 = pngBase64(2, 3);

/** A valid body for a route, so that a single mutation reaches the field-level checks. */
function validBody(path: string, seq: number): unknown {
  if (path === "/api/v1/runs") return { project: "fuzz", name: "r", config: { lr: 0.01, model: { layers: [1, 2] } } };
  if (path.endsWith("/finish")) return { status: "finished" };
  if (path.endsWith("/log")) {
    return {
      seq,
      rows: [{ step: 1, time: 1795698225.5, epoch: 0.5, metrics: { "train/loss": 0.5, "val/acc": "NaN" } }],
      histograms: [{ step: 1, key: "act/fc1", edges: [0, 0.5, 1], counts: [3, 4] }],
      events: [
        { type: "note", step: 1, data: { text: "hi" } },
        { type: "image", step: 1, data: { key: "samples", width: 2, height: 3, png_base64: PNG_2x3 } },
      ],
    };
  }
  return {};
}

function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (v && typeof v === "object") for (const [k, c] of Object.entries(v)) paths(c, [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function setAt(root: unknown, at: (string | number)[], value: unknown, drop: boolean): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let o = copy;
  for (const k of at.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = at[at.length - 1];
  if (drop) delete o[last];
  else o[last] = value;
  return copy;
}

const serialize = (v: unknown) => JSON.stringify(v).replace(/"__raw(\d+)__"/g, (_, i) => RAW[Number(i)]);

type BodyMaker = (path: string) => Buffer | undefined;

const BAD_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xe0, 0xa4], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]];

const body: fc.Arbitrary<BodyMaker> = fc.oneof(
  { weight: 4, arbitrary: fc.nat().map((seq) => (path: string) => Buffer.from(serialize(validBody(path, seq)))) },
  fc.constant(() => undefined),
  fc.constant(() => Buffer.alloc(0)),
  // one field of a valid body replaced, removed, or given a hostile key
  {
    weight: 6,
    arbitrary: fc.tuple(fc.nat(), hostileValue, fc.boolean(), fc.nat()).map(([pick, value, drop, seq]) => (path: string) => {
      const base = validBody(path, seq);
      const all = paths(base);
      return Buffer.from(serialize(setAt(base, all[pick % all.length], value, drop)));
    }),
  },
  // a lone surrogate (as a JSON escape) in place of one string of a valid body
  {
    weight: 3,
    arbitrary: fc.tuple(fc.nat(), fc.constantFrom(...LONE_SURROGATES), fc.nat()).map(([pick, value, seq]) => (path: string) => {
      const base = validBody(path, seq);
      const strings = paths(base).filter((p) => typeof p.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], base) === "string");
      return Buffer.from(serialize(strings.length ? setAt(base, strings[pick % strings.length], value, false) : base));
    }),
  },
  fc.tuple(hostileString, fc.nat()).map(([key, seq]) => (path: string) => {
    const base = validBody(path, seq) as { rows?: { metrics: Record<string, unknown> }[]; config?: Record<string, unknown> };
    if (base.rows) base.rows[0].metrics = { [key]: 1, ok: 2 };
    if (base.config) base.config = { [key]: 1 };
    return Buffer.from(serialize(base));
  }),
  fc.jsonValue().map((v) => () => Buffer.from(JSON.stringify(v))),
  fc.tuple(fc.integer({ min: 60, max: 20_000 }), fc.constantFrom(["[", "]"], ['{"a":', "}"])).map(([d, [o, c]]) => (path: string) => {
    const inner = o === "[" ? deepText(d, "[", "]") : `${o.repeat(d)}1${c.repeat(d)}`;
    return Buffer.from(
      path.endsWith("/log") ? `{"seq":1,"events":[{"type":"deep","data":{"x":${inner}}}]}` : `{"project":"fuzz","config":{"x":${inner}}}`,
    );
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...BAD_UTF8), fc.nat()).map(([at, bytes, seq]) => (path: string) => {
    const text = Buffer.from(serialize(validBody(path, seq)));
    const i = at % (text.length + 1);
    return Buffer.concat([text.subarray(0, i), Buffer.from(bytes), text.subarray(i)]);
  }),
  fc.uint8Array({ maxLength: 64 }).map((b) => () => Buffer.from(b)),
);

const badPercent = fc.constantFrom("%", "%E0%A4%A", "%zz", "%FF", "%ED%A0%80", "%C0%AF", "%e0%80%80", "%0", "%%41", "%u0041");
const segment = (param: string): fc.Arbitrary<string> =>
  fc.oneof(
    // the real run or link, filled in once the server has made them
    { weight: 30, arbitrary: fc.constant(param === "token" ? "<TOKEN>" : "<RUN>") },
    { weight: 1, arbitrary: fc.constantFrom("nope", "", ".", "..", "%2e%2e", "%2F", "%00", "a%20b", "constructor", "__proto__") },
    { weight: 2, arbitrary: badPercent },
    { weight: 2, arbitrary: fc.string().map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 5 }).map(encodeURIComponent), badPercent).map(([a, b]) => a + b) },
    { weight: 1, arbitrary: fc.constantFrom("\u00e9", "a b", "#x", "a\u0001") },
    { weight: 1, arbitrary: fc.integer({ min: 8000, max: 40_000 }).map((n) => "a".repeat(n)) },
  );

const QUERY_NAMES = ["key", "keys", "points", "from", "to", "limit", "project", "status", "sort", "constructor", "__proto__", ""];
const queryValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "train/loss", "samples", "act/fc1", "10", "running") },
  fc.constantFrom(
    "a",
    "train/loss",
    "0",
    "1",
    "-1",
    "1.5",
    "1e400",
    "9007199254740993",
    "abc",
    "",
    "running",
    "-created",
    "a,b,,c",
    "0x10",
    "1e3",
    "%20%205",
    ",,,",
  ),
  fc.string().map(encodeURIComponent),
  badPercent,
);
const query = fc.oneof(
  fc.constant(null),
  fc.array(fc.tuple(fc.constantFrom(...QUERY_NAMES), queryValue), { maxLength: 4 }).map((qs) => qs.map(([k, v]) => `${k}=${v}`).join("&")),
);

const CONTENT_TYPES = [
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "application/json; charset=utf-8; charset=latin1",
  "text/plain;charset=UTF-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/jsonx",
  "application/vnd.api+json",
  "",
  "json",
];
const extraHeaders = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  fc.dictionary(
    fc.constantFrom("x-fuzz", "accept", "accept-encoding", "content-encoding", "expect", "cookie", "authorization", "x-forwarded-for", "origin"),
    fc.oneof(
      fc.constantFrom("gzip", "*/*", "100-continue", "identity", ""),
      fc.string({ unit: "binary-ascii", maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)),
    ),
    { maxKeys: 2 },
  ),
);

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "FOO", "get", "CONNECT"];

interface Generated {
  req: RawRequest;
  template: string;
}

const request: fc.Arbitrary<Generated> = fc
  .record({
    // the routes that read a body get most of the requests: that is where the field checks are
    route: fc.oneof(...API_ROUTES.map((r) => ({ weight: r.methods.includes("POST") ? 6 : 1, arbitrary: fc.constant(r) }))),
    ownMethod: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
    pickMethod: fc.nat(),
    anyMethod: fc.constantFrom(...METHODS),
    segments: fc.array(fc.tuple(segment("id"), segment("token")), { minLength: 1, maxLength: 1 }),
    extraSegment: fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, fc.constantFrom("x", "", "log", "%FF")),
    query,
    contentType: fc.oneof({ weight: 4, arbitrary: fc.constant("application/json") }, fc.constantFrom(...CONTENT_TYPES)),
    headers: extraHeaders,
    body,
  })
  .map((g) => {
    const [[id, token]] = g.segments;
    const method = g.ownMethod ? g.route.methods[g.pickMethod % g.route.methods.length] : g.anyMethod;
    // deleting a run is a success, not a refusal: aim it at a run kept for that
    const run = method === "DELETE" && g.route.path === "/api/v1/runs/[id]" ? victims[g.pickMethod % victims.length] : runId;
    let target = g.route.path.replace("[id]", id.replace("<RUN>", run)).replace("[token]", token.replace("<TOKEN>", shareToken));
    if (g.extraSegment !== null) target += `/${g.extraSegment}`;
    if (g.query !== null) target += `?${g.query}`;
    const headers: Record<string, string> = { ...g.headers };
    if (g.contentType !== undefined) headers["content-type"] = g.contentType;
    return { req: { method, target, headers, body: g.body(g.route.path) }, template: g.route.path };
  });

function describeAnswer(r: Generated, a: RawAnswer): string {
  return `${r.req.method} ${r.req.target.slice(0, 200)} -> ${a.status} ${a.body.toString("utf8").slice(0, 300)}`;
}

test(`${RUNS} generated hostile requests: envelope on every refusal, no 5xx, no reset, nothing written on a refusal`, async () => {
  const seen = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const before = dbFingerprint(server.dbPath);
      const a = await rawRequest(server.port, r.req); // rejects on a reset or closed connection
      const kind = `${a.status} ${a.json?.error?.code ?? ""}`;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      const why = describeAnswer(r, a);
      expect(a.status, why).toBeLessThan(500);
      if (a.status >= 400) {
        expect(a.headers.get("content-type") ?? "(none)", why).toMatch(/^application\/json/);
        if (r.req.method !== "HEAD") {
          expect(Object.keys(a.json ?? {}), why).toEqual(["error"]);
          expect(a.json.error, why).toEqual({ code: expect.any(String), message: expect.any(String) });
        }
        if (a.status === 405) expect(a.headers.get("allow"), why).toBeTruthy();
        expect(dbFingerprint(server.dbPath), `a refusal wrote something: ${why}`).toBe(before);
      } else {
        // every target is under /api, where nothing redirects (a trailing slash is served as is)
        expect(a.status, `a redirect: ${why}`).toBeLessThan(300);
        if (a.status !== 204 && r.req.method !== "HEAD") expect(a.json, `a success without a JSON body: ${why}`).toBeDefined();
        // a number past a double's range is never accepted as something else (Infinity, null)
        if (r.req.method === "POST" && r.req.body && /\/(log|finish)$|^\/api\/v1\/runs$/.test(r.template))
          expect(r.req.body.toString("latin1"), `accepted 1e400: ${why}`).not.toMatch(/[:,[]-?1e400[,\]}]/);
      }
    }),
    { seed: SEED, numRuns: RUNS, verbose: 1 },
  );
  console.log("fuzz answers by status:", Object.fromEntries([...seen].sort()));
  // the mix reached past the gate: successes and refusals both
  const count = (ok: (status: number) => boolean) => [...seen].filter(([k]) => ok(Number.parseInt(k, 10))).reduce((n, [, c]) => n + c, 0);
  expect(count((s) => s < 300)).toBeGreaterThan(RUNS / 10);
  expect(count((s) => s >= 400)).toBeGreaterThan(RUNS / 2);

  // and the server still works normally
  const list = await api(server.url, "GET", "/api/v1/runs?limit=5");
  expect(list.status).toBe(200);
  const log = await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 999_999_999, rows: [{ step: 7, metrics: { after: 1 } }] });
  expect(log).toMatchObject({ status: 200, body: { accepted: { points: 1 } } });
  expect(server.output()).not.toMatch(/unhandled error|request failed/);
}, 120_000);
