import net from "node:net";
import { afterAll, beforeAll, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";

// POST /api/v1/runs/{id}/log has one handler, server.ts's (lib/ingest/log-request.ts). A request
// path that does not match it exactly, but that Next.js would once have routed to a second App
// Router copy (dot segments), gets the error envelope and stores nothing.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

/** A raw HTTP/1.1 request: fetch() would normalise the dot segments away. */
function rawPost(target: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(server.port, "127.0.0.1", () =>
      c.write(
        `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      ),
    );
    let out = "";
    c.on("data", (d) => (out += d));
    c.on("error", reject);
    c.on("end", () => {
      const [head, ...rest] = out.split("\r\n\r\n");
      const text = rest.join("\r\n\r\n");
      // a chunked answer: take the first chunk, enough for an error envelope
      const chunked = /transfer-encoding: chunked/i.test(head) ? text.split("\r\n")[1] : text;
      resolve({ status: Number(head.split(" ")[1]), body: chunked });
    });
  });
}

test.each(["./log", "../{id}/log", "../other/log"])("POST /api/v1/runs/{id}/%s answers the invalid_url envelope and stores nothing", async (tail) => {
  const created = await api(server.url, "POST", "/api/v1/runs", { project: "log-route", name: tail });
  const id = created.body.id as string;
  const batch = JSON.stringify({ seq: 0, rows: [{ step: 0, metrics: { "train/loss": 1 } }] });
  const r = await rawPost(`/api/v1/runs/${id}/${tail.replace("{id}", id)}`, batch);
  // the front gate refuses dot segments before any route sees them (docs/api.md, errors)
  expect(r.status).toBe(400);
  expect(JSON.parse(r.body).error.code).toBe("invalid_url");
  const run = await api(server.url, "GET", `/api/v1/runs/${id}`);
  expect(run.body.keys).toEqual([]);
  // the one handler still takes the same batch
  expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, batch)).status).toBe(200);
});
