import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS } from "../../lib/contract/limits";
import { type TestServer, api, startServer } from "../helpers/server";

// The batched series read the run page uses (keys=): bounded by LIMITS.seriesKeysPerRequest.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

describe("GET .../series?keys=", () => {
  const max = LIMITS.seriesKeysPerRequest.value;
  let id = "";
  beforeAll(async () => {
    const r = await api(server.url, "POST", "/api/v1/runs", { project: "series-batch", name: "many" });
    id = r.body.id;
    const metrics = Object.fromEntries(Array.from({ length: max + 1 }, (_, i) => [`k/${i}`, i]));
    expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics }] })).status).toBe(200);
  });

  test.each([1, 2, max])("%i keys in one request -> 200, one series each, in the order asked", async (n) => {
    const keys = Array.from({ length: n }, (_, i) => `k/${n - 1 - i}`);
    const r = await api(server.url, "GET", `/api/v1/runs/${id}/series?keys=${keys.map(encodeURIComponent).join(",")}`);
    expect(r.status).toBe(200);
    expect(r.body.series.map((s: { key: string }) => s.key)).toEqual(keys);
  });

  test.each([max + 1, max * 3])("%i keys in one request -> 400 invalid_query", async (n) => {
    const keys = Array.from({ length: n }, (_, i) => `k/${i % (max + 1)}`);
    const r = await api(server.url, "GET", `/api/v1/runs/${id}/series?keys=${keys.map(encodeURIComponent).join(",")}`);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid_query");
    expect(r.body.error.message).toContain(String(max));
  });
});
