import crypto from "node:crypto";
import Database from "better-sqlite3";

// What a request may have written, as one string: rows a request writes in its own transaction
// (projects, runs and their fields, batches, series keys, histograms, events, shares). Alerts and
// chunk compaction are left out: the server writes those in the background after earlier batches.

const QUERIES = [
  "SELECT id, name FROM projects ORDER BY id",
  "SELECT id, project_id, name, config, status, finished_at FROM runs ORDER BY id",
  "SELECT count(*), total(points), total(histograms), total(events) FROM batches",
  "SELECT run_id, key FROM series ORDER BY id",
  "SELECT count(*), total(length(counts)) FROM histograms",
  "SELECT count(*), total(length(data)) FROM events",
  "SELECT token_hash, run_id, expires_at FROM shares ORDER BY id",
];

export function dbFingerprint(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const hash = crypto.createHash("sha256");
    for (const q of QUERIES) hash.update(JSON.stringify(db.prepare(q).raw().all()));
    return hash.digest("hex");
  } finally {
    db.close();
  }
}
