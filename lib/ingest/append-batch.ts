import { sqlite, stmt } from "../db";
import { type LivePoint, seriesRecord } from "../contract/socket";
import { emitTo, hasListeners, runRoom } from "../realtime/hub";
import type { LogBatch } from "../schemas/log-batch";
import { appendRunPoints } from "../series/append-points";
import { type Points, emptyPoints } from "../series/codec";
import { memoryBudgetBytes, storageCacheBudget } from "../memory-budget";
import { evictRunSeries, forgetRunSeries } from "../series/series-meta";
import { decodeValue, encodeValue } from "../values";
import { assertRunExists } from "../runs/assert-run-exists";
import { type Admitted, type Refused, admitKeys } from "./admit-keys";
import { type AcceptedBatch, ingestHooks } from "./hooks";

// what the series caches of runs other than the one logging may hold (lib/memory-budget.ts)
const CACHE_BYTES = storageCacheBudget(memoryBudgetBytes());
let lastEviction = 0;

export interface AppendResult {
  accepted: { points: number; histograms: number; events: number };
  duplicate: boolean;
  /** What the per-run key limits kept out of the batch (admit-keys.ts), or null. */
  refused: Refused | null;
  alerts: unknown[];
}

/**
 * Stores one validated batch of a run in one transaction: all of it or nothing, less what the
 * per-run key limits refuse (answered in `refused`). A batch whose seq was already accepted is
 * acknowledged again with the counts it had, and not stored twice.
 */
export function appendBatch(runId: string, batch: LogBatch): AppendResult {
  const db = sqlite();
  assertRunExists(runId);

  const now = Date.now() / 1000;
  const series = new Map<string, Points>();
  let points = 0;
  let epochPoints = 0;
  for (const row of batch.rows) {
    const time = row.time ?? now;
    for (const key in row.metrics) {
      push(series, key, row.step, decodeValue(row.metrics[key]), time);
      points++;
    }
    // the epoch rides along as its own series so charts can use it as an x axis
    if (row.epoch !== undefined && !("epoch" in row.metrics)) {
      push(series, "epoch", row.step, row.epoch, time);
      epochPoints++;
    }
  }

  let duplicateOf: { points: number; histograms: number; events: number } | undefined;
  let kept: Admitted | undefined;
  const write = db.transaction(() => {
    duplicateOf = stmt(db, "SELECT points, histograms, events FROM batches WHERE run_id = ? AND seq = ?").get(runId, batch.seq) as typeof duplicateOf;
    const k = (kept = admitKeys(runId, batch, series, epochPoints, duplicateOf !== undefined));
    if (duplicateOf) return;
    points -= k.refusedPoints;
    appendRunPoints(db, runId, k.series);
    const putHist = stmt(db, "INSERT OR REPLACE INTO histograms (run_id, key, step, time, edges, counts) VALUES (?, ?, ?, ?, ?, ?)");
    for (const h of k.histograms) {
      putHist.run(runId, h.key, h.step, h.time ?? now, JSON.stringify(h.edges), JSON.stringify(h.counts));
    }
    const putEvent = stmt(db, "INSERT INTO events (run_id, type, step, time, data) VALUES (?, ?, ?, ?, ?)");
    for (const e of k.events) putEvent.run(runId, e.type, e.step ?? null, e.time ?? now, JSON.stringify(e.data));
    stmt(db, "INSERT INTO batches (run_id, seq, points, histograms, events, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(
      runId,
      batch.seq,
      points,
      k.histograms.length,
      k.events.length,
      now,
    );
    stmt(db, "UPDATE runs SET last_seen_at = ?, updated_at = ? WHERE id = ?").run(now, now, runId);
  });
  try {
    write();
  } catch (e) {
    forgetRunSeries(runId); // cached totals may hold the rolled-back writes
    throw e;
  }
  if (Date.now() - lastEviction >= 200) {
    lastEviction = Date.now(); // a check walks every cached series: at most five a second
    evictRunSeries(CACHE_BYTES, runId);
  }

  const hooks = ingestHooks();
  const alerts = hooks.flatMap((h) => h.takeAlerts?.(runId) ?? []);
  const { histograms, events, refused } = kept!;
  if (duplicateOf) return { accepted: duplicateOf, duplicate: true, refused, alerts };

  // only what was stored goes live and to the diagnostics
  const accepted: AcceptedBatch = {
    runId,
    series,
    histograms,
    events: events.map((e) => ({ type: e.type, step: e.step ?? null, data: e.data })),
  };
  broadcast(accepted);
  for (const h of hooks) {
    try {
      h.afterBatch?.(accepted);
    } catch (e) {
      console.error("babysit: ingest hook failed", e);
    }
  }
  return { accepted: { points, histograms: histograms.length, events: events.length }, duplicate: false, refused, alerts };
}

function push(series: Map<string, Points>, key: string, step: number, value: number, time: number): void {
  let p = series.get(key);
  if (!p) series.set(key, (p = emptyPoints()));
  p.steps.push(step);
  p.values.push(value);
  p.times.push(time);
}

function broadcast(b: AcceptedBatch): void {
  const room = runRoom(b.runId);
  if (!hasListeners(room)) return;
  // keys are user data (`__proto__` included): a null-prototype record keeps every one of them
  const series = seriesRecord([...b.series].map(([key, p]) => [key, p.steps.map((s, i): LivePoint => [s, encodeValue(p.values[i]), p.times[i]])]));
  emitTo(room, "points", { runId: b.runId, series });
  for (const h of b.histograms) emitTo(room, "histogram", { runId: b.runId, key: h.key, step: h.step });
  for (const e of b.events)
    emitTo(room, "event", { runId: b.runId, type: e.type, step: e.step, data: e.type === "image" ? { key: e.data.key } : e.data });
}
