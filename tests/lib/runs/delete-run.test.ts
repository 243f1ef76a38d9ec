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
