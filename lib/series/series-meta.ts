import type Database from "better-sqlite3";
import { sqlite, stmt } from "../db";
import { singleton } from "../singleton";
import { decodeValue, encodeValue, type WireNumber } from "../values";
import { type Points, type Summary, decodePending, decodeSummaries, emptyPoints, mergeSummary } from "./codec";
import { forgetKeySets, keySetBytes, retainKeySets } from "./key-sets";
import { quarantine } from "./quarantine";

// What the server knows of each series without reading its points, cached in memory per run:
// - `sealed`: totals over the compressed chunks, mirrored in the `series` row (written only when
//   the chunks change: creation, compaction, a re-logged old step);
// - `pending`: the points not yet compacted, sorted by step (their durable copy is the run's
//   pending_batches rows, replayed here when a run is first touched);
// - the top-level totals: sealed and pending together, what the API shows.

export interface Totals {
  count: number;
  firstStep: number;
  lastStep: number;
  lastValue: number;
  min: number | null;
  max: number | null;
  nan: number;
  posInf: number;
  negInf: number;
}

export interface SeriesMeta extends Totals {
  id: number;
  runId: string;
  key: string;
  sealedMaxStep: number;
  sealed: Totals;
  pending: Points;
}

interface SeriesRow {
  id: number;
  run_id: string;
  key: string;
  count: number;
  first_step: number;
  last_step: number;
  last_value: string;
  min: number | null;
  max: number | null;
  nan_count: number;
  pos_inf_count: number;
  neg_inf_count: number;
  sealed_max_step: number;
}

export function emptyTotals(firstStep: number): Totals {
  return { count: 0, firstStep, lastStep: -1, lastValue: NaN, min: null, max: null, nan: 0, posInf: 0, negInf: 0 };
}

/** Folds one value into totals (count, min/max over finite values, non-finite counts). */
export function countValue(t: Totals, step: number, v: number): void {
  if (t.count === 0) t.firstStep = step;
  t.count++;
  t.lastStep = step;
  t.lastValue = v;
  if (Number.isFinite(v)) {
    if (t.min === null || v < t.min) t.min = v;
    if (t.max === null || v > t.max) t.max = v;
  } else if (Number.isNaN(v)) t.nan++;
  else if (v > 0) t.posInf++;
  else t.negInf++;
}

/** Sets a series' visible totals to its sealed totals plus its pending points. */
export function refreshTotals(m: SeriesMeta): void {
  const t: Totals = { ...m.sealed };
  const p = m.pending;
  for (let i = 0; i < p.steps.length; i++) countValue(t, p.steps[i], p.values[i]);
  Object.assign(m, t);
}

function fromRow(r: SeriesRow): SeriesMeta {
  const sealed: Totals = {
    count: r.count,
    firstStep: r.first_step,
    lastStep: r.last_step,
    lastValue: decodeValue(JSON.parse(r.last_value) as WireNumber),
    min: r.min,
    max: r.max,
    nan: r.nan_count,
    posInf: r.pos_inf_count,
    negInf: r.neg_inf_count,
  };
  return { ...sealed, id: r.id, runId: r.run_id, key: r.key, sealedMaxStep: r.sealed_max_step, sealed, pending: emptyPoints() };
}

type RunCache = Map<string, SeriesMeta>;
const cache = () => singleton("babysit.seriesMeta", () => new Map<string, RunCache>());

/**
 * Every series of a run, keyed by metric key (loaded once, then kept current by ingest). The cache
 * is kept in least-recently-used order, so that evictRunSeries lets the runs unused longest go.
 */
export function runSeries(runId: string): RunCache {
  const all = cache();
  let run = all.get(runId);
  if (run) {
    all.delete(runId); // most recently used last
    all.set(runId, run);
  } else {
    const db = sqlite();
    run = new Map();
    const byId = new Map<number, SeriesMeta>();
    for (const r of stmt(db, "SELECT * FROM series WHERE run_id = ?").all(runId) as SeriesRow[]) {
      const m = fromRow(r);
      run.set(m.key, m);
      byId.set(m.id, m);
    }
    // replay the pending batches, in the order they were accepted; one that does not decode is
    // set aside, not replayed into the same failure on every load
    for (const b of stmt(db, "SELECT id, data FROM pending_batches WHERE run_id = ? ORDER BY id").all(runId) as { id: number; data: Buffer }[]) {
      let parts: [number, Points][];
      try {
        parts = decodePending(b.data);
      } catch (e) {
        db.transaction(() => {
          quarantine(db, runId, { kind: "pending_batch", reason: e, data: b.data });
          stmt(db, "DELETE FROM pending_batches WHERE id = ?").run(b.id);
        })();
        continue;
      }
      for (const [seriesId, p] of parts) {
        const m = byId.get(seriesId);
        if (m) mergePending(m.pending, p);
      }
    }
    for (const m of run.values()) if (m.pending.steps.length) refreshTotals(m);
    all.set(runId, run);
  }
  return run;
}

/** A run's series if they are already in memory (never loads them). */
export function cachedRunSeries(runId: string): RunCache | undefined {
  return cache().get(runId);
}

/** Rough bytes a cached series costs: its meta and totals objects, its Map entry and key, and 24
 * bytes (with array slack, 32) per point not yet compacted. */
const SERIES_BYTES = 1000;
export const PENDING_POINT_BYTES = 32;

function runCacheBytes(run: RunCache): number {
  let points = 0;
  for (const m of run.values()) points += m.pending.steps.length;
  return run.size * SERIES_BYTES + points * PENDING_POINT_BYTES;
}

/**
 * Keeps the cached series of runs other than `keep` within `maxBytes`, forgetting the least
 * recently used runs first (outside any transaction: everything they hold is in the database, and
 * runSeries reloads it). A check walks every cached series: callers space them out.
 */
export function evictRunSeries(maxBytes: number, keep: string): void {
  const all = cache();
  const sizes = new Map<string, number>();
  let total = 0;
  for (const [id, run] of all) {
    if (id === keep) continue;
    const b = runCacheBytes(run) + keySetBytes(id);
    sizes.set(id, b);
    total += b;
  }
  for (const [id, b] of sizes) {
    if (total <= maxBytes) break;
    all.delete(id);
    total -= b;
  }
  // a run's histogram and image key sets go with its series
  retainKeySets((id) => id === keep || all.has(id));
}

/** Forgets a run's cached series (after a rolled-back transaction, so they are reloaded). */
export function forgetRunSeries(runId: string): void {
  cache().delete(runId);
  forgetKeySets(runId);
}

/**
 * Merges sorted points into sorted pending points; a step already there is replaced. Returns
 * true when it was a plain append (every step after the last one), so totals can be updated
 * incrementally.
 */
export function mergePending(into: Points, p: Points): boolean {
  const n = into.steps.length;
  if (n === 0 || p.steps[0] > into.steps[n - 1]) {
    for (let i = 0; i < p.steps.length; i++) {
      into.steps.push(p.steps[i]);
      into.values.push(p.values[i]);
      into.times.push(p.times[i]);
    }
    return true;
  }
  for (let i = 0; i < p.steps.length; i++) {
    const s = p.steps[i];
    let lo = 0;
    let hi = into.steps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (into.steps[mid] < s) lo = mid + 1;
      else hi = mid;
    }
    if (into.steps[lo] === s) {
      into.values[lo] = p.values[i];
      into.times[lo] = p.times[i];
    } else {
      into.steps.splice(lo, 0, s);
      into.values.splice(lo, 0, p.values[i]);
      into.times.splice(lo, 0, p.times[i]);
    }
  }
  return false;
}

export function createSeries(db: Database.Database, runId: string, key: string, step: number): SeriesMeta {
  const info = stmt(
    db,
    "INSERT INTO series (run_id, key, count, first_step, last_step, last_value, sealed_max_step) VALUES (?, ?, 0, ?, -1, '\"NaN\"', -1)",
  ).run(runId, key, step);
  const sealed = emptyTotals(step);
  const meta: SeriesMeta = { ...sealed, id: Number(info.lastInsertRowid), runId, key, sealedMaxStep: -1, sealed, pending: emptyPoints() };
  runSeries(runId).set(key, meta);
  return meta;
}

/** Writes a series' sealed totals to its row. */
export function saveSealed(db: Database.Database, m: SeriesMeta): void {
  const t = m.sealed;
  stmt(
    db,
    `UPDATE series SET count = ?, first_step = ?, last_step = ?, last_value = ?, min = ?, max = ?,
       nan_count = ?, pos_inf_count = ?, neg_inf_count = ?, sealed_max_step = ? WHERE id = ?`,
  ).run(t.count, t.firstStep, t.lastStep, JSON.stringify(encodeValue(t.lastValue)), t.min, t.max, t.nan, t.posInf, t.negInf, m.sealedMaxStep, m.id);
}

/** Recounts a series' sealed totals from its chunks' summaries and saves them. */
export function resealTotals(db: Database.Database, meta: SeriesMeta): void {
  let total: Summary | null = null;
  for (const r of stmt(db, "SELECT summary FROM chunks WHERE series_id = ? ORDER BY start_step").all(meta.id) as { summary: Buffer }[]) {
    let s: Summary | undefined;
    try {
      s = decodeSummaries(r.summary)[0];
    } catch {
      continue; // its chunk is set aside when it is read (get-series)
    }
    if (!s) continue;
    if (total) mergeSummary(total, s);
    else total = s;
  }
  const t = emptyTotals(meta.sealed.firstStep);
  if (total) {
    Object.assign(t, {
      count: total.count,
      firstStep: total.startStep,
      lastStep: total.endStep,
      lastValue: total.last,
      min: total.finite ? total.min : null,
      max: total.finite ? total.max : null,
      nan: total.nan,
      posInf: total.posInf,
      negInf: total.negInf,
    });
  }
  meta.sealed = t;
  saveSealed(db, meta);
  refreshTotals(meta);
}

/** Sets aside a sealed chunk that does not decode and recounts the series' sealed totals without it. */
export function quarantineChunk(
  db: Database.Database,
  meta: SeriesMeta,
  chunk: { id: number; start_step: number; end_step: number; count: number },
  reason: unknown,
): void {
  db.transaction(() => {
    const row = stmt(db, "SELECT data FROM chunks WHERE id = ?").get(chunk.id) as { data: Buffer } | undefined;
    if (!row) return; // already set aside
    quarantine(db, meta.runId, {
      kind: "chunk",
      key: meta.key,
      reason,
      data: row.data,
      points: chunk.count,
      firstStep: chunk.start_step,
      lastStep: chunk.end_step,
    });
    stmt(db, "DELETE FROM chunks WHERE id = ?").run(chunk.id);
    resealTotals(db, meta);
  })();
}
