import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type PointsPayload, SOCKET_PATH } from "@/lib/contract/socket";
import { rawRequest } from "../helpers/raw-http";
import { type TestServer, api, freePort, startServer, waitFor } from "../helpers/server";

// BABYSIT_SHARE_PORT: a second listener that serves shared links (their pages, API, assets and
// socket) and answers 404 to everything else, so a team can publish it without the dashboard.

let server: TestServer;
let shareUrl: string;
let runId: string;
let token: string;
const sockets: Socket[] = [];
const NOT_HERE = { error: { code: "not_found", message: "this address serves shared links only" } };

beforeAll(async () => {
  const sharePort = await freePort();
  server = await startServer({ env: { BABYSIT_SHARE_PORT: String(sharePort) } });
  shareUrl = `http://127.0.0.1:${sharePort}`;
  runId = (await api(server.url, "POST", "/api/v1/runs", { project: "published", name: "public-run" })).body.id;
  await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 1, rows: [{ step: 0, metrics: { loss: 1 } }] });
  token = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`, {})).body.token;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

/** A request fetch() cannot send (a target of `*`). */
async function raw(method: string, target: string) {
  const a = await rawRequest(Number(new URL(shareUrl).port), { method, target });
  return { status: a.status, body: a.json };
}

describe("the share-only listener", () => {
  test("a link made on the dashboard points at the share-only port, on the name the dashboard was reached by", async () => {
    const made = await api(server.url, "POST", `/api/v1/runs/${runId}/shares`, {});
    expect(made.status).toBe(201);
    expect(made.body.url).toBe(`${shareUrl}/share/${made.body.token}`);
    expect((await fetch(made.body.url)).status).toBe(200);
  });

  test("serves a shared page, its API and the assets the page loads", async () => {
    const page = await fetch(`${shareUrl}/share/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await page.text();
    expect(html).toContain("public-run");
    const assets = [...html.matchAll(/(?:src|href)="(\/_next\/static\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    for (const a of assets.slice(0, 5)) expect((await fetch(shareUrl + a)).status, a).toBe(200);
    for (const p of ["", "/series?key=loss", "/alerts"]) {
      const r = await api(shareUrl, "GET", `/api/v1/shares/${token}${p}`);
      expect(r.status, p).toBe(200);
      expect(r).toEqual(await api(server.url, "GET", `/api/v1/shares/${token}${p}`));
    }
  });

  test.each([
    ["GET", "/"],
    ["GET", "/runs/RUN"],
    ["GET", "/compare?runs=RUN"],
    ["GET", "/share"],
    ["GET", "/share/TOKEN/x"],
    ["GET", "/api/v1/runs"],
    ["GET", "/api/v1/runs/RUN"],
    ["GET", "/api/v1/runs/RUN/series?key=loss"],
    ["GET", "/api/v1/runs/RUN/shares"],
    // the server-wide list of links, in any spelling: only a link's own API is served here
    ["GET", "/api/v1/shares"],
    ["GET", "/api/v1/shares/"],
    ["GET", "/api/v1/shares/?a=1"],
    ["GET", "/api/v1/shares//series"],
    ["POST", "/api/v1/runs"],
    ["POST", "/api/v1/runs/RUN/log"],
    ["POST", "/api/v1/runs/RUN/finish"],
    ["POST", "/api/v1/runs/RUN/shares"],
    ["DELETE", "/api/v1/runs/RUN/shares/1"],
    ["GET", "/_next/data/x.json"],
    ["GET", "/robots.txt"],
    // methods the dashboard's routes do not answer: a 404 too, not a 405 that would name them
    ["PUT", "/api/v1/runs"],
    ["DELETE", "/api/v1/runs/RUN"],
    ["OPTIONS", "/api/v1/runs"],
    ["OPTIONS", "*"],
  ])("%s %s -> 404 not_found, nothing of the dashboard", async (method, p) => {
    const target = p.replace("RUN", runId).replace("TOKEN", token);
    const body = method === "POST" ? { seq: 2, rows: [{ step: 1, metrics: { loss: 2 } }], project: "x" } : undefined;
    const r = target === "*" ? await raw(method, target) : await api(shareUrl, method, target, body);
    expect(r).toEqual({ status: 404, body: NOT_HERE });
    // nothing was written on the way
    const run = await api(server.url, "GET", `/api/v1/runs/${runId}`);
    expect(run.body.run.status).toBe("running");
    expect(run.body.keys.find((k: { key: string }) => k.key === "loss").lastStep).toBe(0);
  });

  test.each([
    "/api/v1/shares/TOKEN/../../runs/RUN",
    "/api/v1/shares/TOKEN/%2e%2e/%2E%2E/runs/RUN",
    "/_next/static/..%2f..%2fapi%2fv1%2fruns",
    "/share/..;",
    "/share/%2e%2e",
  ])("a share path that steps out, %s -> 400 invalid_url", async (p) => {
    const r = await raw("GET", p.replace("TOKEN", token).replace("RUN", runId));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_url");
    expect(JSON.stringify(r.body)).not.toContain("public-run");
  });

  test("the main listener still serves the dashboard", async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    expect((await api(server.url, "GET", "/api/v1/runs")).status).toBe(200);
  });

  test.each(["/api/v1/shares/", "/api/v1/shares/?a=1"])("the main listener: %s (an empty token) -> 404, not the list of links", async (p) => {
    const r = await api(server.url, "GET", p);
    expect([r.status, r.body.error.code]).toEqual([404, "not_found"]);
    expect((await api(server.url, "GET", "/api/v1/shares")).status).toBe(200);
  });

  async function open(auth: Record<string, unknown>): Promise<Socket> {
    const s = connect(shareUrl, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false, auth });
    sockets.push(s);
    return s;
  }
  const outcome = (s: Socket) =>
    new Promise<string>((resolve) => {
      s.once("connect", () => resolve("connected"));
      s.once("connect_error", (e) => resolve(`refused: ${e.message}`));
    });

  test.each([
    ["no token", {}],
    ["an unknown token", { share: "A".repeat(22) }],
    ["a malformed token", { share: "../runs" }],
  ])("a socket with %s is refused", async (_what, auth) => {
    expect(await outcome(await open(auth))).toBe("refused: this address serves shared links only: give a live link's token");
  });

  test("a socket with a live link follows that run only, not another run nor the runs list", async () => {
    const other = (await api(server.url, "POST", "/api/v1/runs", { project: "published", name: "private" })).body.id as string;
    const s = await open({ share: token });
    expect(await outcome(s)).toBe("connected");
    const points: PointsPayload[] = [];
    const runs: unknown[] = [];
    s.on("points", (m: PointsPayload) => points.push(m));
    s.on("run", (m: unknown) => runs.push(m));
    s.emit("subscribe", { run: other });
    s.emit("subscribe", { runs: true });
    s.emit("subscribe", { share: token });
    let seq = 10;
    await waitFor(async () => {
      await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: seq++, rows: [{ step: seq, metrics: { loss: 1 } }] });
      return points.length > 0;
    });
    await api(server.url, "POST", `/api/v1/runs/${other}/log`, { seq: 1, rows: [{ step: 0, metrics: { secret: 1 } }] });
    await api(server.url, "POST", "/api/v1/runs", { project: "published", name: "another" });
    await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 99, rows: [{ step: 99, metrics: { loss: 3 } }] });
    await waitFor(() => points.some((m) => m.series.loss?.[0]?.[0] === 99), 10_000, "the last batch");
    expect(points.filter((m) => m.runId !== runId)).toEqual([]);
    expect(runs).toEqual([]);
  });
});

describe("BABYSIT_SHARE_URL: the address a proxy publishes the share-only listener under", () => {
  test("links point at it, its host is served and its origin may open sockets", async () => {
    const s = await startServer({ env: { BABYSIT_SHARE_PORT: String(await freePort()), BABYSIT_SHARE_URL: "https://runs.lab.example/" } });
    try {
      const id = (await api(s.url, "POST", "/api/v1/runs", { project: "published" })).body.id;
      const made = await api(s.url, "POST", `/api/v1/runs/${id}/shares`, {});
      expect(made.body.url).toBe(`https://runs.lab.example/share/${made.body.token}`);
      // the proxy passes its own Host through: that name is this server's too
      const port = Number(new URL(s.url).port);
      const target = `/api/v1/shares/${made.body.token}`;
      const viaProxy = await rawRequest(port, { method: "GET", target, headers: { host: "runs.lab.example" } });
      expect(viaProxy.status).toBe(200);
      const other = await rawRequest(port, { method: "GET", target, headers: { host: "elsewhere.example" } });
      expect([other.status, other.json.error.code]).toEqual([421, "unknown_host"]);
    } finally {
      await s.stop();
    }
  });

  test("a value that is not an http(s) URL stops the server with a message", async () => {
    await expect(startServer({ env: { BABYSIT_SHARE_URL: "ftp://runs.lab.example" } })).rejects.toThrow(
      'BABYSIT_SHARE_URL must be an http:// or https:// URL, got "ftp://runs.lab.example"',
    );
  });
});

describe("BABYSIT_SHARE_PORT that is not a port", () => {
  test.each([
    ["abc", 'BABYSIT_SHARE_PORT must be a port number (1-65535), got "abc"'],
    ["0", 'BABYSIT_SHARE_PORT must be a port number (1-65535), got "0"'],
    ["70000", 'BABYSIT_SHARE_PORT must be a port number (1-65535), got "70000"'],
    ["-1", 'BABYSIT_SHARE_PORT must be a port number (1-65535), got "-1"'],
    ["SAME", "BABYSIT_SHARE_PORT must differ from PORT"],
  ])("%s: the server does not start, and says why", async (value, message) => {
    const port = await freePort();
    const started = startServer({ port, env: { BABYSIT_SHARE_PORT: value === "SAME" ? String(port) : value } });
    await expect(started).rejects.toThrow(message);
  });
});
