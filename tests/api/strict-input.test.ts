import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dbFingerprint } from "../helpers/db-fingerprint";
import { type RawAnswer, type RawRequest, rawRequest } from "../helpers/raw-http";
import { type TestServer, api, startServer } from "../helpers/server";

// Input that used to be read as something else instead of refused: numbers past a double's range,
// a missing Host, paths Next.js redirects, lenient query parameters, an ambiguous charset; and
// finish on a finished run. Each refusal is an exact 4xx and code in the envelope, writing nothing.

let server: TestServer;
let runId: string;
let token: string;

beforeAll(async () => {
  server = await startServer();
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "strict", name: "r" })).body.id;
  const rows = [0, 1, 2, 3].map((step) => ({ step, metrics: { a: step, b: -step } }));
  await api(server.url, "POST", `/api/v1/runs/${runId}/log`, {
    seq: 0,
    rows,
    histograms: [{ step: 0, key: "h", edges: [0, 1], counts: [3] }],
  });
  token = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`)).body.token;
});
afterAll(async () => {
  await server?.stop();
});

const fill = (target: string) => target.replaceAll("RUN", runId).replaceAll("TOKEN", token);
const JSON_TYPE = { "content-type": "application/json" };

function send(r: RawRequest): Promise<RawAnswer> {
  return rawRequest(server.port, { ...r, target: fill(r.target) });
}

async function expectRefused(r: RawRequest, status: number, code: string): Promise<RawAnswer> {
  const before = dbFingerprint(server.dbPath);
  const a = await send(r);
  expect({ status: a.status, code: a.json?.error?.code }).toEqual({ status, code });
  expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  expect(a.json).toEqual({ error: { code, message: expect.any(String) } });
  expect(dbFingerprint(server.dbPath)).toBe(before);
  return a;
}

describe("a JSON number past a double's range is refused, naming the field (it would become Infinity or null)", () => {
  const TOO_LARGE = "is a number too large for a double";
  const LOG: [string, string, string][] = [
    ["a metric value", '{"seq":50,"rows":[{"step":9,"metrics":{"loss":1e400}}]}', "rows[0].metrics.loss"],
    ["a negative metric value", '{"seq":50,"rows":[{"step":9,"metrics":{"ok":1,"loss":-1E+309}}]}', "rows[0].metrics.loss"],
    ["a metric value with 400 digits", `{"seq":50,"rows":[{"step":9,"metrics":{"loss":${"9".repeat(400)}}}]}`, "rows[0].metrics.loss"],
    ["a step", '{"seq":50,"rows":[{"step":1e400,"metrics":{"a":1}}]}', "rows[0].step"],
    ["a time", '{"seq":50,"rows":[{"step":9,"time":1e400,"metrics":{"a":1}}]}', "rows[0].time"],
    ["an epoch", '{"seq":50,"rows":[{"step":9,"epoch":-1e400,"metrics":{"a":1}}]}', "rows[0].epoch"],
    ["seq", '{"seq":1e400,"rows":[{"step":9,"metrics":{"a":1}}]}', "seq"],
    ["a histogram edge", '{"seq":50,"histograms":[{"step":9,"key":"h","edges":[0,1e400],"counts":[1]}]}', "histograms[0].edges[1]"],
    ["a histogram count", '{"seq":50,"histograms":[{"step":9,"key":"h","edges":[0,1],"counts":[2e308]}]}', "histograms[0].counts[0]"],
    ["event data", '{"seq":50,"events":[{"type":"note","data":{"x":1e400}}]}', "events[0].data.x"],
    ["event data in an array", '{"seq":50,"events":[{"type":"note","data":{"x":[1,[2,1e999]]}}]}', "events[0].data.x[1][1]"],
    ["an event time", '{"seq":50,"events":[{"type":"note","time":1e400}]}', "events[0].time"],
  ];
  test.each(LOG)("log: %s -> 400 invalid_batch", async (_name, body, where) => {
    const a = await expectRefused({ method: "POST", target: "/api/v1/runs/RUN/log", body, headers: JSON_TYPE }, 400, "invalid_batch");
    expect(a.json.error.message).toContain(`${where} ${TOO_LARGE}`);
    expect(a.json.error.message).toContain('"Infinity"');
  });

  test.each([
    ["config", '{"project":"strict-n","config":{"big":1e400}}', "config.big"],
    ["nested config", '{"project":"strict-n","config":{"opt":{"betas":[0.9,1e999]}}}', "config.opt.betas[1]"],
    ["a config key named __proto__", '{"project":"strict-n","config":{"__proto__":{"x":-1e400}}}', "config.__proto__.x"],
  ])("create: %s -> 400 invalid_body", async (_name, body, where) => {
    const a = await expectRefused({ method: "POST", target: "/api/v1/runs", body, headers: JSON_TYPE }, 400, "invalid_body");
    expect(a.json.error.message).toContain(`${where} ${TOO_LARGE}`);
  });

  test("finish: a huge number anywhere in the body -> 400 invalid_body", async () => {
    await expectRefused(
      { method: "POST", target: "/api/v1/runs/RUN/finish", body: '{"status":"finished","x":1e400}', headers: JSON_TYPE },
      400,
      "invalid_body",
    );
  });

  test("what a double does with the rest is kept: underflow to 0, 53-bit rounding, the largest double", async () => {
    const body = '{"project":"strict-n","config":{"tiny":1e-400,"big":9007199254740993,"max":1.7976931348623157e308,"e":1e300}}';
    const created = await send({ method: "POST", target: "/api/v1/runs", body, headers: JSON_TYPE });
    expect(created.status).toBe(201);
    const run = await api(server.url, "GET", `/api/v1/runs/${created.json.id}`);
    expect(run.body.run.config).toEqual({ tiny: 0, big: 9007199254740992, max: Number.MAX_VALUE, e: 1e300 });
    const logged = await send({
      method: "POST",
      target: `/api/v1/runs/${created.json.id}/log`,
      body: '{"seq":0,"rows":[{"step":0,"metrics":{"v":1.7976931348623157e308,"u":1e-400}}]}',
      headers: JSON_TYPE,
    });
    expect(logged.status).toBe(200);
    const s = await api(server.url, "GET", `/api/v1/runs/${created.json.id}/series?keys=v,u`);
    expect(s.body.series.map((x: { buckets: { last: unknown }[] }) => x.buckets[0].last)).toEqual([Number.MAX_VALUE, 0]);
  });
});

describe("Content-Type", () => {
  test.each([
    ["/api/v1/runs", "application/json; charset=utf-8; charset=latin1"],
    ["/api/v1/runs", "application/json;charset=utf-8;charset=UTF-8"],
    ["/api/v1/runs/RUN/log", "application/json; charset=utf-8; charset=latin1"],
    ["/api/v1/runs/RUN/finish", "application/json; charset=utf8; charset=utf-8"],
  ])("POST %s with %j (two charsets) -> 415 unsupported_media_type", async (target, type) => {
    const body = target.endsWith("/log") ? '{"seq":70,"rows":[{"step":1,"metrics":{"ct":1}}]}' : '{"project":"strict-ct"}';
    await expectRefused({ method: "POST", target, body, headers: { "content-type": type } }, 415, "unsupported_media_type");
  });

  test.each([
    ["/api/v1/runs", "application/json", "text/plain"],
    ["/api/v1/runs/RUN/log", "application/json", "application/json"],
  ])("POST %s with two Content-Type headers (%s, %s) -> 415 unsupported_media_type", async (target, a, b) => {
    const before = dbFingerprint(server.dbPath);
    const body = target.endsWith("/log") ? '{"seq":70,"rows":[{"step":1,"metrics":{"ct":1}}]}' : '{"project":"strict-ct"}';
    const answer = await rawText(
      `POST ${fill(target)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${a}\r\ncontent-type: ${b}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 415 /);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({
      error: { code: "unsupported_media_type", message: expect.any(String) },
    });
    expect(dbFingerprint(server.dbPath)).toBe(before);
  });
});

/** A request written by hand: rawRequest always sends Host. */
function rawText(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(server.port, "127.0.0.1", () => sock.end(text));
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", reject);
    sock.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

describe("Host", () => {
  test.each([
    ["GET /api/v1/runs HTTP/1.1\r\nConnection: close\r\n\r\n"],
    ["GET / HTTP/1.1\r\nConnection: close\r\n\r\n"],
    [`POST /api/v1/runs/${"RUN"}/log HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`],
  ])("an HTTP/1.1 request without Host -> 400 bad_request in the envelope: %j", async (text) => {
    const before = dbFingerprint(server.dbPath);
    const answer = await rawText(fill(text));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    expect(body).toEqual({ error: { code: "bad_request", message: expect.stringContaining("Host") } });
    expect(dbFingerprint(server.dbPath)).toBe(before);
  });

  test("HTTP/1.0 needs no Host", async () => {
    const answer = await rawText("GET /api/v1/runs?project=strict HTTP/1.0\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
  });
});

describe("paths Next.js would redirect", () => {
  test.each([
    ["GET", "/api/v1/runs/RUN/", 200],
    ["GET", "/api/v1/runs/", 200],
    ["GET", "/api/v1/runs/RUN/series/?key=a", 200],
    ["GET", "/api/v1/runs/RUN/alerts/", 200],
    ["GET", "/api/v1/shares/TOKEN/series/?key=a", 200],
    ["GET", "/api/v1/runs/RUN/series/", 400], // the route's own answer: key is required
  ])("%s %s (a trailing slash) is the same route -> %i, JSON", async (method, target, status) => {
    const a = await send({ method, target });
    expect(a.status).toBe(status);
    expect(a.headers.get("content-type")).toMatch(/^application\/json/);
  });

  test("a trailing slash reads the same answer as without", async () => {
    const withSlash = await send({ method: "GET", target: "/api/v1/runs/RUN/series/?keys=a,b&points=2" });
    const without = await send({ method: "GET", target: "/api/v1/runs/RUN/series?keys=a,b&points=2" });
    expect(withSlash.json).toEqual(without.json);
  });

  test("POST /api/v1/runs/ creates, POST .../finish/ finishes", async () => {
    const created = await send({ method: "POST", target: "/api/v1/runs/", body: '{"project":"strict-slash"}', headers: JSON_TYPE });
    expect(created.status).toBe(201);
    const finished = await send({ method: "POST", target: `/api/v1/runs/${created.json.id}/finish/`, body: "{}", headers: JSON_TYPE });
    expect({ status: finished.status, run: finished.json.status }).toEqual({ status: 200, run: "finished" });
  });

  test.each([
    ["GET", "//api/v1/runs"],
    ["GET", "/api//v1/runs"],
    ["GET", "/api/v1/runs//"],
    ["GET", "/api/v1/runs/RUN//series?key=a"],
    ["POST", "//api/v1/runs/RUN/log"],
    ["GET", "/api\\v1\\runs"],
    ["GET", "/api/v1/runs/RUN\\"],
    ["GET", "/api/v1\\runs/RUN"],
    ["POST", "/api/v1/runs/RUN\\log"],
    ["GET", "//runs"],
    ["GET", "/runs//RUN"],
    ["GET", "/\\runs"],
  ])("%s %s -> 400 invalid_url", async (method, target) => {
    await expectRefused(
      { method, target, body: method === "POST" ? '{"seq":60,"rows":[{"step":1,"metrics":{"z":1}}]}' : undefined, headers: JSON_TYPE },
      400,
      "invalid_url",
    );
  });
});

describe("query parameters are strict -> 400 invalid_query naming the parameter", () => {
  const BASES = ["/api/v1/runs/RUN", "/api/v1/shares/TOKEN"];
  const CASES: [string, string][] = [
    ["/series?keys=,,,", "keys"],
    ["/series?keys=a,,b", "keys"],
    ["/series?keys=a,", "keys"],
    ["/series?keys=,a", "keys"],
    ["/series?keys=", "keys"],
    ["/series?key=", "key"],
    ["/series", "key"],
    ["/series?points=10", "key"],
    ["/series?key=a&keys=a", "keys"],
    ["/series?key=a&key=b", '"key"'],
    ["/series?keys=a&keys=b", '"keys"'],
    ["/series?key=a&from=10&to=1", "from"],
    ["/series?key=a&points=0x10", "points"],
    ["/series?key=a&points=1e3", "points"],
    ["/series?key=a&points=%20%205", "points"],
    ["/series?key=a&points=5%20", "points"],
    ["/series?key=a&points=", "points"],
    ["/series?key=a&points=5.0", "points"],
    ["/series?key=a&points=+5", "points"],
    ["/series?key=a&points=0", "points"],
    ["/series?key=a&points=10001", "points"],
    ["/series?key=a&points=Infinity", "points"],
    ["/series?key=a&from=", "from"],
    ["/series?key=a&from=-1", "from"],
    ["/series?key=a&from=0b1", "from"],
    ["/series?key=a&to=", "to"],
    ["/series?key=a&to=99999999999999999999", "to"],
    ["/histograms", "key"],
    ["/histograms?key=", "key"],
    ["/histograms?key=h&limit=0x10", "limit"],
    ["/histograms?key=h&limit=", "limit"],
    ["/histograms?key=h&limit=2e2", "limit"],
    ["/histograms?key=h&limit=1&limit=2", '"limit"'],
    ["/images", "key"],
    ["/images?key=i&limit=%201", "limit"],
    ["/images?key=i&limit=1.5", "limit"],
  ];
  test.each(BASES.flatMap((base) => CASES.map(([q, param]) => [base + q, param] as const)))("GET %s names %s", async (target, param) => {
    const a = await expectRefused({ method: "GET", target }, 400, "invalid_query");
    expect(a.json.error.message.startsWith(`${param} `)).toBe(true);
    expect(a.json.error.message).not.toMatch(/key key/);
  });

  test.each([
    ["/api/v1/runs?limit=0x10", "limit"],
    ["/api/v1/runs?limit=1e3", "limit"],
    ["/api/v1/runs?limit=", "limit"],
    ["/api/v1/runs?limit=%2010", "limit"],
    ["/api/v1/runs?limit=0", "limit"],
    ["/api/v1/runs?project=", "project"],
    ["/api/v1/runs?project=a&project=b", '"project"'],
    ["/api/v1/runs?status=done", "status"],
  ])("GET %s names %s", async (target, param) => {
    const a = await expectRefused({ method: "GET", target }, 400, "invalid_query");
    expect(a.json.error.message.startsWith(`${param} `)).toBe(true);
  });

  test("the messages say what is wrong", async () => {
    const missing = await send({ method: "GET", target: "/api/v1/runs/RUN/series" });
    expect(missing.json.error.message).toBe("key (or keys) is required");
    const hist = await send({ method: "GET", target: "/api/v1/runs/RUN/histograms" });
    expect(hist.json.error.message).toBe("key is required");
    const order = await send({ method: "GET", target: "/api/v1/runs/RUN/series?key=a&from=10&to=1" });
    expect(order.json.error.message).toBe("from must be <= to (got from=10, to=1)");
  });

  test.each([
    "/api/v1/runs/RUN/series?key=a&points=2&from=0&to=3",
    "/api/v1/runs/RUN/series?key=a&from=2&to=2",
    "/api/v1/runs/RUN/series?keys=a,b&points=10000",
    "/api/v1/runs/RUN/series?keys=a&from=0",
    "/api/v1/shares/TOKEN/series?keys=a,b",
    "/api/v1/runs/RUN/histograms?key=h&limit=2000",
    "/api/v1/runs?limit=1000&project=strict&status=running",
    "/api/v1/runs?limit=007",
  ])("GET %s is served", async (target) => {
    expect((await send({ method: "GET", target })).status).toBe(200);
  });
});

describe("finish on a finished run, and logging to it", () => {
  test("a second finish changes nothing and answers the status the run has", async () => {
    const id = (await api(server.url, "POST", "/api/v1/runs", { project: "strict-finish" })).body.id;
    const call = (status: string) => api(server.url, "POST", `/api/v1/runs/${id}/finish`, { status });
    expect(await call("finished")).toMatchObject({ status: 200, body: { id, status: "finished" } });
    const finishedAt = (await api(server.url, "GET", `/api/v1/runs/${id}`)).body.run.finishedAt;
    for (const again of ["crashed", "finished", "crashed"]) {
      expect(await call(again)).toMatchObject({ status: 200, body: { id, status: "finished" } });
    }
    expect((await api(server.url, "GET", `/api/v1/runs/${id}`)).body.run).toMatchObject({ status: "finished", finishedAt });

    // a late batch (an SDK's spool replay) is stored; the run stays finished
    const late = await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 7, metrics: { late: 1.5 } }] });
    expect(late.status).toBe(200);
    const run = await api(server.url, "GET", `/api/v1/runs/${id}`);
    expect(run.body.run.status).toBe("finished");
    expect((await api(server.url, "GET", `/api/v1/runs/${id}/series?key=late`)).body.buckets).toMatchObject([{ step: 7, last: 1.5 }]);

    // resumed, the run is running again and the next finish counts
    expect((await api(server.url, "POST", "/api/v1/runs", { project: "strict-finish", id })).status).toBe(200);
    expect(await call("crashed")).toMatchObject({ status: 200, body: { id, status: "crashed" } });
    expect(await call("finished")).toMatchObject({ status: 200, body: { id, status: "crashed" } });
  });
});
