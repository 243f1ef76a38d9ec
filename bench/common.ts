import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";

// Shared by the benchmarks: synthetic but realistic metric values and the raw-SQLite baseline.

export const MACHINE = `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

/** A loss-like curve with noise: full-entropy doubles, the hard case for compression. */
export function metricValue(key: number, step: number): number {
  return (1 + key / 10) * Math.exp(-step / 5000) + 0.05 * Math.random();
}

export function tmpFile(name: string): string {
  const dir = path.resolve(import.meta.dirname, "../.tmp/bench");
  fs.mkdirSync(dir, { recursive: true });
  const f = path.join(dir, name);
  for (const ext of ["", "-wal", "-shm"]) fs.rmSync(f + ext, { force: true });
  return f;
}

/**
 * The baseline of the issue: a raw better-sqlite3 prepared INSERT of one row per point
 * (run, key, step, value, time) in one transaction, WAL, synchronous=NORMAL.
 */
export function rawRowPerPoint(file: string, keys: number, steps: number): { seconds: number; bytes: number; db: Database.Database } {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(
    "CREATE TABLE points (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, value REAL, time REAL NOT NULL, PRIMARY KEY (run_id, key, step))",
  );
  const insert = db.prepare("INSERT INTO points (run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)");
  const names = Array.from({ length: keys }, (_, k) => `layer${k}/metric`);
  const t0 = performance.now();
  db.transaction(() => {
    for (let s = 0; s < steps; s++) for (let k = 0; k < keys; k++) insert.run("run", names[k], s, metricValue(k, s), 1795698225 + s * 0.05);
  })();
  const seconds = (performance.now() - t0) / 1000;
  db.pragma("wal_checkpoint(TRUNCATE)");
  return { seconds, bytes: fs.statSync(file).size, db };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
