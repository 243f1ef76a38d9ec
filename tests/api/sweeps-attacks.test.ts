import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LIMITS, codePointLength } from "@/lib/contract/limits";
import { type TestServer, api, startServer } from "../helpers/server";

// Sweeps against names at their limits: what the server makes on its own (a refined stage's
// default name) must be a name its own API takes back (a run's config.sweep.id), or the workers of
// the next stage cannot join it.

describe("sweep names at the limit", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const max = LIMITS.sweepNameMaxLength.value;
  test.each([
    ["ASCII", "s".repeat(max)],
    ["astral characters", "🦀".repeat(max)],
    ["one short of the limit", "x".repeat(max - 1)],
  ])("a sweep named with %s at the limit refines into a stage that runs can join", async (_what, name) => {
    const project = `lim-${codePointLength(name)}-${name.codePointAt(0)}`;
    const s = await api(server.url, "POST", "/api/v1/sweeps", {
      project,
      name,
      space: { lr: { distribution: "uniform", low: 0, high: 1 } },
      objective: { metric: "loss", goal: "min" },
    });
    expect(s.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const t = await api(server.url, "POST", `/api/v1/sweeps/${s.body.sweep.id}/trials`, {});
      const run = await api(server.url, "POST", "/api/v1/runs", {
        project,
        config: { ...t.body.trial.config, sweep: { id: name, trial: t.body.trial.index } },
      });
      expect(run.status).toBe(201);
      await api(server.url, "POST", `/api/v1/runs/${run.body.id}/log`, { seq: 0, rows: [{ step: 1, metrics: { loss: i } }] });
    }
    const r = await api(server.url, "POST", `/api/v1/sweeps/${s.body.sweep.id}/refine`, {});
    expect(r.status).toBe(201);
    expect(codePointLength(r.body.sweep.name)).toBeLessThanOrEqual(max);
    const join = await api(server.url, "POST", "/api/v1/runs", { project, config: { lr: 0.5, sweep: { id: r.body.sweep.name } } });
    expect({ status: join.status, error: join.body.error }).toEqual({ status: 201, error: undefined });
    const run = await api(server.url, "GET", `/api/v1/runs/${join.body.id}`);
    expect(run.body.run.sweep).toMatchObject({ id: r.body.sweep.id });
  });
});
