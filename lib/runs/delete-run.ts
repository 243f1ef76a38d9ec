import type Database from "better-sqlite3";
import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { closeShareRoom, emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { forgetRunSeries } from "../series/series-meta";
import { singleton } from "../singleton";
import { runDeleted } from "./lifecycle";

// Deleting a run happens in two parts, so that a run of millions of points never holds the one
// SQLite writer (and the event loop, better-sqlite3 being synchronous) for the whole cascade:
// 1. At once, in one short transaction: the runs row goes, with the run's few small rows (shares,
//    tags, alerts, config values), and its id is written to deleted_runs with purged_at NULL. From
//    then on the run is gone for every reader (they all start from the runs row) and a late batch
//    or an SDK's re-create is refused (404, then 410 run_deleted: both SDKs then count the data as
//    rejected), instead of the run coming back empty. Memory's copies of the run are dropped.
//    The runs row is deleted with foreign keys off on this connection, so that its ON DELETE
//    CASCADE does not take every row of the run in the same transaction.
// 2. The rest (pending batches, chunks, series, histograms, events with their images, console lines,
//    batches) is removed in the background, a bounded chunk per transaction (PURGE_CHUNK_MS /
//    PURGE_CHUNK_ROWS), yielding to other work between chunks for at least as long as the chunk
//    took. purged_at is set with the last chunk; a purge cut short by a restart is resumed at start-up
//    (startRunHousekeeping). The first chunk runs before DELETE answers: a small run is gone whole.
//    Turning foreign keys off and on makes SQLite prepare this connection's statements again on
//    their next use (a few ms in all, once per deletion).
// Tombstones are kept for BABYSIT_DELETED_RUN_RETENTION_DAYS (default 30), then forgotten: the id
// may then name a new run.

/** One purge transaction stops after about this long ... */
export const PURGE_CHUNK_MS = 8;
/** ... or after this many rows. */
export const PURGE_CHUNK_ROWS = 2000;
/** Rows per DELETE statement: starts small (an image row can be 4 MiB), doubled while quick. */
const FIRST_STATEMENT_ROWS = 2;
export const MAX_STATEMENT_ROWS = 1024;
/** Pages given back per step when the database is in incremental auto_vacuum mode. */
const VACUUM_PAGES = 512;
/** Tombstones forgotten per statement at start-up and then hourly. */
const PRUNE_ROWS = 1000;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const DEFAULT_RETENTION_DAYS = 30;

export function isDeletedRun(id: string): boolean {
  return stmt(sqlite(), "SELECT 1 FROM deleted_runs WHERE id = ?").get(id) !== undefined;
}

export const deletedRunError = (id: string) =>
  new AppError("run_deleted", `run ${id} was deleted; its id cannot be used again (start a new run without an id, or with another one)`);

// rows of a run few enough to go with the runs row, at once
const SMALL_TABLES = ["shares", "run_tags", "alerts", "run_config_values"] as const;

/**
 * Deletes a run: gone at once for every reader, its rows removed in the background; not_found when
 * there is no such run. `purgeNow` false leaves even the first chunk to the background (a bulk
 * delete of up to bulkRunsMax runs must not spend a chunk's time on each before it answers).
 */
export function deleteRun(id: string, { purgeNow = true } = {}): void {
  const db = sqlite();
  let shares: number[];
  // a no-op inside a transaction: set before it, and back on whatever happens
  db.pragma("foreign_keys = OFF");
  try {
    shares = db
      .transaction(() => {
        if (!stmt(db, "SELECT 1 FROM runs WHERE id = ?").get(id)) throw new AppError("not_found", `run ${id} does not exist`);
        const ids = (stmt(db, "SELECT id FROM shares WHERE run_id = ?").all(id) as { id: number }[]).map((s) => s.id);
        for (const t of SMALL_TABLES) stmt(db, `DELETE FROM ${t} WHERE run_id = ?`).run(id);
        stmt(db, "DELETE FROM runs WHERE id = ?").run(id);
        stmt(db, "INSERT OR REPLACE INTO deleted_runs (id, deleted_at, purged_at) VALUES (?, ?, NULL)").run(id, Date.now() / 1000);
        return ids;
      })
      .immediate();
  } finally {
    db.pragma("foreign_keys = ON");
  }
  forgetRunSeries(id);
  runDeleted(id);
  // pages open on it (the run's own, its shared links) and the runs lists hear it at once
  for (const s of shares) closeShareRoom(s, "revoked");
  emitTo(runRoom(id), "run-deleted", { runId: id });
  emitTo(RUNS_ROOM, "run-deleted", { runId: id });
  let done = false;
  try {
    done = purgeNow && purgeChunk(db, id);
  } catch (err) {
    console.error(`babysit: purging deleted run ${id} failed, retrying in the background:`, err);
  }
  if (!done) schedulePurge(id);
}

type Step = (db: Database.Database, id: string, limit: number) => { deleted: number; more: boolean };

const byRowid =
  (table: string): Step =>
  (db, id, limit) => {
    const deleted = stmt(db, `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE run_id = ? LIMIT ?)`).run(id, limit).changes;
    return { deleted, more: deleted === limit };
  };

// a series' chunks, then the series itself (its cascade then finds no chunk to delete)
const chunksAndSeries: Step = (db, id, limit) => {
  const s = stmt(db, "SELECT id FROM series WHERE run_id = ? LIMIT 1").get(id) as { id: number } | undefined;
  if (!s) return { deleted: 0, more: false };
  let deleted = stmt(db, "DELETE FROM chunks WHERE id IN (SELECT id FROM chunks WHERE series_id = ? LIMIT ?)").run(s.id, limit).changes;
  if (deleted < limit) deleted += stmt(db, "DELETE FROM series WHERE id = ?").run(s.id).changes;
  return { deleted, more: true };
};

const PURGE_STEPS: Step[] = [
  byRowid("pending_batches"),
  chunksAndSeries,
  byRowid("histograms"),
  byRowid("events"),
  byRowid("run_logs"),
  byRowid("batches"),
];

/**
 * Removes one bounded chunk of a deleted run's rows in one transaction; true (and purged_at set)
 * once none is left.
 */
export function purgeChunk(db: Database.Database, id: string): boolean {
  return db
    .transaction(() => {
      const t0 = performance.now();
      let rows = 0;
      for (const step of PURGE_STEPS) {
        // rows of one table cost alike, another table's may cost a thousand times more (images)
        let limit = FIRST_STATEMENT_ROWS;
        for (;;) {
          if (rows >= PURGE_CHUNK_ROWS || performance.now() - t0 >= PURGE_CHUNK_MS) return false;
          const s0 = performance.now();
          const r = step(db, id, limit);
          rows += r.deleted;
          if (!r.more) break;
          if (performance.now() - s0 < PURGE_CHUNK_MS / 8) limit = Math.min(limit * 2, MAX_STATEMENT_ROWS);
          else limit = Math.max(1, limit >> 1);
        }
      }
      stmt(db, "UPDATE deleted_runs SET purged_at = ? WHERE id = ?").run(Date.now() / 1000, id);
      return true;
    })
    .immediate();
}

interface Purger {
  queue: Set<string>;
  running: boolean;
  /** Free pages to give back (incremental auto_vacuum only) once the queue is empty. */
  vacuum: boolean;
  idle: (() => void)[];
}

const purger = () => singleton<Purger>("babysit.run-purge", () => ({ queue: new Set(), running: false, vacuum: false, idle: [] }));

function schedulePurge(id: string): void {
  const p = purger();
  p.queue.add(id);
  if (!p.running) {
    p.running = true;
    setTimeout(purgeTick, 0).unref();
  }
}

function purgeTick(): void {
  const p = purger();
  const db = sqlite();
  const t0 = performance.now();
  const [id] = p.queue;
  try {
    if (id !== undefined) {
      if (purgeChunk(db, id)) {
        p.queue.delete(id);
        p.vacuum = db.pragma("auto_vacuum", { simple: true }) === 2;
      }
    } else if (p.vacuum) {
      db.pragma(`incremental_vacuum(${VACUUM_PAGES})`);
      p.vacuum = (db.pragma("freelist_count", { simple: true }) as number) > 0;
    } else {
      p.running = false;
      for (const f of p.idle.splice(0)) f();
      return;
    }
  } catch (err) {
    // SQLITE_BUSY from another process, a full disk: the run stays hidden, try again later
    console.error(`babysit: purging deleted run ${id ?? "(vacuum)"} failed, retrying in 5 s:`, err);
    setTimeout(purgeTick, 5000).unref();
    return;
  }
  // at least as long as the chunk took goes to other work
  setTimeout(purgeTick, Math.max(1, performance.now() - t0)).unref();
}

/** Resolves once no deleted run's rows are left to remove (tests, benches). */
export function purgesSettled(): Promise<void> {
  const p = purger();
  if (!p.running) return Promise.resolve();
  return new Promise((resolve) => p.idle.push(resolve));
}

/** BABYSIT_DELETED_RUN_RETENTION_DAYS: how long a deleted run's id is refused (default 30 days). */
export function deletedRunRetentionDays(env = process.env.BABYSIT_DELETED_RUN_RETENTION_DAYS): number {
  if (env === undefined || env.trim() === "") return DEFAULT_RETENTION_DAYS;
  const days = Number(env);
  if (Number.isFinite(days) && days >= 0) return days;
  console.warn(`babysit: BABYSIT_DELETED_RUN_RETENTION_DAYS=${JSON.stringify(env)} is not a number of days >= 0; using ${DEFAULT_RETENTION_DAYS}`);
  return DEFAULT_RETENTION_DAYS;
}

/**
 * Forgets up to PRUNE_ROWS tombstones of runs deleted longer than the retention ago whose rows are
 * all gone (the id then names nothing: a log is 404 "does not exist", a create makes a new run).
 * Returns how many it forgot.
 */
export function pruneDeletedRuns(now = Date.now() / 1000, days = deletedRunRetentionDays()): number {
  return stmt(
    sqlite(),
    "DELETE FROM deleted_runs WHERE id IN (SELECT id FROM deleted_runs WHERE deleted_at < ? AND purged_at IS NOT NULL LIMIT ?)",
  ).run(now - days * 86400, PRUNE_ROWS).changes;
}

function pruneAll(days: number): void {
  if (pruneDeletedRuns(Date.now() / 1000, days) === PRUNE_ROWS) setTimeout(() => pruneAll(days), 1).unref();
}

/**
 * At start-up: resumes the purges a stop cut short and forgets tombstones past the retention, then
 * again every hour (timers that never keep the process alive).
 */
export function startRunHousekeeping(): void {
  const days = deletedRunRetentionDays();
  for (const { id } of stmt(sqlite(), "SELECT id FROM deleted_runs WHERE purged_at IS NULL ORDER BY deleted_at").all() as { id: string }[]) {
    schedulePurge(id);
  }
  pruneAll(days);
  setInterval(() => pruneAll(days), PRUNE_INTERVAL_MS).unref();
}
