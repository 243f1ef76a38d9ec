import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import type { Page } from "playwright-core";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SERVER_EVENTS, SOCKET_PATH } from "@/lib/contract/socket";
import { dbFingerprint } from "../helpers/db-fingerprint";
import { ROOT, type TestServer, api, freePort, startServer, waitFor } from "../helpers/server";
import { type Browser, launchBrowser } from "./browser";

// The attack of issue #9 §1, in a real Chromium: a page of another origin, served by a tiny server
// of this test, tries every write a page can make without the server's consent and every way to
// listen to the live socket, against a real babysit server on loopback. Nothing may change and no
// live data may arrive. Then DNS rebinding: a page whose own origin names this server through a
// foreign host name (evil.example, resolved to 127.0.0.1 by the browser) is served nothing.
// A control run of the same attacks against a plain recorder shows the browser does send them.

const EVIL = "evil.example";
let server: TestServer;
let browser: Browser;
let attacker: http.Server;
let attackerPort: number;
let recorder: http.Server;
let recorderPort: number;
const recorded: { method: string; url: string; type: string; origin: string }[] = [];
let runId: string;
let token: string;
let listener: Socket; // a legitimate client: proves the server did send live data meanwhile

const SOCKET_IO_CLIENT = fs.readFileSync(path.join(ROOT, "node_modules/socket.io-client/dist/socket.io.min.js"));

beforeAll(async () => {
  [server, browser, attackerPort, recorderPort] = await Promise.all([
    startServer(),
    launchBrowser([`--host-resolver-rules=MAP ${EVIL} 127.0.0.1`]),
    freePort(),
    freePort(),
  ]);
  // the attacker's site: an empty page and the socket.io browser client
  attacker = http.createServer((req, res) => {
    if (req.url === "/sio.js") res.writeHead(200, { "content-type": "text/javascript" }).end(SOCKET_IO_CLIENT);
    else res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>a page on another site</title><body></body>");
  });
  // a server that records what reaches it and grants nothing: the control
  recorder = http.createServer((req, res) => {
    recorded.push({ method: req.method ?? "", url: req.url ?? "", type: req.headers["content-type"] ?? "", origin: req.headers.origin ?? "" });
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  });
  await Promise.all([
    new Promise<void>((r) => attacker.listen(attackerPort, "127.0.0.1", r)),
    new Promise<void>((r) => recorder.listen(recorderPort, "127.0.0.1", r)),
  ]);
  const run = await api(server.url, "POST", "/api/v1/runs", { project: "victim", name: "secret-run", config: { password: "hunter2" } });
  runId = run.body.id;
  await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq: 0, rows: [{ step: 0, metrics: { loss: 1 } }] });
  token = (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`)).body.token;
  listener = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true });
  await new Promise<void>((resolve, reject) => {
    listener.once("connect", () => resolve());
    listener.once("connect_error", reject);
  });
  listener.emit("subscribe", { run: runId });
  listener.emit("subscribe", { runs: true });
});
afterAll(async () => {
  listener?.close();
  await browser?.close();
  await server?.stop();
  attacker?.close();
  recorder?.close();
});

/** What a page can send to another origin; runs in the attacker's page. Resolves with what the page itself could tell. */
async function fireWrites(page: Page, base: string, ids: { runId: string; token: string }) {
  return page.evaluate(
    async ({ base, runId, token }) => {
      const out: Record<string, string> = {};
      const batch = (seq: number) => JSON.stringify({ seq, rows: [{ step: 1000 + seq, metrics: { loss: "NaN" } }] });
      const run = `${base}/api/v1/runs/${runId}`;
      const noCors = async (name: string, url: string, init: RequestInit) => {
        try {
          await fetch(url, { ...init, mode: "no-cors" });
          out[name] = "sent";
        } catch (e) {
          out[name] = `failed: ${(e as Error).message}`;
        }
      };
      // fetch with no Content-Type (a Blob without a type), and with text/plain
      await noCors("fetch log, no type", `${run}/log`, { method: "POST", body: new Blob([batch(101)]) });
      await noCors("fetch log, text/plain", `${run}/log`, { method: "POST", body: batch(102), headers: { "content-type": "text/plain" } });
      await noCors("fetch create run, text/plain", `${base}/api/v1/runs`, { method: "POST", body: '{"project":"evil"}' });
      await noCors("fetch finish, text/plain", `${run}/finish`, { method: "POST", body: '{"status":"crashed"}' });
      await noCors("fetch share, no body", `${run}/shares`, { method: "POST" });
      // sendBeacon: text/plain from a string, no type from a Blob
      out["beacon log"] = String(navigator.sendBeacon(`${run}/log`, batch(103)));
      out["beacon finish"] = String(navigator.sendBeacon(`${run}/finish`, new Blob(['{"status":"failed"}'])));
      // HTML forms, submitted into frames: text/plain can carry a JSON-looking body
      const frameLoads: Promise<void>[] = [];
      const form = (name: string, action: string, enctype: string, fields: [string, string][]) => {
        const frame = document.createElement("iframe");
        frame.name = name;
        document.body.append(frame);
        // the frame's answer is refused (frame-ancestors); its load event comes all the same, and
        // waiting for it keeps that refusal from landing in whatever the page does next
        frameLoads.push(
          new Promise<void>((resolve) => {
            frame.addEventListener("load", () => resolve(), { once: true });
            setTimeout(resolve, 15_000);
          }),
        );
        const f = document.createElement("form");
        f.method = "POST";
        f.action = action;
        f.enctype = enctype;
        f.target = name;
        for (const [k, v] of fields) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = k;
          input.value = v;
          f.append(input);
        }
        document.body.append(f);
        f.submit();
        out[name] = "submitted";
      };
      form("form-log", `${run}/log`, "text/plain", [['{"seq":104,"rows":[{"step":1104,"metrics":{"loss":"NaN"}}],"x":"', '"}']]);
      form("form-finish", `${run}/finish`, "application/x-www-form-urlencoded", [["status", "finished"]]);
      form("form-share", `${run}/shares`, "multipart/form-data", [["a", "b"]]);
      // application/json and DELETE make the browser ask first (a preflight); the server never agrees
      const cors = async (name: string, url: string, init: RequestInit) => {
        try {
          const r = await fetch(url, init);
          out[name] = `answered ${r.status}`;
        } catch {
          out[name] = "blocked";
        }
      };
      const json = { "content-type": "application/json" };
      await cors("fetch log, json", `${run}/log`, { method: "POST", headers: json, body: batch(105) });
      await cors("fetch finish, json", `${run}/finish`, { method: "POST", headers: json, body: '{"status":"crashed"}' });
      await cors("fetch revoke share", `${base}/api/v1/shares/${token}`, { method: "DELETE", headers: json });
      await cors("read runs list", `${base}/api/v1/runs`, {});
      await Promise.all(frameLoads);
      return out;
    },
    { base, ...ids },
  );
}

/** Every way to listen to the live socket; runs in the attacker's page and reports what arrived. */
async function openSockets(page: Page, base: string, id: string) {
  await page.addScriptTag({ url: "/sio.js" });
  await page.evaluate(
    ({ base, id, path, events }) => {
      type Sio = (url: string, opts: object) => { on(e: string, f: (...a: unknown[]) => void): void; emit(e: string, m: unknown): void };
      const w = window as unknown as { io: Sio; got: string[]; done: Record<string, string> };
      w.got = [];
      w.done = {};
      for (const transport of ["websocket", "polling"]) {
        const s = w.io(base, { path, transports: [transport], reconnection: false });
        s.on("connect", () => {
          w.done[transport] = "connected";
          s.emit("subscribe", { run: id });
          s.emit("subscribe", { runs: true });
        });
        s.on("connect_error", () => (w.done[transport] ??= "refused"));
        for (const e of events) s.on(e, (m) => w.got.push(`${transport} ${e} ${JSON.stringify(m)}`));
      }
      const ws = new WebSocket(`${base.replace("http", "ws")}${path}/?EIO=4&transport=websocket`);
      ws.onopen = () => {
        w.done.raw = "open";
        ws.send("40");
        ws.send(`42["subscribe",{"run":${JSON.stringify(id)}}]`);
        ws.send('42["subscribe",{"runs":true}]');
      };
      ws.onmessage = (m) => w.got.push(`raw ${String(m.data)}`);
      ws.onclose = () => (w.done.raw ??= "refused");
    },
    { base, id, path: SOCKET_PATH, events: [...SERVER_EVENTS] },
  );
  await waitFor(
    () => page.evaluate(() => Object.keys((window as unknown as { done: object }).done).length === 3),
    20_000,
    "every socket attempt to end",
  );
}

async function state() {
  const [runs, run, shares] = await Promise.all([
    api(server.url, "GET", "/api/v1/runs"),
    api(server.url, "GET", `/api/v1/runs/${runId}`),
    api(server.url, "GET", `/api/v1/runs/${runId}/shares`),
  ]);
  return {
    db: dbFingerprint(server.dbPath),
    runs: runs.body.runs.map((r: { id: string; status: string }) => [r.id, r.status]),
    status: run.body.status,
    shares: shares.body.shares.map((s: { token: string }) => s.token),
  };
}

describe("a page of another origin", () => {
  test("the control: the browser does send the no-cors writes, beacons and forms to another origin", async () => {
    const { page } = await browser.open(`http://${EVIL}:${attackerPort}/`);
    const recorderBase = `http://127.0.0.1:${recorderPort}`;
    const out = await fireWrites(page, recorderBase, { runId: "r", token: "t" });
    expect(out["fetch log, json"]).toBe("blocked"); // the recorder grants no preflight either
    await waitFor(() => recorded.filter((r) => r.method === "POST").length >= 10, 20_000, "ten POSTs at the recorder");
    const posts = recorded.filter((r) => r.method === "POST");
    expect(posts.every((r) => r.origin === `http://${EVIL}:${attackerPort}`)).toBe(true);
    expect(new Set(posts.map((r) => r.type.split(";")[0]))).toEqual(
      new Set(["", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]),
    );
    expect(posts.some((r) => r.type.includes("json"))).toBe(false); // a JSON write never left without a preflight
    await page.close();
  });

  test.each([
    ["another site", () => `http://${EVIL}:${attackerPort}`],
    ["another port of the same host", () => `http://127.0.0.1:${attackerPort}`],
  ])("from %s: every write refused, nothing changed, no live data", { timeout: 120_000 }, async (_what, origin) => {
    const before = await state();
    const { page } = await browser.open(`${origin()}/`);
    // what reached the server and what it answered, from the browser's network log (CDP): the
    // raw answer is seen even where the browser then hides it from the page (opaque no-cors
    // answers blocked by Cross-Origin-Resource-Policy, beacons, frames refused by frame-ancestors)
    // (the two events of one request come in either order)
    const sent = new Map<string, { method: string; url: string }>();
    const statuses = new Map<string, number>();
    const cdp = await page.context().newCDPSession(page);
    cdp.on("Network.requestWillBeSent", (e) => sent.set(e.requestId, { method: e.request.method, url: e.request.url }));
    cdp.on("Network.responseReceivedExtraInfo", (e) => statuses.set(e.requestId, e.statusCode));
    const answers = () =>
      [...statuses].flatMap(([id, status]) => {
        const req = sent.get(id);
        return req?.url.startsWith(server.url) ? [{ ...req, status }] : [];
      });
    await cdp.send("Network.enable");

    const out = await fireWrites(page, server.url, { runId, token });
    // the preflighted ones never got past the browser; the others reached the server and were refused
    expect(out["fetch log, json"]).toBe("blocked");
    expect(out["fetch finish, json"]).toBe("blocked");
    expect(out["fetch revoke share"]).toBe("blocked");
    expect(out["read runs list"]).toBe("blocked"); // no CORS header: the list cannot be read
    const writes = () => answers().filter((a) => a.method === "POST");
    await waitFor(() => writes().length >= 10, 20_000, "answers to the ten writes");
    expect(writes().map((a) => a.status)).toEqual(Array(writes().length).fill(403));

    await openSockets(page, server.url, runId);
    expect(await page.evaluate(() => (window as unknown as { done: object }).done)).toEqual({
      websocket: "refused",
      polling: "refused",
      raw: "refused",
    });

    // nothing the page did changed anything: no run, no point, no status, no share
    expect(await state()).toEqual(before);

    // the server does send live data meanwhile: the legitimate listener gets it, the page nothing
    const seen = new Promise<void>((resolve) => listener.on("points", (m: { runId: string }) => m.runId === runId && resolve()));
    const seq = Date.now();
    expect((await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq, rows: [{ step: 1, metrics: { loss: 0.5 } }] })).status).toBe(200);
    await seen;
    expect(await page.evaluate(() => (window as unknown as { got: string[] }).got)).toEqual([]);

    await page.close();
  });
});

describe("DNS rebinding: a page whose origin names this server through a foreign host", () => {
  test("pages, API and socket answer 421 unknown_host; a same-origin JSON write changes nothing", async () => {
    const rebound = `http://${EVIL}:${server.port}`;
    const before = dbFingerprint(server.dbPath);
    const { page } = await browser.open(`${rebound}/`);
    // (the document itself is the 421 envelope: no run list, no run name)
    expect(await page.content()).not.toContain("secret-run");
    const out = await page.evaluate(
      async ({ runId, path }) => {
        const read = async (url: string, init?: RequestInit) => {
          const r = await fetch(url, init);
          return { status: r.status, body: await r.text() };
        };
        const json = { "content-type": "application/json" };
        const ws = await new Promise<string>((resolve) => {
          const s = new WebSocket(`ws://${location.host}${path}/?EIO=4&transport=websocket`);
          s.onopen = () => resolve("open");
          s.onclose = () => resolve("refused");
        });
        return {
          page: await read(`/runs/${runId}`),
          list: await read("/api/v1/runs"),
          config: await read(`/api/v1/runs/${runId}`),
          write: await read(`/api/v1/runs/${runId}/log`, {
            method: "POST",
            headers: json,
            body: '{"seq":900,"rows":[{"step":9,"metrics":{"loss":"NaN"}}]}',
          }),
          finish: await read(`/api/v1/runs/${runId}/finish`, { method: "POST", headers: json, body: '{"status":"crashed"}' }),
          polling: await read(`${path}/?EIO=4&transport=polling`),
          ws,
        };
      },
      { runId, path: SOCKET_PATH },
    );
    for (const k of ["page", "list", "config", "write", "finish", "polling"] as const) {
      expect({ k, status: out[k].status, code: JSON.parse(out[k].body).error.code }).toEqual({ k, status: 421, code: "unknown_host" });
      expect(out[k].body).not.toContain("hunter2");
    }
    expect(out.ws).toBe("refused");
    expect(dbFingerprint(server.dbPath)).toBe(before);
    await page.close();
  });
});
