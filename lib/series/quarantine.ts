import type Database from "better-sqlite3";
import { stmt } from "../db";

// Stored metric data that cannot be processed (a pending batch or chunk that does not decode,
// points that compaction fails on) is set aside instead of being retried: retried, it would fail
// (or hang) on every batch and after every restart. It is kept, whole, as an event of its run of
// type QUARANTINE_EVENT (listed by GET /api/v1/runs/{id}), and logged (docs/api.md, "Stored data that cannot be processed").

export const QUARANTINE_EVENT = "babysit/quarantined";

export interface QuarantineEntry {
  /** pending_batch: one stored batch row; pending_points: a series' uncompacted points; chunk: one sealed chunk. */
  kind: "pending_batch" | "pending_points" | "chunk";
  key?: string;
  reason: unknown;
  /** The stored bytes as they were (pending: decodePending's layout; chunk: its compressed data). */
  data: Uint8Array;
  points?: number;
  firstStep?: number;
  lastStep?: number;
}

/** Records `e` as a quarantine event of the run (inside the caller's transaction, if any). */
export function quarantine(db: Database.Database, runId: string, e: QuarantineEntry): void {
  const reason = e.reason instanceof Error ? `${e.reason.name}: ${e.reason.message}` : String(e.reason);
  console.error(`babysit: quarantined ${e.kind}${e.key === undefined ? "" : ` of "${e.key}"`} of run ${runId}: ${reason}`);
  const data = {
    kind: e.kind,
    key: e.key ?? null,
    reason: reason.slice(0, 1000),
    points: e.points ?? null,
    firstStep: finiteOrNull(e.firstStep),
    lastStep: finiteOrNull(e.lastStep),
    bytes: e.data.byteLength,
    data_base64: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength).toString("base64"),
  };
  const step = e.firstStep !== undefined && Number.isSafeInteger(e.firstStep) && e.firstStep >= 0 ? e.firstStep : null;
  stmt(db, "INSERT INTO events (run_id, type, step, time, data) VALUES (?, ?, ?, ?, ?)").run(
    runId,
    QUARANTINE_EVENT,
    step,
    Date.now() / 1000,
    JSON.stringify(data),
  );
}

const finiteOrNull = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
