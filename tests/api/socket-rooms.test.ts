import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_ROOMS_PER_SOCKET, type PointsPayload, SOCKET_PATH, isRunId, isShareToken, roomRequests } from "@/lib/contract/socket";
import { ODD_KEYS, PROTO_NAMES } from "../helpers/odd-keys";
import { type TestServer, api, startServer } from "../helpers/server";

// socket.io rooms: what a subscribe may ask for (lib/contract/socket.ts), bounded per socket, and
// the `points` payload carries every key whatever it is named.

describe("room requests", () => {
  test.each<[string, unknown, unknown[]]>([
    ["a run", { run: "abc_DEF-123" }, [{ run: "abc_DEF-123" }]],
    ["the runs list", { runs: true }, [{ runs: true }]],
    ["a share token", { share: "A".repeat(22) }, [{ share: "A".repeat(22) }]],
    ["an over-long run id", { run: "a".repeat(65) }, []],
    ["a run id with a slash", { run: "a/b" }, []],
    ["a run id with a NUL", { run: "a\u0000" }, []],
    ["an empty run id", { run: "" }, []],
    ["a number", { run: 5 }, []],
    ["runs: 'yes'", { runs: "yes" }, []],
    ["a token of the wrong length", { share: "A".repeat(21) }, []],
    ["null", null, []],
    ["a string", "run:abc", []],
    ["an array", [{ run: "a" }], []],
  ])("%s", (_what, msg, want) => {
    expect(roomRequests(msg)).toEqual(want);
  });

  test("run ids and tokens follow the contract's shapes", () => {
    expect(isRunId("a".repeat(64))).toBe(true);
    expect(isRunId("a".repeat(65))).toBe(false);
    expect(isShareToken("abc")).toBe(false);
  });
});

describe("over a real server", () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.stop();
  });

  async function open(): Promise<Socket> {
    const s = connect(server.url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once("connect", () => resolve());
      s.once("connect_error", reject);
    });
    return s;
  }

  /** Resolves with the next `points` event for `runId`, or null once a later probe arrived without one. */
  async function logAndReceive(s: Socket, runId: string, metrics: Record<string, number>, seq: number) {
    const got = new Promise<PointsPayload>((resolve) => s.on("points", (m: PointsPayload) => m.runId === runId && resolve(m)));
    expect((await api(server.url, "POST", `/api/v1/runs/${runId}/log`, { seq, rows: [{ step: seq, metrics }] })).status).toBe(200);
    return got;
  }

  test("a socket past its room limit is not let into more rooms; malformed requests are ignored", async () => {
    const id = (await api(server.url, "POST", "/api/v1/runs", { project: "socket", name: "capped" })).body.id as string;
    const greedy = await open();
    const fine = await open();
    for (let i = 0; i < MAX_ROOMS_PER_SOCKET + 50; i++) greedy.emit("subscribe", { run: `nope-${i}` });
    greedy.emit("subscribe", { run: "x".repeat(100_000) });
    greedy.emit("subscribe", { run: { $ne: 1 } });
    greedy.emit("subscribe", null);
    greedy.emit("subscribe", { run: id }); // one room too many: ignored
    fine.emit("subscribe", { run: id });
    // socket.io handles one socket's packets in order: an answer to a later emit means they are all in
    const settled = (s: Socket) =>
      new Promise<void>((resolve) => s.emit("subscribe", { share: "A".repeat(22) }) && s.once("share-revoked", () => resolve()));
    await Promise.all([settled(greedy), settled(fine)]);

    let greedyGot = 0;
    greedy.on("points", () => greedyGot++);
    const m = await logAndReceive(fine, id, { loss: 1 }, 0);
    expect(m.series.loss).toEqual([[0, 1, expect.any(Number)]]);
    // the fine socket got the batch; the greedy one, past its limit, is not in the run's room
    await settled(greedy);
    expect(greedyGot).toBe(0);
    // and the server answers as usual
    expect((await api(server.url, "GET", `/api/v1/runs/${id}`)).status).toBe(200);
  });

  test("a subscribe with an acknowledgement is answered once its room is joined: points logged after it arrive", async () => {
    const id = (await api(server.url, "POST", "/api/v1/runs", { project: "rooms", name: "acked" })).body.id;
    const s = await open();
    // a malformed request is acknowledged too (nothing joined), so a page never waits forever
    await new Promise<void>((resolve) => s.emit("subscribe", { run: "a/b" }, () => resolve()));
    await new Promise<void>((resolve) => s.emit("subscribe", { run: id }, () => resolve()));
    const got = await logAndReceive(s, id, { loss: 1 }, 1);
    expect(got?.series).toBeDefined();
  });

  test("a points payload carries every key, named like object members or not", async () => {
    const id = (await api(server.url, "POST", "/api/v1/runs", { project: "socket", name: "odd keys" })).body.id as string;
    const s = await open();
    s.emit("subscribe", { run: id });
    await new Promise<void>((resolve) => s.emit("subscribe", { share: "B".repeat(22) }) && s.once("share-revoked", () => resolve()));
    const keys = [...PROTO_NAMES, ...ODD_KEYS];
    const m = await logAndReceive(s, id, Object.fromEntries(keys.map((k, i) => [k, i])), 0);
    expect(Object.keys(m.series).sort()).toEqual([...keys].sort());
    keys.forEach((k, i) => expect(Object.getOwnPropertyDescriptor(m.series, k)?.value).toEqual([[0, i, expect.any(Number)]]));
  });
});
