// Import: a large TensorBoard log directory (torch's form: one Event per add_scalar, TF1
// simple_value) sent to a real server file by file, as `babysit import` sends it, against a raw
// parse of the same records (TFRecord framing, checksums and protobuf decoding, nothing stored).
// Prints points/s of each and their ratio.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MACHINE, metricValue } from "./common";
import { finishImportedRun, sendImportFile } from "../lib/import/client";
import { ImportData } from "../lib/import/model";
import { planImport } from "../lib/import/plan";
import { readEventFile } from "../lib/import/tensorboard/events";
import { startServer } from "../tests/helpers/server";
import { eventBytes, eventFile, tb } from "../tests/helpers/tb-writer";

const RUNS = Number(process.env.BENCH_TB_RUNS ?? 4);
const KEYS = Number(process.env.BENCH_TB_KEYS ?? 25);
const STEPS = Number(process.env.BENCH_TB_STEPS ?? 10_000);
const points = RUNS * KEYS * STEPS;

console.log(`import: ${RUNS} TensorBoard runs x ${KEYS} keys x ${STEPS} steps = ${points} points on ${MACHINE}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-bench-tb-"));
const names = Array.from({ length: KEYS }, (_, k) => `layer${k}/metric`);
let bytes = 0;
for (let r = 0; r < RUNS; r++) {
  const records: Uint8Array[] = [];
  for (let s = 0; s < STEPS; s++)
    for (let k = 0; k < KEYS; k++) records.push(eventBytes(s, 1_700_000_000 + s, [tb.simple(names[k], metricValue(k, s))]));
  const file = eventFile(records);
  bytes += file.length;
  fs.mkdirSync(path.join(dir, `run${r}`));
  fs.writeFileSync(path.join(dir, `run${r}`, `events.out.tfevents.${1_700_000_000 + r}.bench`), file);
}
console.log(`  ${(bytes / 2 ** 20).toFixed(1)} MiB of event files in ${dir}`);
const plan = planImport([dir]);

// raw parse: every file read and decoded, nothing kept beyond the ImportData
let t = performance.now();
let parsed = 0;
for (const run of plan.runs) {
  for (const f of run.files) {
    const d = new ImportData();
    readEventFile(fs.readFileSync(f.abs), d);
    parsed += d.pointCount;
  }
}
const rawSeconds = (performance.now() - t) / 1000;
if (parsed !== points) throw new Error(`parsed ${parsed} points, expected ${points}`);

const server = await startServer({ env: { BABYSIT_EVAL_INTERVAL_MS: "1000000" } });
try {
  t = performance.now();
  let stored = 0;
  for (const run of plan.runs) {
    let id = "";
    for (const f of run.files) {
      const r = await sendImportFile(
        { url: server.url },
        { project: "bench", source: run.source, path: f.rel, name: run.name },
        fs.readFileSync(f.abs),
      );
      stored += r.points;
      id = r.runId;
    }
    await finishImportedRun({ url: server.url }, id);
  }
  const importSeconds = (performance.now() - t) / 1000;
  if (stored !== points) throw new Error(`stored ${stored} points, expected ${points}`);
  const rawRate = points / rawSeconds;
  const importRate = points / importSeconds;
  console.log(`  raw parse (no storing):             ${Math.round(rawRate).toLocaleString("en")} points/s (${rawSeconds.toFixed(2)} s)`);
  console.log(`  babysit import (HTTP, stored, finished): ${Math.round(importRate).toLocaleString("en")} points/s (${importSeconds.toFixed(2)} s)`);
  console.log(`  ratio import / raw parse: ${(importRate / rawRate).toFixed(3)}`);
} finally {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
