import Database from "better-sqlite3";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type PointsPayload, SOCKET_PATH, type ShareRevokedPayload } from "@/lib/contract/socket";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// A shared page's socket (it names its link in the handshake) follows that link's run and nothing
// else: no other run, no runs list, no other link; revoking or expiry closes it live.

let server: TestServer;
const sockets: Socket[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.stop();
});

async function open(share?: string): Promise<Socket> {
  const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, auth: share ? { share } : {} });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve());
    s.once("connect_error", reject);
  });
  return s;
}

let seq = 0;
async function newRun(name: string) {
  return (await api(server.url, "POST", "/api/v1/runs", { project: "share-sockets", name })).body.id as string;
}
async function log(runId: string, value: number) {
  seq++;
  expect((await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq, rows: [{ step: seq, metrics: { loss: value } }] })).status).toBe(200);
}
async function link(runId: string) {
  return (await api(server.url, "POST", `/api/v1/runs/${runId}/shares`, { expiresIn: "1d" })).body as { id: number; token: string };
}

/** Everything a socket gets, by event. */
function record(s: Socket) {
  const got = { points: [] as PointsPayload[], run: [] as unknown[], revoked: [] as ShareRevokedPayload[] };
  s.on("points", (m: PointsPayload) => got.points.push(m));
  s.on("run", (m: unknown) => got.run.push(m));
  s.on("share-revoked", (m: ShareRevokedPayload) => got.revoked.push(m));
  return got;
}

describe("a shared page's socket", () => {
  test("follows its own link's run; asking for another run, the runs list or another link gets nothing", async () => {
    const mine = await newRun("mine");
    const other = await newRun("other");
    const mineLink = await link(mine);
    const otherLink = await link(other);
    const s = await open(mineLink.token);
    const got = record(s);
    s.emit("subscribe", { run: other });
    s.emit("subscribe", { runs: true });
    s.emit("subscribe", { share: otherLink.token });
    s.emit("subscribe", { share: mineLink.token });
    // a dashboard socket in the same rooms proves the events were sent
    const dash = await open();
    const seen = record(dash);
    dash.emit("subscribe", { run: other });
    dash.emit("subscribe", { runs: true });
    dash.emit("subscribe", { run: mine });
    await waitFor(async () => {
      await log(mine, 1);
      return got.points.some((m) => m.runId === mine) && seen.points.some((m) => m.runId === mine);
    });
    // the other run's batch and a new run (runs list) go out before the last batch of mine
    await log(other, 2);
    await newRun("third");
    await log(mine, 3);
    await waitFor(() => got.points.some((m) => m.runId === mine && m.series.loss[0][1] === 3), 10_000, "the last batch");
    await waitFor(() => seen.points.some((m) => m.runId === other) && seen.run.length > 0, 10_000, "the dashboard socket's events");
    expect(got.points.filter((m) => m.runId !== mine)).toEqual([]);
    expect(got.run).toEqual([]);
  });

  test("a dashboard socket still follows runs and the runs list", async () => {
    const id = await newRun("dash");
    const s = await open();
    const got = record(s);
    s.emit("subscribe", { run: id });
    s.emit("subscribe", { runs: true });
    await waitFor(async () => {
      await log(id, 1);
      return got.points.length > 0;
    });
    await newRun("listed");
    await waitFor(() => got.run.length > 0, 10_000, "a runs-list event");
  });

  test("revoked by its owner: the socket is told at once and gets nothing more", async () => {
    const id = await newRun("revoked");
    const l = await link(id);
    const s = await open(l.token);
    const got = record(s);
    s.emit("subscribe", { share: l.token });
    await waitFor(async () => {
      await log(id, 1);
      return got.points.length > 0;
    });
    expect((await api(server.url, "DELETE", `/api/v1/runs/${id}/shares/${l.id}`)).status).toBe(204);
    await waitFor(() => got.revoked.length > 0, 10_000, "share-revoked");
    expect(got.revoked).toEqual([{ token: l.token, reason: "revoked" }]);
    const before = got.points.length;
    // a probe the socket answers (an unknown link is refused at once) orders after the batch
    await log(id, 2);
    s.emit("subscribe", { share: l.token });
    await waitFor(() => got.revoked.length > 1, 10_000, "the probe's answer");
    expect(got.points.length).toBe(before);
  });

  test("expiring while open: the socket is told, with the reason", async () => {
    const id = await newRun("expiring");
    const l = await link(id);
    const db = new Database(server.dbPath);
    db.pragma("busy_timeout = 5000");
    db.prepare("UPDATE shares SET expires_at = ? WHERE id = ?").run(Date.now() / 1000 + 1, l.id);
    db.close();
    const s = await open(l.token);
    const got = record(s);
    s.emit("subscribe", { share: l.token });
    await waitFor(() => got.revoked.length > 0, 15_000, "share-revoked on expiry");
    expect(got.revoked).toEqual([{ token: l.token, reason: "expired" }]);
    expect((await api(server.url, "GET", `/api/v1/shares/${l.token}`)).status).toBe(410);
  });
});
