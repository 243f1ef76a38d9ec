// Server memory after a long live ingest: KEYS x STEPS points streamed into one run that stays
// running (so the diagnostics keep it in memory), in SDK-sized batches; then RUNS runs of WIDE keys
// each (3 steps) left running. Prints the server's RSS after each, as a ratio to the same server's
// RSS with one small run (the baseline, measured in the same run), with the default budget and with
// BABYSIT_MEMORY_MB=128.
import fs from "node:fs";
import { MACHINE, metricValue } from "./common";
import { startServer } from "../tests/helpers/server";

const KEYS = Number(process.env.BENCH_KEYS ?? 100);
const STEPS = Number(process.env.BENCH_STEPS ?? 50_000);
const BATCH_POINTS = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WIDE = Number(process.env.BENCH_WIDE ?? 10_000);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function post(url: string, body: unknown): Promise<any> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function stream(base: string, keys: number, steps: number): Promise<string> {
  const { id } = await post(`${base}/api/v1/runs`, { project: "bench", name: `memory-${keys}x${steps}`, config: { num_classes: 10 } });
  const names = Array.from({ length: keys }, (_, k) => (k === 0 ? "train/loss" : `layer${k}/metric`));
  const perBatch = Math.max(1, Math.floor(BATCH_POINTS / keys));
  for (let s = 0, seq = 0; s < steps; s += perBatch, seq++) {
    const rows = [];
    for (let t = s; t < Math.min(s + perBatch, steps); t++) {
      const metrics: Record<string, number> = {};
      for (let k = 0; k < keys; k++) metrics[names[k]] = metricValue(k, t);
      rows.push({ step: t, time: 1795698225 + t * 0.05, metrics });
    }
    await post(`${base}/api/v1/runs/${id}/log`, { seq, rows });
  }
  return id;
}

/** Waits until the diagnostics have run on everything (an evaluation is at most 1 s after the last batch). */
const settle = () => new Promise((r) => setTimeout(r, 3000));

console.log(`memory: ${KEYS} keys x ${STEPS} steps = ${KEYS * STEPS} points into one live run, on ${MACHINE}`);
const configs: Record<string, string>[] = [
  {},
  { BABYSIT_MEMORY_MB: "128" },
  // a V8 heap too small for the points at full resolution: the server must still take them all
  { BABYSIT_MEMORY_MB: "128", NODE_OPTIONS: "--max-old-space-size=320" },
];
for (const env of configs) {
  const server = await startServer({ env });
  try {
    await stream(server.url, 10, 100);
    await settle();
    const base = rssMiB(server.pid);
    const t0 = performance.now();
    await stream(server.url, KEYS, STEPS);
    const seconds = (performance.now() - t0) / 1000;
    await settle();
    const after = rssMiB(server.pid);
    const label =
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ") || "default budget";
    console.log(
      `  ${label}: baseline RSS ${base.toFixed(0)} MiB (one small run); after ${KEYS * STEPS} live points in ${seconds.toFixed(0)} s: ${after.toFixed(0)} MiB, ratio ${(after / base).toFixed(2)}, ${(((after - base) * 2 ** 20) / (KEYS * STEPS)).toFixed(1)} bytes/point`,
    );
    for (let r = 0; r < RUNS; r++) await stream(server.url, WIDE, 3);
    await settle();
    const wide = rssMiB(server.pid);
    console.log(`    then ${RUNS} more live runs of ${WIDE} keys x 3 steps: ${wide.toFixed(0)} MiB, ratio ${(wide / base).toFixed(2)}`);
  } finally {
    await server.stop();
  }
}
