import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import { type TestServer, api, startServer } from "../helpers/server";

// A run's start and end as its SDK saw them (startedAt in POST /api/v1/runs, finishedAt in the
// finish body): a run replayed from a spool hours later shows when it trained, not when it was
// synced. A time that is not sane (future past the skew, older than the max age, an end before the
// start) is replaced by the server's clock, the run kept; one that is not Unix seconds is a 400.

let server: TestServer;
const call = (method: string, p: string, body?: unknown) => api(server.url, method, p, body);
const SKEW = LIMITS.runTimeFutureSkew.value;
const MAX_AGE = LIMITS.runTimeMaxAge.value;

beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

let n = 0;
const runId = () => `times-${++n}-${Date.now()}`;
const nowS = () => Date.now() / 1000;

async function runTimes(id: string) {
  const r = await call("GET", `/api/v1/runs/${id}`);
  expect(r.status).toBe(200);
  return { createdAt: r.body.run.createdAt as number, finishedAt: r.body.run.finishedAt as number | null };
}

describe("a run keeps the times its SDK sent", () => {
  test("a run trained an hour ago and synced now starts and ends when it trained", async () => {
    const id = runId();
    const started = Math.round(nowS()) - 3600;
    expect((await call("POST", "/api/v1/runs", { project: "times", id, startedAt: started })).status).toBe(201);
    expect((await call("POST", `/api/v1/runs/${id}/finish`, { status: "finished", finishedAt: started + 42.5 })).status).toBe(200);
    expect(await runTimes(id)).toEqual({ createdAt: started, finishedAt: started + 42.5 });
  });

  test("a resumed run keeps its first start", async () => {
    const id = runId();
    const started = Math.round(nowS()) - 7200;
    await call("POST", "/api/v1/runs", { project: "times", id, startedAt: started });
    expect((await call("POST", "/api/v1/runs", { project: "times", id, startedAt: started + 100 })).status).toBe(200);
    expect((await runTimes(id)).createdAt).toBe(started);
  });
});

describe("a time that is not sane is replaced by the server's clock (the run is kept)", () => {
  test.each([
    ["startedAt in the future past the skew", () => ({ startedAt: nowS() + SKEW + 3600 })],
    ["startedAt older than the max age", () => ({ startedAt: nowS() - MAX_AGE - 86_400 })],
    ["startedAt 0 (an unset clock)", () => ({ startedAt: 0 })],
  ])("%s", async (_what, extra) => {
    const id = runId();
    const before = nowS();
    expect((await call("POST", "/api/v1/runs", { project: "times", id, ...extra() })).status).toBe(201);
    const { createdAt } = await runTimes(id);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1);
    expect(createdAt).toBeLessThanOrEqual(nowS() + 1);
  });

  test.each([
    ["finishedAt before the run's start", (started: number) => started - 60],
    ["finishedAt in the future past the skew", () => nowS() + SKEW + 3600],
    ["finishedAt older than the max age", () => nowS() - MAX_AGE - 86_400],
  ])("%s", async (_what, finishedAt) => {
    const id = runId();
    const started = Math.round(nowS()) - 600;
    await call("POST", "/api/v1/runs", { project: "times", id, startedAt: started });
    const before = nowS();
    expect((await call("POST", `/api/v1/runs/${id}/finish`, { finishedAt: finishedAt(started) })).status).toBe(200);
    const t = await runTimes(id);
    expect(t.createdAt).toBe(started);
    expect(t.finishedAt).toBeGreaterThanOrEqual(before - 1);
    expect(t.finishedAt).toBeLessThanOrEqual(nowS() + 1);
  });
});

describe("a time that is not Unix seconds is a 400 and writes nothing", () => {
  const bad: [string, unknown][] = [
    ["a string", "1700000000"],
    ["milliseconds", Date.now()],
    ["negative", -1],
    ["null", null],
    ["true", true],
  ];
  test.each(bad)("startedAt %s", async (_what, startedAt) => {
    const id = runId();
    const r = await call("POST", "/api/v1/runs", { project: "times", id, startedAt });
    expect({ status: r.status, code: r.body.error.code }).toEqual({ status: 400, code: "invalid_body" });
    expect(r.body.error.message).toMatch(/^startedAt /);
    expect((await call("GET", `/api/v1/runs/${id}`)).status).toBe(404);
  });

  test.each(bad)("finishedAt %s", async (_what, finishedAt) => {
    const id = runId();
    await call("POST", "/api/v1/runs", { project: "times", id });
    const r = await call("POST", `/api/v1/runs/${id}/finish`, { status: "finished", finishedAt });
    expect({ status: r.status, code: r.body.error.code }).toEqual({ status: 400, code: "invalid_body" });
    expect(r.body.error.message).toMatch(/^finishedAt /);
    expect(await runTimes(id)).toMatchObject({ finishedAt: null });
  });
});
