// Deleting a large run while another client works: a run of POINTS metric points (KEYS keys), with
// histograms and noisy PNG images, is deleted through DELETE /api/v1/runs/{id} of a real server
// while another client logs small batches to another run and reads its page's API and the runs
// list, one request after another. Prints how long the DELETE took to answer, how long until the
// run's rows were all gone, and the other client's slowest and median request with the delete going
// on as a ratio to the same client's figures with no delete going on (the baseline, measured first
// in the same run). Also: the database file's size and free pages before and after.
// Against the production build (.next), like the tests.
import fs from "node:fs";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import { LIMITS } from "../lib/contract/limits";
import { startServer } from "../tests/helpers/server";
import { MACHINE, median, metricValue, percentile } from "./common";

const POINTS = Number(process.env.BENCH_DELETE_POINTS ?? 2_000_000);
const KEYS = 100;
const STEPS = Math.ceil(POINTS / KEYS);
const HIST_KEYS = 20;
const HIST_STEPS = Number(process.env.BENCH_DELETE_HIST_STEPS ?? 200);
const IMAGES = Number(process.env.BENCH_DELETE_IMAGES ?? 400);
const IMAGE_SIDE = Number(process.env.BENCH_DELETE_IMAGE_SIDE ?? 128);
const BASELINE_MS = 3000;
console.log(
  `delete a run: ${KEYS} keys x ${STEPS} steps (${(KEYS * STEPS).toLocaleString("en")} points), ${HIST_KEYS * HIST_STEPS} histograms, ` +
    `${IMAGES} ${IMAGE_SIDE}x${IMAGE_SIDE} noisy PNGs, on ${MACHINE}`,
);

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A grey PNG of random pixels: about side^2 bytes, as incompressible as a photo. */
function noisyPng(side: number): string {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8;
  const rows = Buffer.alloc((side + 1) * side);
  for (let i = 0; i < rows.length; i++) rows[i] = i % (side + 1) === 0 ? 0 : (Math.random() * 256) | 0;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, pngChunk("IHDR", ihdr), pngChunk("IDAT", zlib.deflateSync(rows)), pngChunk("IEND", Buffer.alloc(0))]).toString("base64");
}

const server = await startServer();
const db = new Database(server.dbPath, { readonly: true });

async function call(method: string, p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(server.url + p, {
    method,
    headers: method === "GET" ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return { status: res.status, json };
}

async function makeBigRun(): Promise<string> {
  const { id } = (await call("POST", "/api/v1/runs", { project: "bench-delete", name: "big" })).json as { id: string };
  const names = Array.from({ length: KEYS }, (_, k) => `layer${k}/metric`);
  const rowsPerBatch = Math.floor(100_000 / KEYS);
  let seq = 0;
  for (let s0 = 0; s0 < STEPS; s0 += rowsPerBatch) {
    const rows = [];
    for (let s = s0; s < Math.min(STEPS, s0 + rowsPerBatch); s++) {
      const metrics: Record<string, number> = {};
      for (let k = 0; k < KEYS; k++) metrics[names[k]] = metricValue(k, s);
      rows.push({ step: s, metrics });
    }
    await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, rows });
  }
  const hist = [];
  for (let s = 0; s < HIST_STEPS; s++)
    for (let k = 0; k < HIST_KEYS; k++)
      hist.push({
        step: s,
        key: `act/layer${k}`,
        edges: Array.from({ length: 33 }, (_, i) => i),
        counts: Array.from({ length: 32 }, () => (Math.random() * 100) | 0),
      });
  for (let i = 0; i < hist.length; i += LIMITS.histogramsPerBatch.value)
    await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, histograms: hist.slice(i, i + LIMITS.histogramsPerBatch.value) });
  for (let i = 0; i < IMAGES; i += 20) {
    const events = Array.from({ length: Math.min(20, IMAGES - i) }, (_, j) => ({
      type: "image",
      step: i + j,
      data: { key: `samples/${(i + j) % 10}`, width: IMAGE_SIDE, height: IMAGE_SIDE, png_base64: noisyPng(IMAGE_SIDE) },
    }));
    await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, events });
  }
  return id;
}

const rowsLeft = (id: string): number =>
  (
    db
      .prepare(
        `SELECT (SELECT COUNT(*) FROM series WHERE run_id = @id) + (SELECT COUNT(*) FROM histograms WHERE run_id = @id)
              + (SELECT COUNT(*) FROM events WHERE run_id = @id) + (SELECT COUNT(*) FROM batches WHERE run_id = @id)
              + (SELECT COUNT(*) FROM pending_batches WHERE run_id = @id) AS n`,
      )
      .get({ id }) as { n: number }
  ).n;

function fileFigures(): string {
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const free = db.pragma("freelist_count", { simple: true }) as number;
  const bytes = fs.statSync(server.dbPath).size + (fs.existsSync(`${server.dbPath}-wal`) ? fs.statSync(`${server.dbPath}-wal`).size : 0);
  return `file+wal ${(bytes / 2 ** 20).toFixed(1)} MiB, ${((free * pageSize) / 2 ** 20).toFixed(1)} MiB in free pages (auto_vacuum=${db.pragma("auto_vacuum", { simple: true })})`;
}

/** The other client: log a small batch, read its run, read the runs list, again, until stop(). */
function otherClient(runId: string, from: { seq: number }) {
  const latencies: number[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const s = from.seq++;
      for (const [m, p, body] of [
        ["POST", `/api/v1/runs/${runId}/log`, { seq: s, rows: [{ step: s, metrics: { loss: metricValue(0, s) } }] }],
        ["GET", `/api/v1/runs/${runId}`, undefined],
        ["GET", "/api/v1/runs?limit=50", undefined],
      ] as const) {
        const t0 = performance.now();
        await call(m, p, body);
        latencies.push(performance.now() - t0);
      }
    }
  })();
  return {
    latencies,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

try {
  const other = (await call("POST", "/api/v1/runs", { project: "bench-delete", name: "other" })).json.id as string;
  const seq = { seq: 0 };
  const t0 = performance.now();
  const big = await makeBigRun();
  const rows = rowsLeft(big);
  console.log(
    `  made the run in ${((performance.now() - t0) / 1000).toFixed(0)} s: ${rows.toLocaleString("en")} rows outside runs; ${fileFigures()}`,
  );

  // the DELETE route's first call loads its code: done once on a small run, out of the figures
  await call("DELETE", `/api/v1/runs/${(await call("POST", "/api/v1/runs", { project: "bench-delete", name: "warm" })).json.id}`);

  const base = otherClient(other, seq);
  await new Promise((r) => setTimeout(r, BASELINE_MS));
  await base.stop();

  const during = otherClient(other, seq);
  await new Promise((r) => setTimeout(r, 200));
  const d0 = performance.now();
  const res = await call("DELETE", `/api/v1/runs/${big}`);
  const answered = performance.now() - d0;
  const gone = (await call("GET", "/api/v1/runs?archived=all&limit=200")).json.runs as { id: string }[];
  if (gone.some((r) => r.id === big) || res.status !== 200) throw new Error("the run is still listed after DELETE answered");
  // polled lightly (counting the run's rows takes this process's share of the two cores): the
  // tombstone's purged_at where there is one, else the DELETE removed everything before answering
  const hasPurgedAt =
    (db.prepare("SELECT COUNT(*) AS n FROM pragma_table_info('deleted_runs') WHERE name = 'purged_at'").get() as { n: number }).n === 1;
  const purgedAt = hasPurgedAt ? db.prepare("SELECT purged_at AS at FROM deleted_runs WHERE id = ?") : undefined;
  while (purgedAt && !(purgedAt.get(big) as { at: number | null }).at) await new Promise((r) => setTimeout(r, 20));
  const purged = performance.now() - d0;
  if (rowsLeft(big) > 0) throw new Error("rows of the deleted run are left");
  await new Promise((r) => setTimeout(r, 200));
  await during.stop();

  const stored = (db.prepare("SELECT COUNT(*) AS n FROM batches WHERE run_id = ?").get(other) as { n: number }).n;
  const b = base.latencies;
  const w = during.latencies;
  const worst = (xs: number[]) => Math.max(...xs);
  const p99 = (xs: number[]) =>
    percentile(
      [...xs].sort((x, y) => x - y),
      99,
    );
  console.log(`  DELETE answered in ${answered.toFixed(0)} ms; every row of the run gone after ${purged.toFixed(0)} ms`);
  console.log(
    `  other client, no delete going on (baseline, ${b.length} requests): median ${median(b).toFixed(1)} ms, p99 ${p99(b).toFixed(1)} ms, worst ${worst(b).toFixed(1)} ms`,
  );
  console.log(
    `  other client during the delete (${w.length} requests): median ${median(w).toFixed(1)} ms (x${(median(w) / median(b)).toFixed(1)}), p99 ${p99(w).toFixed(1)} ms (x${(p99(w) / p99(b)).toFixed(1)}), ` +
      `worst ${worst(w).toFixed(1)} ms (x${(worst(w) / worst(b)).toFixed(1)})`,
  );
  console.log(`  other run: ${seq.seq} batches sent, ${stored} stored; after the delete: ${fileFigures()}`);
} finally {
  db.close();
  await server.stop();
}
