import { afterAll, beforeAll, expect, test } from "vitest";
import { type TestServer, api, startServer } from "../helpers/server";

// A run's page and GET /api/v1/runs/{id} list its first 1,000 events; a long run (watch() logs two
// input_stats an epoch) logs its latest data statistics after them. Those still come, so the page's
// Data section shows the statistics the diagnostics read, not the ones of the first epochs.

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
});

test("past the first 1,000 events, the latest input, label and output statistics are still in the run's events", async () => {
  const made = await api(server.url, "POST", "/api/v1/runs", { project: "data-stats", name: "long" });
  expect(made.status).toBe(201);
  const id = made.body.id as string;
  const stats = (step: number, split: string, k: number) => ({ type: "input_stats", step, data: { mean: [k, 0], std: [1, 1], split } });
  const early = [stats(0, "train", 0), stats(0, "val", 0), ...Array.from({ length: 998 }, (_, i) => ({ type: "note", step: i, data: { i } }))];
  expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, events: early })).status).toBe(200);
  const late = [
    { type: "note", step: 2000, data: { i: 2000 } },
    stats(2001, "train", 7),
    stats(2001, "val", 70),
    { type: "label_stats", step: 2001, data: { counts: [3, 1], split: "val" } },
    { type: "output_stats", step: 2001, data: { pred_min: 0, pred_max: 1, target_min: -1, target_max: "Infinity" } },
  ];
  expect((await api(server.url, "POST", `/api/v1/runs/${id}/log`, { seq: 1, events: late })).status).toBe(200);

  const got = await api(server.url, "GET", `/api/v1/runs/${id}`);
  expect(got.status).toBe(200);
  const events = got.body.events as { type: string; step: number | null; data: Record<string, unknown> }[];
  // the first 1,000 as before, then the statistics logged after them, in order; other late events are not added
  expect(events).toHaveLength(1004);
  expect(events.slice(1000).map((e) => [e.type, e.step, e.data.split ?? null])).toEqual([
    ["input_stats", 2001, "train"],
    ["input_stats", 2001, "val"],
    ["label_stats", 2001, "val"],
    ["output_stats", 2001, null],
  ]);
  expect(events[1002].data.counts).toEqual([3, 1]);
  expect(events[1003].data.target_max).toBe("Infinity");
  expect(events.some((e) => e.type === "note" && e.step === 2000)).toBe(false);
  expect(Object.keys(events[2]).sort()).toEqual(["data", "step", "time", "type"]);
  // the earlier statistics of a split come without their lists, with what the Data section reads of them;
  // ?events=full lists them as logged
  expect(Object.keys(events[0]).sort()).toEqual(["data", "omitted", "reading", "step", "time", "type"]);
  expect(events[0]).toMatchObject({ data: { split: "train" }, omitted: { fields: ["mean", "std"], length: 2 }, reading: {} });
  expect(events[1]).toMatchObject({
    data: { split: "val" },
    omitted: { fields: ["mean", "std"], length: 2 },
    reading: { history: { off: 1, offCount: 0 } },
  });
  expect(events[1000]).toMatchObject({ data: { mean: [7, 0] }, reading: { change: { previousStep: 0 } } });
  const full = await api(server.url, "GET", `/api/v1/runs/${id}?events=full`);
  const whole = full.body.events as typeof events;
  expect(whole).toHaveLength(1004);
  expect(whole[0].data).toEqual({ mean: [0, 0], std: [1, 1], split: "train" });
  expect(Object.keys(whole[0]).sort()).toEqual(["data", "step", "time", "type"]);
});
