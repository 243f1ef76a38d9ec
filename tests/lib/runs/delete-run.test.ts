import { describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

// Deleting a run drops what memory holds for it, not only its rows: storage's series caches and key
// sets, and the diagnostics' copy of its data (bytesHeld). A batch arriving afterwards is refused
// and loads nothing back; an SDK's re-create of the id is refused too.

useFreshDatabase();
process.env.BABYSIT_EVAL_INTERVAL_MS = "1";
await import("@/lib/alerts/register");
const { sqlite } = await import("@/lib/db");
const { createRun } = await import("@/lib/runs/create-run");
const { appendBatch } = await import("@/lib/ingest/append-batch");
const { deleteRun } = await import("@/lib/runs/delete-run");
const { cachedRunSeries } = await import("@/lib/series/series-meta");
const { histogramKeySet, keySetBytes } = await import("@/lib/series/key-sets");
const { bytesHeld } = await import("@/lib/alerts/watch-runs");
const { parseLogBatch } = await import("@/lib/schemas/parse-log-batch");
const { appendLogs } = await import("@/lib/logs/append-logs");

const batch = (seq: number, from: number) =>
  parseLogBatch({
    seq,
    rows: Array.from({ length: 50 }, (_, i) => ({ step: from + i, metrics: { loss: i === 49 ? "NaN" : 1 / (i + 1), acc: i / 50 } })),
    histograms: [{ step: from, key: "act/fc1", edges: [0, 1, 2], counts: [1, 2] }],
  });

describe("deleting a run", () => {
  test("drops its series cache, key sets and the diagnostics' copy; a late batch is refused and loads nothing", async () => {
    const keep = await createRun({ project: "mem", name: "keep" });
    const gone = await createRun({ project: "mem", name: "gone", id: "gone-run" });
    appendBatch(keep.id, batch(0, 0));
    appendBatch(gone.id, batch(0, 0));
    histogramKeySet(gone.id);
    expect(cachedRunSeries(gone.id)).toBeDefined();
    expect(keySetBytes(gone.id)).toBeGreaterThan(0);
    const held = bytesHeld();
    expect(held).toBeGreaterThan(0);

    deleteRun(gone.id);
    expect(cachedRunSeries(gone.id)).toBeUndefined();
    expect(keySetBytes(gone.id)).toBe(0);
    expect(bytesHeld()).toBeLessThan(held);
    expect(cachedRunSeries(keep.id)).toBeDefined(); // the other run keeps its caches

    expect(() => appendBatch(gone.id, batch(1, 50))).toThrow(/was deleted/);
    expect(cachedRunSeries(gone.id)).toBeUndefined();
    await expect(createRun({ project: "mem", id: gone.id })).rejects.toMatchObject({ code: "run_deleted", status: 410 });
    // the diagnostics' pending evaluation (1 ms interval) writes no alert for the deleted run
    await new Promise((r) => setTimeout(r, 30));
    const left = sqlite()
      .prepare("SELECT (SELECT COUNT(*) FROM alerts WHERE run_id = ?) + (SELECT COUNT(*) FROM series WHERE run_id = ?) AS n")
      .get(gone.id, gone.id);
    expect(left).toEqual({ n: 0 });
  });
});

const { purgeChunk, purgesSettled, pruneDeletedRuns, deletedRunRetentionDays, PURGE_CHUNK_ROWS, MAX_STATEMENT_ROWS } = await import(
  "@/lib/runs/delete-run"
);

const rowsLeft = (id: string) =>
  (
    sqlite()
      .prepare(
        `SELECT (SELECT COUNT(*) FROM series WHERE run_id = @id) + (SELECT COUNT(*) FROM histograms WHERE run_id = @id)
              + (SELECT COUNT(*) FROM events WHERE run_id = @id) + (SELECT COUNT(*) FROM batches WHERE run_id = @id)
              + (SELECT COUNT(*) FROM pending_batches WHERE run_id = @id) + (SELECT COUNT(*) FROM run_logs WHERE run_id = @id) AS n`,
      )
      .get({ id }) as { n: number }
  ).n;

/** A run of about 18,000 rows: 12 batches of 1,000 histograms, 4 of 1,000 events, 2,000 console lines, points. */
async function bigRun(name: string): Promise<string> {
  const { id } = await createRun({ project: "purge", name });
  let seq = 0;
  for (let b = 0; b < 12; b++) {
    appendBatch(
      id,
      parseLogBatch({
        seq: seq++,
        rows: [{ step: b, metrics: { loss: 1 / (b + 1) } }],
        histograms: Array.from({ length: 1000 }, (_, i) => ({ step: b * 1000 + i, key: "act/fc1", edges: [0, 1, 2], counts: [i, b] })),
      }),
    );
  }
  for (let b = 0; b < 4; b++)
    appendBatch(id, parseLogBatch({ seq: seq++, events: Array.from({ length: 1000 }, (_, i) => ({ type: "note", step: i, data: { i } })) }));
  // and its console output (`babysit run`)
  for (let b = 0; b < 2; b++)
    appendLogs(
      id,
      Array.from({ length: 1000 }, (_, i) => ({ n: b * 1000 + i, stream: "stdout" as const, text: `line ${b * 1000 + i}` })),
    );
  return id;
}

describe("deleting a run of many rows", () => {
  test("the run is gone when deleteRun returns; its rows go in bounded chunks afterwards; the tombstone records the end", async () => {
    const keep = await bigRun("keep");
    const gone = await bigRun("gone");
    const keptRows = rowsLeft(keep);
    const before = rowsLeft(gone);
    expect(before).toBeGreaterThan(18_000);

    deleteRun(gone);
    expect(sqlite().prepare("SELECT 1 FROM runs WHERE id = ?").get(gone)).toBeUndefined();
    expect(sqlite().prepare("SELECT purged_at FROM deleted_runs WHERE id = ?").get(gone)).toEqual({ purged_at: null });
    // the one chunk removed before the answer is bounded: most rows are left to the background
    expect(rowsLeft(gone)).toBeGreaterThan(before - PURGE_CHUNK_ROWS - MAX_STATEMENT_ROWS);
    await purgesSettled();
    expect(rowsLeft(gone)).toBe(0);
    expect((sqlite().prepare("SELECT purged_at FROM deleted_runs WHERE id = ?").get(gone) as { purged_at: number }).purged_at).toBeGreaterThan(0);
    expect(rowsLeft(keep)).toBe(keptRows);
    expect(sqlite().pragma("foreign_key_check")).toEqual([]);
  });

  test("each purge transaction removes at most one chunk of rows", async () => {
    const id = await bigRun("chunked");
    const db = sqlite();
    // the state deleteRun leaves: no runs row, a tombstone waiting for its purge
    db.pragma("foreign_keys = OFF");
    db.prepare("DELETE FROM runs WHERE id = ?").run(id);
    db.pragma("foreign_keys = ON");
    db.prepare("INSERT INTO deleted_runs (id, deleted_at, purged_at) VALUES (?, ?, NULL)").run(id, Date.now() / 1000);
    const removed: number[] = [];
    for (let left = rowsLeft(id), i = 0; i < 100; i++) {
      const done = purgeChunk(db, id);
      removed.push(left - rowsLeft(id));
      left = rowsLeft(id);
      if (done) break;
    }
    expect(rowsLeft(id)).toBe(0);
    expect(removed.length).toBeGreaterThan(3);
    for (const n of removed) expect(n).toBeLessThanOrEqual(PURGE_CHUNK_ROWS + MAX_STATEMENT_ROWS);
  });

  test("in incremental auto_vacuum mode the freed pages are given back and the file shrinks", async () => {
    const db = sqlite();
    db.pragma("auto_vacuum = INCREMENTAL");
    db.exec("VACUUM");
    expect(db.pragma("auto_vacuum", { simple: true })).toBe(2);
    const id = await bigRun("vacuumed");
    db.pragma("wal_checkpoint(TRUNCATE)");
    const pages = db.pragma("page_count", { simple: true }) as number;
    deleteRun(id);
    await purgesSettled();
    expect(db.pragma("freelist_count", { simple: true })).toBe(0);
    expect(db.pragma("page_count", { simple: true }) as number).toBeLessThan(pages * 0.7);
  });
});

describe("tombstones", () => {
  test.each([
    [undefined, 30],
    ["", 30],
    ["7", 7],
    ["0.5", 0.5],
    ["0", 0],
    ["-1", 30],
    ["a week", 30],
    ["Infinity", 30],
  ])("BABYSIT_DELETED_RUN_RETENTION_DAYS=%j: %s days", (env, days) => {
    expect(deletedRunRetentionDays(env)).toBe(days);
  });

  test("are forgotten after the retention, once their rows are gone", () => {
    const db = sqlite();
    const now = Date.now() / 1000; // the runs deleted above, seconds ago, are inside any retention here
    const put = db.prepare("INSERT INTO deleted_runs (id, deleted_at, purged_at) VALUES (?, ?, ?)");
    put.run("t-old", now - 31 * 86400, now - 31 * 86400);
    put.run("t-young", now - 29 * 86400, now - 29 * 86400);
    put.run("t-old-unpurged", now - 31 * 86400, null);
    expect(pruneDeletedRuns(now, 30)).toBe(1);
    const left = (db.prepare("SELECT id FROM deleted_runs WHERE id LIKE 't-%' ORDER BY id").all() as { id: string }[]).map((r) => r.id);
    expect(left).toEqual(["t-old-unpurged", "t-young"]);
    expect(pruneDeletedRuns(now, 1)).toBe(1);
    expect(pruneDeletedRuns(now, 1)).toBe(0);
  });
});
