// Server memory after a long live ingest, for several BABYSIT_MEMORY_MB budgets: a baseline (a
// server that took one small run), then one live run of KEYS x STEPS points in SDK-sized batches,
// then RUNS live runs of WIDE keys x WIDE_STEPS steps each (every run stays running, so the
// diagnostics keep it). After each phase the server's V8 heap is collected through the inspector
// and its RSS and heap read; both are printed as ratios against the baseline of the same server.
import fs from "node:fs";
import WebSocket from "ws";
import { MACHINE, metricValue } from "./common";
import { startServer } from "../tests/helpers/server";

const KEYS = Number(process.env.BENCH_KEYS ?? 2000);
const STEPS = Number(process.env.BENCH_STEPS ?? 5000);
const BATCH_POINTS = 10_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WIDE = Number(process.env.BENCH_WIDE ?? 10_000);
const WIDE_STEPS = Number(process.env.BENCH_WIDE_STEPS ?? 20);
const BUDGETS = (process.env.BENCH_BUDGETS ?? "16,64,512").split(",");
// the keys are named like per-layer metrics the rules read (update_ratio/<layer>), the worst case
// for the diagnostics: every series is one they hold
const KEY_NAME = process.env.BENCH_KEY_NAME ?? "update_ratio/layer";

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
  const names = Array.from({ length: keys }, (_, k) => (k === 0 ? "train/loss" : `${KEY_NAME}${k}`));
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

/** Collects the server's garbage through its inspector; returns its heap used and RSS, in MiB. */
async function measure(server: { pid: number; output(): string }): Promise<{ rss: number; heap: number }> {
  // the diagnostics run at most 1 s after the last batch: let them finish first
  await new Promise((r) => setTimeout(r, 3000));
  const url = /ws:\/\/\S+/.exec(server.output())?.[0];
  if (!url) throw new Error("no inspector address in the server's output");
  const ws = new WebSocket(url);
  await new Promise((r, j) => {
    ws.once("open", r);
    ws.once("error", j);
  });
  let id = 0;
  const call = (method: string, params: object = {}) =>
    new Promise<any>((resolve) => {
      const my = ++id;
      const on = (d: WebSocket.RawData) => {
        const m = JSON.parse(String(d));
        if (m.id === my) {
          ws.off("message", on);
          resolve(m.result);
        }
      };
      ws.on("message", on);
      ws.send(JSON.stringify({ id: my, method, params }));
    });
  await call("HeapProfiler.collectGarbage");
  await call("HeapProfiler.collectGarbage");
  const r = await call("Runtime.evaluate", { expression: "process.memoryUsage().heapUsed", returnByValue: true });
  ws.close();
  return { rss: rssMiB((server as { pid: number }).pid), heap: Number(r.result.value) / 2 ** 20 };
}

console.log(`memory: one live run of ${KEYS} keys x ${STEPS} steps, then ${RUNS} live runs of ${WIDE} keys x ${WIDE_STEPS} steps, on ${MACHINE}`);
for (const mb of BUDGETS) {
  const server = await startServer({ env: { BABYSIT_MEMORY_MB: mb, NODE_OPTIONS: "--inspect=127.0.0.1:0" } });
  try {
    await stream(server.url, 10, 100);
    const base = await measure(server);
    const line = (what: string, m: { rss: number; heap: number }) =>
      console.log(
        `  BABYSIT_MEMORY_MB=${mb} ${what}: RSS ${m.rss.toFixed(0)} MiB (x${(m.rss / base.rss).toFixed(2)}), heap after GC ${m.heap.toFixed(0)} MiB (x${(m.heap / base.heap).toFixed(2)})`,
      );
    line("idle (one small run)", base);
    const t0 = performance.now();
    await stream(server.url, KEYS, STEPS);
    line(`after ${KEYS} x ${STEPS} in ${((performance.now() - t0) / 1000).toFixed(0)} s`, await measure(server));
    const t1 = performance.now();
    for (let r = 0; r < RUNS; r++) await stream(server.url, WIDE, WIDE_STEPS);
    line(`then ${RUNS} x ${WIDE} keys x ${WIDE_STEPS} in ${((performance.now() - t1) / 1000).toFixed(0)} s`, await measure(server));
  } finally {
    await server.stop();
  }
}
