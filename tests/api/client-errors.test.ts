import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";

// Requests Node's HTTP parser gives up on are answered in the error envelope with the right code. A
// client that stalls mid-request gets 408 request_timeout once the server's request timeout runs
// out (BABYSIT_REQUEST_TIMEOUT_MS, short here), not Node's 400, and the connection is closed.
// Requests sent in full are unaffected. (Malformed headers and framing: malformed.test.ts.)

let server: TestServer;
let runId: string;

beforeAll(async () => {
  server = await startServer({ env: { BABYSIT_REQUEST_TIMEOUT_MS: "600" } });
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "timeouts", name: "r" })).body.id;
});
afterAll(async () => {
  await server?.stop();
});

/** Writes `sent` and nothing more (a whole request closes with it, Connection: close); resolves with everything the server wrote once it closes the connection. */
function stall(sent: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.write(sent));
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    // the server must close it long before this; a hung connection fails the test instead of the run
    socket.setTimeout(20_000, () => {
      socket.destroy();
      reject(new Error(`no answer; got so far: ${Buffer.concat(chunks).toString("utf8")}`));
    });
  });
}

function answerOf(raw: string): { status: number; json: unknown } {
  const end = raw.indexOf("\r\n\r\n");
  expect(end, `an HTTP answer, got ${JSON.stringify(raw.slice(0, 200))}`).toBeGreaterThan(0);
  expect(raw.slice(0, end)).toMatch(/\r\ncontent-type: application\/json/i);
  return { status: Number(raw.slice(9, 12)), json: JSON.parse(raw.slice(end + 4)) };
}

describe("a request that stalls -> 408 request_timeout", () => {
  const host = () => `127.0.0.1:${server.port}`;
  test.concurrent.each([
    ["half a request line", () => "GET /api/v1/ru"],
    ["a request line, no headers yet", () => "GET /api/v1/runs HTTP/1.1\r\n"],
    ["half the headers", () => `GET /api/v1/runs HTTP/1.1\r\nHost: ${host()}\r\nAccept: appli`],
    [
      "headers of a POST, part of its body (log route)",
      () =>
        `POST /api/v1/runs/${runId}/log HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"seq":0,"rows":[`,
    ],
    [
      "headers of a POST, part of its body (Next.js route)",
      () => `POST /api/v1/runs HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"project":`,
    ],
    [
      "a chunked body that never ends",
      () =>
        `POST /api/v1/runs/${runId}/log HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"seq`,
    ],
  ])("%s", async (_name, sent) => {
    const raw = await stall(sent());
    // exactly one answer on the connection
    expect(raw.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
    expect(answerOf(raw)).toEqual({ status: 408, json: { error: { code: "request_timeout", message: expect.any(String) } } });
  });

  test("nothing of a stalled log batch is stored, and the server answers normally afterwards", async () => {
    const r = await api(server.url, "GET", `/api/v1/runs/${runId}`);
    expect(r.status).toBe(200);
    expect(r.body.keys).toEqual([]);
    expect(server.output()).not.toMatch(/unhandled|Error:/);
    const log = await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 1, rows: [{ step: 0, metrics: { a: 1 } }] });
    expect(log.status).toBe(200);
  });
});

describe("a body that arrives after its 408 changes nothing", () => {
  const host = () => `127.0.0.1:${server.port}`;
  /** Sends the head and part of the body, waits for the 408, then sends the rest; resolves with what the server wrote. */
  const late = (head: string, first: string, rest: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, "127.0.0.1", () => socket.write(head + first));
      const chunks: Buffer[] = [];
      socket.on("data", (c) => {
        chunks.push(c);
        // the 408 is here: the rest of the body comes after it, as a slow client's would
        if (Buffer.concat(chunks).toString("utf8").includes("\r\n\r\n")) socket.write(rest);
      });
      socket.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
      socket.setTimeout(20_000, () => {
        socket.destroy();
        reject(new Error("no answer"));
      });
    });
  const post = (path: string, body: string) =>
    `POST ${path} HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;

  test.each([
    [
      "a run create (Next.js route)",
      "/api/v1/runs",
      '{"project":"late-create","name":"late"}',
      async () => (await api(server.url, "GET", "/api/v1/runs?project=late-create")).body.runs.length,
    ],
    [
      "a rename (Next.js route)",
      "/api/v1/runs/RUN",
      '{"name":"renamed-late"}',
      async () => ((await api(server.url, "GET", `/api/v1/runs/${runId}`)).body.run.name === "renamed-late" ? 1 : 0),
    ],
    [
      "a log batch (the log route)",
      "/api/v1/runs/RUN/log",
      '{"seq":7,"rows":[{"step":7,"metrics":{"late":1}}]}',
      async () => (await api(server.url, "GET", `/api/v1/runs/${runId}`)).body.keys.filter((k: { key: string }) => k.key === "late").length,
    ],
  ])("%s", async (_name, path, body, count) => {
    const target = path.replace("RUN", runId);
    const method = target.endsWith(runId) ? "PATCH" : "POST";
    const head = post(target, body).replace(/^POST/, method);
    const raw = await late(head, body.slice(0, 5), body.slice(5));
    expect(answerOf(raw.slice(0, raw.indexOf("}}") + 2))).toEqual({
      status: 408,
      json: { error: { code: "request_timeout", message: expect.any(String) } },
    });
    // whatever the server did with the late bytes, nothing of the request was carried out
    await api(server.url, "GET", "/api/v1/runs"); // a request after it: the late one has had its turn
    expect(await count()).toBe(0);
  });
});

describe("an HTTP version other than 1.x -> 400 bad_request naming the version", () => {
  test.each(["HTTP/3.0", "HTTP/1.2", "HTTP/1.10"])("GET /api/v1/runs %s", async (version) => {
    const raw = await stall(`GET /api/v1/runs ${version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const a = answerOf(raw);
    expect(a).toEqual({ status: 400, json: { error: { code: "bad_request", message: expect.stringContaining("HTTP version") } } });
  });
});
