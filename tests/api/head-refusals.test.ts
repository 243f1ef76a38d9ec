import net from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { waitFor } from "../helpers/server";
import { type TeamServer, as, login, startTeamServer } from "../helpers/team";

// A refusal that a request's head already decides (a key scoped to another project, a bad query,
// a run that is not there) is answered before the server reads a byte of its body: each case sends
// the head of a request declaring a body as large as its route allows, and no body at all, and the
// exact error envelope comes back anyway. Before, a key of another project made the server read
// and hold a whole (up to 64 MiB) import before its 403.

let server: TeamServer;
let inScope: string;
let outScope: string;
let runP1: string;

beforeAll(async () => {
  server = await startTeamServer();
  const admin = as(server.url, { cookie: await login(server.url, "admin", server.adminPassword) });
  const key = async (projects: string[]) => {
    const r = await admin("POST", "/api/v1/keys", { name: `k${projects.join()}`, access: "write", projects });
    expect(r.status).toBe(201);
    return r.body.token as string;
  };
  inScope = await key(["p1"]);
  outScope = await key(["p2"]);
  runP1 = "head-run-p1";
  expect((await admin("POST", "/api/v1/runs", { project: "p1", id: runP1 })).status).toBe(201);
});
afterAll(async () => {
  server?.db.close();
  await server?.stop();
});

interface Pending {
  /** Resolves with the answer's status and JSON body once a whole answer has come. */
  answer: Promise<{ status: number; body: any }>;
  /** Whatever has come back so far. */
  received: () => string;
  send: (body: Buffer) => void;
  close: () => void;
}

/** Sends only the head of a POST that declares `length` body bytes; the body is sent by `send`, if ever. */
function head(path: string, key: string, type: string, length: number, expectContinue = false): Pending {
  const sock = net.connect(server.port, "127.0.0.1");
  sock.on("error", () => {});
  const chunks: Buffer[] = [];
  let settle: (v: { status: number; body: any }) => void = () => {};
  const answer = new Promise<{ status: number; body: any }>((resolve) => {
    settle = resolve;
  });
  const received = () => Buffer.concat(chunks).toString("utf8");
  sock.on("data", (c) => {
    chunks.push(c);
    const raw = received().replace(CONTINUE, "");
    const end = raw.indexOf("\r\n\r\n");
    if (end < 0) return;
    const headers = raw.slice(0, end);
    let text = raw.slice(end + 4);
    if (/\r\ntransfer-encoding: *chunked/i.test(headers)) {
      if (!text.endsWith("0\r\n\r\n")) return;
      text = text.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, "");
    } else if (Buffer.byteLength(text) < Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1])) return;
    settle({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]), body: JSON.parse(text) });
  });
  sock.write(
    [
      `POST ${path} HTTP/1.1`,
      `host: 127.0.0.1:${server.port}`,
      `authorization: Bearer ${key}`,
      `content-type: ${type}`,
      `content-length: ${length}`,
      "connection: close",
      ...(expectContinue ? ["expect: 100-continue"] : []),
      "",
      "",
    ].join("\r\n"),
  );
  return { answer, received, send: (b) => sock.write(b), close: () => sock.destroy() };
}

const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n";
const importPath = (q: Record<string, string>) => `/api/v1/import?${new URLSearchParams(q)}`;
const OCTETS = "application/octet-stream";
const JSON_TYPE = "application/json";
const importMax = LIMITS.importFileBytes.value;

describe("refusals a request's head decides come before its body is read", () => {
  test.each([
    {
      what: "an import into a project the key may not write to",
      path: () => importPath({ project: "p1", source: "/logs/a/metrics.csv", path: "metrics.csv" }),
      key: () => outScope,
      type: OCTETS,
      length: importMax,
      status: 403,
      error: { code: "forbidden", message: 'this API key may not write to the project "p1"' },
    },
    {
      what: "an import without a source",
      path: () => importPath({ project: "p2", path: "metrics.csv" }),
      key: () => outScope,
      type: OCTETS,
      length: importMax,
      status: 400,
      error: { code: "invalid_import", message: "source is required" },
    },
    {
      what: "an import with an unknown query parameter",
      path: () => importPath({ project: "p2", source: "s", path: "m.csv", colour: "red" }),
      key: () => outScope,
      type: OCTETS,
      length: importMax,
      status: 400,
      error: { code: "invalid_import", message: 'unknown query parameter "colour"' },
    },
    {
      what: "an import with an offset that is no number",
      path: () => importPath({ project: "p2", source: "s", path: "m.csv", offset: "-1" }),
      key: () => outScope,
      type: OCTETS,
      length: importMax,
      status: 400,
      error: { code: "invalid_import", message: "offset must be a non-negative integer (bytes)" },
    },
    {
      what: "a log batch to a run of a project the key may not write to",
      path: () => `/api/v1/runs/${runP1}/log`,
      key: () => outScope,
      type: JSON_TYPE,
      length: LIMITS.bodyBytes.value,
      status: 403,
      error: { code: "forbidden", message: expect.stringContaining('may not write to runs of the project "p1"') },
    },
    {
      what: "a log batch to a run that does not exist",
      path: () => "/api/v1/runs/no-such-run/log",
      key: () => inScope,
      type: JSON_TYPE,
      length: LIMITS.bodyBytes.value,
      status: 404,
      error: { code: "not_found", message: "run no-such-run does not exist; create it with POST /api/v1/runs" },
    },
    {
      what: "console lines to a run of a project the key may not write to",
      path: () => `/api/v1/runs/${runP1}/logs`,
      key: () => outScope,
      type: JSON_TYPE,
      length: LIMITS.runLogBodyBytes.value,
      status: 403,
      error: { code: "forbidden", message: expect.stringContaining('may not write to runs of the project "p1"') },
    },
    {
      what: "console lines to a run that does not exist",
      path: () => "/api/v1/runs/no-such-run/logs",
      key: () => inScope,
      type: JSON_TYPE,
      length: LIMITS.runLogBodyBytes.value,
      status: 404,
      error: { code: "not_found", message: "run no-such-run does not exist; create it with POST /api/v1/runs" },
    },
  ])("$what: $status with no body sent", async (c) => {
    for (const expectContinue of [false, true]) {
      const req = head(c.path(), c.key(), c.type, c.length, expectContinue);
      try {
        const got = await req.answer;
        expect(got).toEqual({ status: c.status, body: { error: c.error } });
        // a client that asked whether to send the body is told no, never 100 Continue
        expect(req.received()).not.toContain("100 Continue");
      } finally {
        req.close();
      }
    }
  });

  test("an import the key may make waits for its body, then is stored (the check above refuses only what it must)", async () => {
    const csv = Buffer.from("step,loss\n0,1.5\n1,1.25\n");
    const req = head(importPath({ project: "p1", source: "/logs/ok/metrics.csv", path: "metrics.csv" }), inScope, OCTETS, csv.length, true);
    try {
      await waitFor(() => req.received() === CONTINUE, 10_000, "100 Continue");
      // a round trip on another connection: an answer the server had written to this one by then has arrived
      expect((await fetch(`${server.url}/api/v1/auth/me`)).status).toBe(200);
      expect(req.received()).toBe(CONTINUE);
      req.send(csv);
      const got = await req.answer;
      expect(got.status).toBe(200);
      expect(got.body.points).toBe(2); // loss at steps 0 and 1
    } finally {
      req.close();
    }
  });
});
