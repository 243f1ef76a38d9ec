import type Database from "better-sqlite3";
import { stmt } from "../db";
import {
  CHUNK_POINTS,
  type Points,
  appendPoints,
  decodeChunk,
  emptyPoints,
  encodeChunk,
  encodePending,
  encodeSummaries,
  sortDedupe,
  subSummaries,
  summarize,
} from "./codec";
import {
  type SeriesMeta,
  type Totals,
  countValue,
  createSeries,
  mergePending,
  refreshTotals,
  resealTotals,
  runSeries,
  saveSealed,
} from "./series-meta";
import { quarantine } from "./quarantine";
import { memoryBudgetBytes, pendingBudget } from "../memory-budget";
import { PENDING_POINT_BYTES } from "./series-meta";

// what the pending points of the run being written may hold (lib/memory-budget.ts)
const PENDING_BYTES = pendingBudget(memoryBudgetBytes());

// The write path, inside the caller's transaction. A batch's new points, all series together,
// become ONE pending_batches row (ingest costs one write per batch, not one per series or point)
// and join each series' in-memory pending points. Once a series holds CHUNK_POINTS pending points
// the run is compacted: series with enough pending points get compressed chunks with their
// summaries, the few points of sparse series are carried over into one new pending row.
// A step logged again replaces the old value wherever it lives.

// Series with fewer pending points than this are carried over rather than sealed into tiny chunks.
const MIN_SEAL = CHUNK_POINTS / 4;

/** Appends one batch's points (per key, any order; the last of equal steps wins) to a run. */
export function appendRunPoints(db: Database.Database, runId: string, series: Map<string, Points>): void {
  const run = runSeries(runId);
  const parts: [number, Points][] = [];
  let full = false;
  for (const [key, input] of series) {
    if (!input.steps.length) continue;
    const pts = sortDedupe(input);
    const meta = run.get(key) ?? createSeries(db, runId, key, pts.steps[0]);
    let split = 0;
    while (split < pts.steps.length && pts.steps[split] <= meta.sealedMaxStep) split++;
    if (split > 0) restepSealed(db, meta, slice(pts, 0, split));
    if (split < pts.steps.length) {
      const fresh = split === 0 ? pts : slice(pts, split, pts.steps.length);
      parts.push([meta.id, fresh]);
      if (mergePending(meta.pending, fresh) && split === 0) {
        for (let i = 0; i < fresh.steps.length; i++) countValue(meta, fresh.steps[i], fresh.values[i]);
      } else refreshTotals(meta);
      if (meta.pending.steps.length >= CHUNK_POINTS) full = true;
    } else refreshTotals(meta);
  }
  if (parts.length) stmt(db, "INSERT INTO pending_batches (run_id, data) VALUES (?, ?)").run(runId, encodePending(parts));
  if (full) compactRun(db, runId, false);
  // a run of thousands of keys would hold up to CHUNK_POINTS pending points of each (330 MB for
  // 10,000 keys): past its share of the budget every pending point is sealed, in shorter chunks
  let pending = 0;
  for (const meta of run.values()) pending += meta.pending.steps.length;
  if (pending * PENDING_POINT_BYTES > PENDING_BYTES) compactRun(db, runId, true);
}

/**
 * Moves pending points into chunks. With `all`, every pending point (a finished run); otherwise the
 * series with at least MIN_SEAL of them, the rest carried over into one pending row.
 */
export function compactRun(db: Database.Database, runId: string, all: boolean): void {
  const carry: [number, Points][] = [];
  const seal: SeriesMeta[] = [];
  for (const meta of runSeries(runId).values()) {
    const n = meta.pending.steps.length;
    if (!n) continue;
    if (!all && n < MIN_SEAL) carry.push([meta.id, meta.pending]);
    else seal.push(meta);
  }
  if (!seal.length && !carry.length) return;
  // one savepoint for all the series; only when it fails is each series tried alone, so that the
  // one that fails is set aside and the others' compaction stands
  let sealedAll = false;
  try {
    db.transaction(() => {
      for (const meta of seal) writeSealed(db, meta);
    })();
    sealedAll = true;
  } catch {
    // rolled back to the savepoint: nothing of this compaction is written yet
  }
  for (const meta of seal) {
    if (!sealedAll) {
      try {
        db.transaction(() => writeSealed(db, meta))();
      } catch (e) {
        setAside(db, runId, meta, e);
        continue;
      }
    }
    const p = meta.pending;
    meta.sealed = pick(meta);
    meta.sealedMaxStep = p.steps[p.steps.length - 1];
    meta.pending = emptyPoints();
  }
  stmt(db, "DELETE FROM pending_batches WHERE run_id = ?").run(runId);
  if (carry.length) stmt(db, "INSERT INTO pending_batches (run_id, data) VALUES (?, ?)").run(runId, encodePending(carry));
}

/** Writes a series' pending points as chunks and its row's sealed totals; memory is left to the caller. */
function writeSealed(db: Database.Database, meta: SeriesMeta): void {
  const p = meta.pending;
  const n = p.steps.length;
  for (let i = 0; i < n; i += CHUNK_POINTS) {
    const end = n - (i + CHUNK_POINTS) < MIN_SEAL ? n : i + CHUNK_POINTS; // a short tail joins the chunk before it
    writeChunk(db, meta.id, slice(p, i, end));
    if (end === n) break;
  }
  saveSealed(db, { ...meta, sealed: pick(meta), sealedMaxStep: p.steps[n - 1] });
}

/**
 * Acknowledged points that cannot be compacted would fail every later batch of the run and every
 * restart: they are set aside (kept and reported) and the series goes on without them.
 */
function setAside(db: Database.Database, runId: string, meta: SeriesMeta, reason: unknown): void {
  const p = meta.pending;
  const n = p.steps.length;
  quarantine(db, runId, {
    kind: "pending_points",
    key: meta.key,
    reason,
    data: encodePending([[meta.id, p]]),
    points: n,
    firstStep: p.steps[0],
    lastStep: p.steps[n - 1],
  });
  meta.pending = emptyPoints();
  refreshTotals(meta);
}

function pick(t: Totals): Totals {
  const { count, firstStep, lastStep, lastValue, min, max, nan, posInf, negInf } = t;
  return { count, firstStep, lastStep, lastValue, min, max, nan, posInf, negInf };
}

function slice(p: Points, from: number, to: number): Points {
  return { steps: p.steps.slice(from, to), values: p.values.slice(from, to), times: p.times.slice(from, to) };
}

interface ChunkRow {
  id: number;
  start_step: number;
  end_step: number;
  count: number;
  data: Buffer;
}

function writeChunk(db: Database.Database, seriesId: number, p: Points, replaceId?: number): void {
  const summary = encodeSummaries([summarize(p)]);
  const subs = encodeSummaries(subSummaries(p));
  const data = encodeChunk(p);
  const cols = [p.steps[0], p.steps[p.steps.length - 1], p.steps.length, summary, subs, data];
  if (replaceId === undefined) {
    stmt(db, "INSERT INTO chunks (series_id, start_step, end_step, count, summary, subs, data) VALUES (?, ?, ?, ?, ?, ?, ?)").run(seriesId, ...cols);
  } else {
    stmt(db, "UPDATE chunks SET start_step = ?, end_step = ?, count = ?, summary = ?, subs = ?, data = ? WHERE id = ?").run(...cols, replaceId);
  }
}

/** Writes points whose steps are already sealed: each replaces its old value or fills a gap. */
function restepSealed(db: Database.Database, meta: SeriesMeta, pts: Points): void {
  let i = 0;
  const n = pts.steps.length;
  while (i < n) {
    const chunk = stmt(
      db,
      "SELECT id, start_step, end_step, count, data FROM chunks WHERE series_id = ? AND end_step >= ? ORDER BY end_step LIMIT 1",
    ).get(meta.id, pts.steps[i]) as ChunkRow | undefined;
    if (!chunk) {
      // the chunks that held these steps were set aside: the points make a chunk of their own
      writeChunk(db, meta.id, slice(pts, i, n));
      break;
    }
    let j = i;
    while (j < n && pts.steps[j] <= chunk.end_step) j++;
    let merged: Points;
    try {
      merged = decodeChunk(chunk.data);
    } catch (e) {
      // the chunk is rewritten below with the new points only; its old bytes are kept aside
      quarantine(db, meta.runId, {
        kind: "chunk",
        key: meta.key,
        reason: e,
        data: chunk.data,
        points: chunk.count,
        firstStep: chunk.start_step,
        lastStep: chunk.end_step,
      });
      merged = emptyPoints();
    }
    appendPoints(merged, slice(pts, i, j));
    writeChunk(db, meta.id, sortDedupe(merged), chunk.id);
    i = j;
  }
  resealTotals(db, meta);
}
