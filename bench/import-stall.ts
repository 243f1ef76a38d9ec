// How long a big import keeps others waiting: while a 1,000,000-point TensorBoard file (importPointsMax)
// is imported, a probe sends a one-point log batch to another run, one at a time, and records the
// longest answer. The baseline, measured in the same run: the same probe while the same 1,000,000
// points are streamed to a run as an SDK sends them (POST /api/v1/runs/{id}/log, 1,000 rows a
// batch, one batch at a time). Prints both longest waits and their ratio (import / streamed).
// Run: node --import tsx bench/import-stall.ts
import { MACHINE, metricValue } from "./common";
import { sendImportFile } from "../lib/import/client";
import { api, startServer } from "../tests/helpers/server";
import { eventBytes, eventFile, tb } from "../tests/helpers/tb-writer";

const KEYS = Number(process.env.BENCH_STALL_KEYS ?? 40);
const STEPS = Number(process.env.BENCH_STALL_STEPS ?? 25_000);
const points = KEYS * STEPS;
const names = Array.from({ length: KEYS }, (_, k) => `layer${k}/metric`);
console.log(`import stall: ${KEYS} keys x ${STEPS} steps = ${points} points on ${MACHINE}`);

const records: Uint8Array[] = [];
for (let s = 0; s < STEPS; s++)
  for (let k = 0; k < KEYS; k++) records.push(eventBytes(s, 1_700_000_000 + s, [tb.simple(names[k], metricValue(k, s))]));
const file = eventFile(records);
console.log(`  one event file of ${(file.length / 2 ** 20).toFixed(1)} MiB`);

const server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });

/** Sends one-point batches to the run `probe` until `work` settles; the longest answer in ms, and how many were sent. */
async function probeDuring(work: Promise<unknown>, probe: string): Promise<{ longest: number; sent: number }> {
  let done = false;
  work.finally(() => {
    done = true;
  });
  let longest = 0;
  let sent = 0;
  let seq = 0;
  while (!done) {
    const t = performance.now();
    const r = await api(server.url, "POST", `/api/v1/runs/${probe}/log`, { seq: seq++, rows: [{ step: seq, metrics: { loss: 1 } }] });
    if (r.status !== 200) throw new Error(`probe: ${r.status} ${JSON.stringify(r.body)}`);
    longest = Math.max(longest, performance.now() - t);
    sent++;
  }
  await work;
  return { longest, sent };
}

async function stream(run: string) {
  const rows = 1000 / KEYS;
  for (let s = 0, seq = 0; s < STEPS; s += rows) {
    const batch = [];
    for (let i = s; i < Math.min(STEPS, s + rows); i++) {
      const metrics: Record<string, number> = Object.create(null);
      for (let k = 0; k < KEYS; k++) metrics[names[k]] = metricValue(k, i);
      batch.push({ step: i, metrics });
    }
    const r = await api(server.url, "POST", `/api/v1/runs/${run}/log`, { seq: seq++, rows: batch });
    if (r.status !== 200) throw new Error(`stream: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

try {
  for (const id of ["probe-a", "probe-b", "streamed"]) {
    const r = await api(server.url, "POST", "/api/v1/runs", { project: "bench", id });
    if (r.status !== 201) throw new Error(`create ${id}: ${r.status}`);
  }
  let t = performance.now();
  const base = await probeDuring(stream("streamed"), "probe-a");
  const streamSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const imported = sendImportFile({ url: server.url }, { project: "bench", source: "/bench/stall", path: "events.out.tfevents.1.bench" }, file);
  const imp = await probeDuring(imported, "probe-b");
  const importSeconds = (performance.now() - t) / 1000;
  if ((await imported).points !== points) throw new Error(`imported ${(await imported).points} points, expected ${points}`);
  console.log(
    `  streamed by the SDK way (baseline): ${streamSeconds.toFixed(2)} s; longest probe answer ${base.longest.toFixed(0)} ms (${base.sent} probes)`,
  );
  console.log(
    `  imported in one request:            ${importSeconds.toFixed(2)} s; longest probe answer ${imp.longest.toFixed(0)} ms (${imp.sent} probes)`,
  );
  console.log(`  ratio longest wait, import / streamed: ${(imp.longest / base.longest).toFixed(2)}`);
} finally {
  await server.stop();
}
