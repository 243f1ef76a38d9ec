// Ingest and storage: 100 keys x 20,000 steps through HTTP in SDK-sized batches (1,000 points,
// one request in flight, as the SDKs send), against a raw better-sqlite3 INSERT of one row per point.
// Prints points/s, bytes on disk per point, and each as a ratio to the baseline of the same run.
import fs from "node:fs";
import { MACHINE, metricValue, rawRowPerPoint, tmpFile } from "./common";
import { freshDbPath, startServer } from "../tests/helpers/server";

/** User + system CPU milliseconds of a process (Linux's /proc), or null elsewhere. */
function cpuMs(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

const KEYS = Number(process.env.BENCH_KEYS ?? 100);
const STEPS = Number(process.env.BENCH_STEPS ?? 20_000);
const BATCH_POINTS = 1000;
const points = KEYS * STEPS;

console.log(`ingest: ${KEYS} keys x ${STEPS} steps = ${points} points on ${MACHINE}`);

const base = rawRowPerPoint(tmpFile("baseline.db"), KEYS, STEPS);
base.db.close();
const baseRate = points / base.seconds;

// Bodies are serialized before the clock starts: the figure is the server's, not the client's JSON.
const names = Array.from({ length: KEYS }, (_, k) => `layer${k}/metric`);
const stepsPerBatch = Math.max(1, Math.floor(BATCH_POINTS / KEYS));
const bodies: string[] = [];
for (let s = 0, seq = 0; s < STEPS; s += stepsPerBatch, seq++) {
  const rows = [];
  for (let t = s; t < Math.min(s + stepsPerBatch, STEPS); t++) {
    const metrics: Record<string, number> = {};
    for (let k = 0; k < KEYS; k++) metrics[names[k]] = metricValue(k, t);
    rows.push({ step: t, time: 1795698225 + t * 0.05, metrics });
  }
  bodies.push(JSON.stringify({ seq, rows }));
}

const dbPath = freshDbPath();
const server = await startServer({ dbPath });
try {
  const created = await fetch(`${server.url}/api/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ project: "bench", name: "ingest" }),
  }).then((r) => r.json() as Promise<{ id: string }>);
  const cpu0 = cpuMs(server.pid);
  const t0 = performance.now();
  for (const body of bodies) {
    const r = await fetch(`${server.url}/api/v1/runs/${created.id}/log`, { method: "POST", headers: { "content-type": "application/json" }, body });
    if (r.status !== 200) throw new Error(`log failed: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  }
  const seconds = (performance.now() - t0) / 1000;
  const rate = points / seconds;
  const cpu1 = cpuMs(server.pid);
  await server.stop();

  const Database = (await import("better-sqlite3")).default;
  const db = new Database(dbPath);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.exec("VACUUM");
  db.close();
  const emptyBytes = fs.statSync(freshDbPath()).size;
  const bytes = fs.statSync(dbPath).size - emptyBytes;

  console.log(`  baseline raw INSERT, row per point, one transaction: ${Math.round(baseRate)} points/s`);
  console.log(`  babysit HTTP + storage, ${bodies.length} batches:        ${Math.round(rate)} points/s`);
  console.log(`  ingest ratio (babysit / baseline): ${(rate / baseRate).toFixed(2)}  (target >= 0.8)`);
  // the server's own CPU time: other processes on shared cores stretch the wall clock far more
  if (cpu0 !== null && cpu1 !== null) console.log(`  server CPU per ${BATCH_POINTS}-point batch: ${((cpu1 - cpu0) / bodies.length).toFixed(2)} ms`);
  console.log(
    `  storage: babysit ${(bytes / points).toFixed(1)} bytes/point, baseline ${(base.bytes / points).toFixed(1)} bytes/point, ratio ${(bytes / base.bytes).toFixed(2)}  (target <= 20 bytes/point)`,
  );
} finally {
  await server.stop();
}
