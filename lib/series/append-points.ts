import type Database from "better-sqlite3";
import { stmt } from "../db";
import {
  CHUNK_POINTS,
  type Points,
  type Summary,
  addPoint,
  decodeChunk,
  decodeSegment,
  decodeSummaries,
  emptyPoints,
  encodeChunk,
  encodeSegment,
  encodeSummaries,
  mergeSummary,
  newSummary,
  sortDedupe,
  subSummaries,
  summarize,
} from "./codec";
import { type SeriesMeta, createSeries, runSeries, saveSeries } from "./series-meta";

// The write path of a series. Runs inside the caller's transaction.
// New steps (after the last one) go into one uncompressed segment per batch; once a series holds
// CHUNK_POINTS pending points they are compacted into compressed chunks with their summaries.
// A step logged again replaces the old value wherever it lives (slow path, rare: resumed runs).

/** Appends points (any order; the last of equal steps wins) to one series of a run. */
export function appendPoints(db: Database.Database, runId: string, key: string, input: Points): SeriesMeta {
  const pts = sortDedupe(input);
  let meta = runSeries(runId).get(key);
  if (!meta) meta = createSeries(db, runId, key, pts.steps[0]);

  // Sorted: everything after the last stored step is a plain append.
  let split = pts.steps.length;
  while (split > 0 && pts.steps[split - 1] > meta.lastStep) split--;
  if (split > 0) {
    restep(db, meta, slice(pts, 0, split));
  }
  if (split < pts.steps.length) {
    const fresh = slice(pts, split, pts.steps.length);
    insertSegment(db, meta.id, fresh);
    if (meta.count === 0) meta.firstStep = fresh.steps[0];
    for (let i = 0; i < fresh.steps.length; i++) countValue(meta, fresh.values[i]);
    meta.count += fresh.steps.length;
    meta.pendingCount += fresh.steps.length;
    meta.lastStep = fresh.steps[fresh.steps.length - 1];
    meta.lastValue = fresh.values[fresh.values.length - 1];
  }
  if (meta.pendingCount >= CHUNK_POINTS) compact(db, meta);
  saveSeries(db, meta);
  return meta;
}

function insertSegment(db: Database.Database, seriesId: number, p: Points): void {
  stmt(db, "INSERT INTO segments (series_id, start_step, end_step, count, data) VALUES (?, ?, ?, ?, ?)").run(
    seriesId,
    p.steps[0],
    p.steps[p.steps.length - 1],
    p.steps.length,
    encodeSegment(p),
  );
}

function countValue(m: SeriesMeta, v: number): void {
  if (Number.isFinite(v)) {
    if (m.min === null || v < m.min) m.min = v;
    if (m.max === null || v > m.max) m.max = v;
  } else if (Number.isNaN(v)) m.nan++;
  else if (v > 0) m.posInf++;
  else m.negInf++;
}

function slice(p: Points, from: number, to: number): Points {
  return { steps: p.steps.slice(from, to), values: p.values.slice(from, to), times: p.times.slice(from, to) };
}

/** The pending (not yet compacted) points of a series, sorted, later writes winning. */
export function pendingPoints(db: Database.Database, seriesId: number): Points {
  const rows = stmt(db, "SELECT data FROM segments WHERE series_id = ? ORDER BY id").all(seriesId) as { data: Buffer }[];
  const all = emptyPoints();
  for (const r of rows) decodeSegment(r.data, all);
  return sortDedupe(all);
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
  const first = p.steps[0];
  const last = p.steps[p.steps.length - 1];
  if (replaceId === undefined) {
    stmt(db, "INSERT INTO chunks (series_id, start_step, end_step, count, summary, subs, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(seriesId, first, last, p.steps.length, summary, subs, data);
  } else {
    stmt(db, "UPDATE chunks SET start_step = ?, end_step = ?, count = ?, summary = ?, subs = ?, data = ? WHERE id = ?").run(
      first,
      last,
      p.steps.length,
      summary,
      subs,
      data,
      replaceId,
    );
  }
}

function compact(db: Database.Database, meta: SeriesMeta): void {
  const p = pendingPoints(db, meta.id);
  const n = p.steps.length;
  for (let i = 0; i < n; i += CHUNK_POINTS) {
    // a short tail joins the chunk before it
    const end = n - (i + CHUNK_POINTS) < CHUNK_POINTS / 4 ? n : i + CHUNK_POINTS;
    writeChunk(db, meta.id, slice(p, i, end));
    if (end === n) break;
  }
  stmt(db, "DELETE FROM segments WHERE series_id = ?").run(meta.id);
  meta.sealedMaxStep = p.steps[n - 1];
  meta.pendingCount = 0;
}

/** Writes points whose steps are not after the last stored one: each replaces or fills in. */
function restep(db: Database.Database, meta: SeriesMeta, pts: Points): void {
  let i = 0;
  const n = pts.steps.length;
  while (i < n && pts.steps[i] <= meta.sealedMaxStep) {
    const chunk = stmt(db, "SELECT id, start_step, end_step, count, data FROM chunks WHERE series_id = ? AND end_step >= ? ORDER BY end_step LIMIT 1")
      .get(meta.id, pts.steps[i]) as ChunkRow;
    let j = i;
    while (j < n && pts.steps[j] <= chunk.end_step) j++;
    const merged = decodeChunk(chunk.data);
    const add = slice(pts, i, j);
    merged.steps.push(...add.steps);
    merged.values.push(...add.values);
    merged.times.push(...add.times);
    const result = sortDedupe(merged);
    meta.count += result.steps.length - chunk.count;
    writeChunk(db, meta.id, result, chunk.id);
    i = j;
  }
  if (i < n) {
    const rest = slice(pts, i, n);
    const existing = new Set(pendingPoints(db, meta.id).steps);
    insertSegment(db, meta.id, rest);
    for (const s of rest.steps) if (!existing.has(s)) meta.count++;
    meta.pendingCount += rest.steps.length;
  }
  recomputeTotals(db, meta);
}

/** Recomputes a series' totals from its chunk summaries and pending points (after a restep). */
function recomputeTotals(db: Database.Database, meta: SeriesMeta): void {
  const rows = stmt(db, "SELECT summary FROM chunks WHERE series_id = ? ORDER BY start_step").all(meta.id) as { summary: Buffer }[];
  let total: Summary | null = null;
  for (const r of rows) {
    const s = decodeSummaries(r.summary)[0];
    if (total) mergeSummary(total, s);
    else total = s;
  }
  const pending = pendingPoints(db, meta.id);
  for (let k = 0; k < pending.steps.length; k++) {
    total ??= newSummary(pending.steps[k], pending.times[k]);
    addPoint(total, pending.steps[k], pending.values[k]);
  }
  if (!total) return;
  meta.count = total.count;
  meta.firstStep = total.startStep;
  meta.lastStep = total.endStep;
  meta.lastValue = total.last;
  meta.min = total.finite ? total.min : null;
  meta.max = total.finite ? total.max : null;
  meta.nan = total.nan;
  meta.posInf = total.posInf;
  meta.negInf = total.negInf;
}
