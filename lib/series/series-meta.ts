import type Database from "better-sqlite3";
import { sqlite, stmt } from "../db";
import { singleton } from "../singleton";
import { decodeValue, encodeValue, type WireNumber } from "../values";

// Running totals of one series, cached in memory (the ingest path reads and updates them on every
// batch) and written back to the `series` row in the batch's transaction.

export interface SeriesMeta {
  id: number;
  runId: string;
  key: string;
  count: number;
  firstStep: number;
  lastStep: number;
  lastValue: number;
  min: number | null;
  max: number | null;
  nan: number;
  posInf: number;
  negInf: number;
  sealedMaxStep: number;
  pendingCount: number;
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
  pending_count: number;
}

function fromRow(r: SeriesRow): SeriesMeta {
  return {
    id: r.id,
    runId: r.run_id,
    key: r.key,
    count: r.count,
    firstStep: r.first_step,
    lastStep: r.last_step,
    lastValue: decodeValue(JSON.parse(r.last_value) as WireNumber),
    min: r.min,
    max: r.max,
    nan: r.nan_count,
    posInf: r.pos_inf_count,
    negInf: r.neg_inf_count,
    sealedMaxStep: r.sealed_max_step,
    pendingCount: r.pending_count,
  };
}

type RunCache = Map<string, SeriesMeta>;
const cache = () => singleton("babysit.seriesMeta", () => new Map<string, RunCache>());

/** Every series of a run, keyed by metric key (loaded once, then kept current by ingest). */
export function runSeries(runId: string): RunCache {
  const all = cache();
  let run = all.get(runId);
  if (!run) {
    run = new Map();
    const rows = sqlite().prepare("SELECT * FROM series WHERE run_id = ?").all(runId) as SeriesRow[];
    for (const r of rows) run.set(r.key, fromRow(r));
    all.set(runId, run);
  }
  return run;
}

/** Forgets cached totals of a run (after a rolled-back transaction, so they are reloaded). */
export function forgetRunSeries(runId: string): void {
  cache().delete(runId);
}

export function createSeries(db: Database.Database, runId: string, key: string, step: number): SeriesMeta {
  const info = stmt(db, "INSERT INTO series (run_id, key, count, first_step, last_step, last_value, sealed_max_step, pending_count) VALUES (?, ?, 0, ?, -1, '\"NaN\"', -1, 0)",
    )
    .run(runId, key, step);
  const meta: SeriesMeta = {
    id: Number(info.lastInsertRowid),
    runId,
    key,
    count: 0,
    firstStep: step,
    lastStep: -1,
    lastValue: NaN,
    min: null,
    max: null,
    nan: 0,
    posInf: 0,
    negInf: 0,
    sealedMaxStep: -1,
    pendingCount: 0,
  };
  runSeries(runId).set(key, meta);
  return meta;
}

export function saveSeries(db: Database.Database, m: SeriesMeta): void {
  stmt(db, `UPDATE series SET count = ?, first_step = ?, last_step = ?, last_value = ?, min = ?, max = ?,
       nan_count = ?, pos_inf_count = ?, neg_inf_count = ?, sealed_max_step = ?, pending_count = ? WHERE id = ?`,
  ).run(
    m.count,
    m.firstStep,
    m.lastStep,
    JSON.stringify(encodeValue(m.lastValue)),
    m.min,
    m.max,
    m.nan,
    m.posInf,
    m.negInf,
    m.sealedMaxStep,
    m.pendingCount,
    m.id,
  );
}
