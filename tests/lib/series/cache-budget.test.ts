import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

// Storage keeps per-run caches of series (totals, points not yet compacted) for the runs it
// touched; within its share of BABYSIT_MEMORY_MB the least recently used runs' caches go, and
// reading such a run again reloads the same totals and pending points from the database.

useFreshDatabase();
const { sqlite } = await import("@/lib/db");
const { appendRunPoints } = await import("@/lib/series/append-points");
const { cachedRunSeries, evictRunSeries, runSeries } = await import("@/lib/series/series-meta");
const { getSeries } = await import("@/lib/series/get-series");

function makeRun(id: string, keys: number) {
  const db = sqlite();
  db.prepare("INSERT OR IGNORE INTO projects (name, created_at) VALUES ('p', 0)").run();
  db.prepare(
    "INSERT INTO runs (id, project_id, name, created_at, updated_at, last_seen_at) VALUES (?, (SELECT id FROM projects WHERE name='p'), ?, 0, 0, 0)",
  ).run(id, id);
  const series = new Map<string, { steps: number[]; values: number[]; times: number[] }>();
  for (let k = 0; k < keys; k++) series.set(`key/${k}`, { steps: [0, 1, 2], values: [k, Number.NaN, k + 2], times: [1, 2, 3] });
  db.transaction(() => appendRunPoints(db, id, series))();
}

describe("series caches within a budget", () => {
  test("least recently used runs leave first; the run being written and recent ones stay; reloads are exact", () => {
    for (let r = 0; r < 6; r++) makeRun(`c${r}`, 500);
    runSeries("c0"); // c0 is now the most recently used
    const before = getSeries("c1", "key/7", { points: 10 });
    // room for about two runs of 500 series (1,000 bytes each plus their pending points)
    evictRunSeries(2 * 500 * 1100, "c5");
    const kept = ["c0", "c1", "c2", "c3", "c4", "c5"].filter((id) => cachedRunSeries(id));
    expect(kept).toContain("c5"); // the run being written
    expect(kept).toContain("c1"); // read last
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(cachedRunSeries("c2")).toBeUndefined();
    // an evicted run reads back the same: totals and pending points come from the database
    const again = runSeries("c2").get("key/7")!;
    expect({ count: again.count, nan: again.nan, min: again.min, max: again.max, pending: again.pending.steps }).toEqual({
      count: 3,
      nan: 1,
      min: 7,
      max: 9,
      pending: [0, 1, 2],
    });
    expect(getSeries("c1", "key/7", { points: 10 })).toEqual(before);
  });

  test("reading a run that does not exist answers not found and caches nothing", () => {
    for (const id of ["nope-1", "nope-2", "__proto__"]) {
      expect(() => getSeries(id, "key/0", { points: 10 })).toThrow(`run ${id} does not exist`);
      expect(cachedRunSeries(id)).toBeUndefined();
    }
  });
});
