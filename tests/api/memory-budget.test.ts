import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type TestServer, api, startServer, waitFor } from "../helpers/server";

// The diagnostics keep long live runs within BABYSIT_MEMORY_MB: at the smallest budget a long run
// with many keys is thinned (its middle kept as bucket extremes) and still diagnosed from its
// recent points, and a divergence in the thinned part is still reported.

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { BABYSIT_MEMORY_MB: "16", BABYSIT_EVAL_INTERVAL_MS: "200" } });
});
afterAll(() => server?.stop());

async function logSteps(id: string, keys: number, from: number, to: number, value: (k: number, step: number) => number | string, seq0: number) {
  let seq = seq0;
  const per = Math.max(1, Math.floor(2000 / keys));
  for (let s = from; s < to; s += per) {
    const rows = [];
    for (let t = s; t < Math.min(to, s + per); t++) {
      const metrics = new Map<string, number | string>();
      for (let k = 0; k < keys; k++) metrics.set(k === 0 ? "train/loss" : `layer${k}/x`, value(k, t));
      rows.push({ step: t, metrics: Object.fromEntries(metrics) });
    }
    const r = await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows });
    expect(r.status).toBe(200);
  }
  return seq;
}

describe("memory budget for live runs", () => {
  test("a long run under the smallest budget is diagnosed, a NaN long ago still counts", async () => {
    const { body } = await api(server.url, "POST", "/api/v1/runs", { project: "budget", name: "long", config: { num_classes: 10 } });
    const id = body.id as string;
    // 40 keys x 30,000 steps = 1.2 M points: more than 16 MiB holds at full resolution
    const loss = (k: number, t: number) => (k === 0 ? 2.3 * Math.exp(-t / 3000) + 0.05 + 0.01 * Math.sin(t) : Math.sin(t / 100 + k));
    let seq = await logSteps(id, 40, 0, 10_000, loss, 0);
    seq = await logSteps(id, 40, 10_000, 10_005, (k, t) => (k === 0 ? "NaN" : loss(k, t)), seq);
    await logSteps(id, 40, 10_005, 30_000, loss, seq);
    await waitFor(
      async () => (await api(server.url, "GET", `/api/v1/runs/${id}/alerts`)).body.alerts.some((a: { code: string }) => a.code === "divergence"),
      20_000,
      "divergence alert",
    );
    const fin = await api(server.url, "POST", `/api/v1/runs/${id}/finish`);
    expect(fin.status).toBe(200);
    const alerts = (await api(server.url, "GET", `/api/v1/runs/${id}/alerts`)).body.alerts as { code: string; firstStep: number }[];
    expect(alerts.find((a) => a.code === "divergence")?.firstStep).toBe(10_000);
    // storage keeps every point whatever the diagnostics hold in memory
    const run = await api(server.url, "GET", `/api/v1/runs/${id}`);
    expect(run.body.keys.find((k: { key: string }) => k.key === "train/loss")).toMatchObject({ count: 30_000, nonFinite: 5 });
  });
});
