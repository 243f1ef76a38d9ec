import { describe, expect, test } from "vitest";
import { LIMITS } from "@/lib/contract/limits";
import type { AcceptedBatch } from "@/lib/ingest/hooks";
import { pngBase64 } from "../../helpers/png";
import { useFreshDatabase } from "../../helpers/lib-db";

// The per-run key limits inside the process: what ingest's hooks (the diagnostics and alerts) are
// given, and the same answer after the run's caches are forgotten (a restart, an eviction).

useFreshDatabase();
const { sqlite } = await import("@/lib/db");
const { appendBatch } = await import("@/lib/ingest/append-batch");
const { registerIngestHooks } = await import("@/lib/ingest/hooks");
const { forgetRunSeries, runSeries } = await import("@/lib/series/series-meta");
const { appendRunPoints } = await import("@/lib/series/append-points");

function makeRun(id: string) {
  const db = sqlite();
  db.prepare("INSERT OR IGNORE INTO projects (name, created_at) VALUES ('p', 0)").run();
  db.prepare(
    "INSERT INTO runs (id, project_id, name, created_at, updated_at, last_seen_at) VALUES (?, (SELECT id FROM projects WHERE name='p'), ?, 0, 0, 0)",
  ).run(id, id);
}

const seen: AcceptedBatch[] = [];
registerIngestHooks("run-keys-test", { afterBatch: (b) => seen.push(b) });

const PNG = pngBase64(1, 1);
const numbered = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const image = (key: string, step: number) => ({ type: "image", step, data: { key, width: 1, height: 1, png_base64: PNG } });
const hist = (key: string, step: number) => ({ key, step, edges: [0, 1], counts: [1] });

describe("a run at every limit", () => {
  const id = "full";
  makeRun(id);
  // one batch brings the run to each limit exactly
  appendBatch(id, {
    seq: 0,
    rows: [{ step: 0, metrics: Object.fromEntries(numbered("m", LIMITS.keysPerRun.value).map((k) => [k, 1])) }],
    histograms: [],
    events: [],
  });
  const histKeys = numbered("h", LIMITS.histogramKeysPerRun.value);
  for (let j = 0; j < histKeys.length; j += LIMITS.histogramsPerBatch.value) {
    appendBatch(id, { seq: 1 + j, rows: [], histograms: histKeys.slice(j, j + LIMITS.histogramsPerBatch.value).map((k) => hist(k, 0)), events: [] });
  }
  appendBatch(id, { seq: 100, rows: [], histograms: [], events: numbered("i", LIMITS.imageKeysPerRun.value).map((k) => image(k, 0)) });

  const over = {
    seq: 200,
    // a key named "__proto__" as JSON carries it: an own member, not the prototype; the epoch rides
    // along as the metric key "epoch", new to the run too
    rows: [{ step: 1, epoch: 0.5, metrics: JSON.parse('{"m0": 2, "new/metric": 3, "__proto__": 4}') as Record<string, number> }],
    histograms: [hist("h0", 1), hist("new/hist", 1)],
    events: [image("i0", 1), image("new/image", 1), { type: "note", step: 1, data: {} }],
  };
  const want = {
    accepted: { points: 1, histograms: 1, events: 2 },
    refused: { code: "too_many_keys", points: 2, histograms: 1, events: 1, keys: ["new/metric", "__proto__", "epoch", "new/hist", "new/image"] },
  };

  test("the hooks see only what was stored", () => {
    seen.length = 0;
    const r = appendBatch(id, over);
    expect(r).toMatchObject({ duplicate: false, ...want });
    expect(seen).toHaveLength(1);
    expect([...seen[0].series.keys()]).toEqual(["m0"]);
    expect(seen[0].histograms.map((h) => h.key)).toEqual(["h0"]);
    expect(seen[0].events.map((e) => [e.type, e.data.key])).toEqual([
      ["image", "i0"],
      ["note", undefined],
    ]);
    expect(runSeries(id).size).toBe(LIMITS.keysPerRun.value);
  });

  test("after the caches are forgotten, a replay answers the same and a new batch is held to the same limits", () => {
    forgetRunSeries(id);
    seen.length = 0;
    expect(appendBatch(id, over)).toMatchObject({ duplicate: true, ...want });
    forgetRunSeries(id);
    expect(appendBatch(id, { ...over, seq: 201 })).toMatchObject({ duplicate: false, ...want });
    expect(seen.map((b) => [...b.series.keys()])).toEqual([["m0"]]);
    const count = (sql: string) => (sqlite().prepare(sql).get(id) as { n: number }).n;
    expect(count("SELECT COUNT(*) AS n FROM series WHERE run_id = ?")).toBe(LIMITS.keysPerRun.value);
    expect(count("SELECT COUNT(DISTINCT key) AS n FROM histograms WHERE run_id = ?")).toBe(LIMITS.histogramKeysPerRun.value);
    expect(count("SELECT COUNT(DISTINCT json_extract(data, '$.key')) AS n FROM events WHERE run_id = ? AND type = 'image'")).toBe(
      LIMITS.imageKeysPerRun.value,
    );
  });
});

describe("a run stored with more keys than the limit (before the limits existed)", () => {
  test("keeps every key it has, takes more points for them, and no new key", () => {
    const id = "legacy";
    makeRun(id);
    const over = LIMITS.keysPerRun.value + 5;
    const db = sqlite();
    // written below the ingest path, as an older server did
    db.transaction(() => appendRunPoints(db, id, new Map(numbered("old", over).map((k) => [k, { steps: [0], values: [1], times: [1] }]))))();
    forgetRunSeries(id);
    const r = appendBatch(id, { seq: 0, rows: [{ step: 1, metrics: { old0: 2, [`old${over - 1}`]: 3, fresh: 4 } }], histograms: [], events: [] });
    expect(r).toMatchObject({ accepted: { points: 2 }, refused: { points: 1, keys: ["fresh"] } });
    expect(r.refused!.message).toContain(`has ${over} metric keys, at most ${LIMITS.keysPerRun.value} per run`);
    expect(runSeries(id).get("old0")!.count).toBe(2);
    expect(runSeries(id).size).toBe(over);
  });
});
