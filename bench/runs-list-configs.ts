// Runs list with large configs: 200 runs each with a config of about 1 MB (within configBytes),
// created through the API, then GET /api/v1/runs, ?limit=1000, the home page, a config filter and
// sort, and how long an unrelated request (GET /api/v1/runs/{id} of a small run) waits while a list
// is read. Medians of a few calls, in ms. Needs a production build (`npx next build`).
import { MACHINE, median } from "./common";
import { startServer } from "../tests/helpers/server";

const N = Number(process.env.BENCH_RUNS ?? 200);
const REPEAT = 3;
const server = await startServer();
const base = server.url;
const post = (p: string, body: unknown) =>
  fetch(base + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => {
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<{ id: string }>;
  });
try {
  console.log(`runs list with ${N} runs of ~1 MB configs on ${MACHINE}`);
  // ~1 MB: a few scalars first (what configSummary shows), then many keys and a large nested value
  const filler = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`layer_${i}`, { dim: i, act: "gelu" }]));
  for (let i = 0; i < N; i++) {
    const config = { lr: 10 ** -(1 + (i % 4)), optimizer: i % 2 ? "adam" : "sgd", seed: i, ...filler };
    await post("/api/v1/runs", { project: "big", name: `big-${i}`, config });
  }
  const small = await post("/api/v1/runs", { project: "small", name: "small", config: { lr: 0.1 } });
  const time = async (p: string) => {
    const t0 = performance.now();
    const r = await fetch(base + p);
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${p}: ${r.status}`);
    return performance.now() - t0;
  };
  const waits: number[] = [];
  let failed = 0; // the server's requestTimeout may end a request that waited too long
  for (let i = 0; i < REPEAT; i++) {
    const list = time("/api/v1/runs?limit=1000");
    await new Promise((r) => setTimeout(r, 20)); // the list request is being served
    const wait = await time(`/api/v1/runs/${small.id}`).catch(() => null);
    if (wait === null) failed++;
    else waits.push(wait);
    await list.catch(() => failed++);
  }
  const waited = waits.length ? `${median(waits).toFixed(0).padStart(7)} ms` : "  -";
  console.log(`  ${"unrelated GET during limit=1000".padEnd(34)} ${waited}${failed ? ` (${failed} of ${2 * REPEAT} requests failed)` : ""}`);
  const alone: number[] = [];
  for (let i = 0; i < REPEAT; i++) alone.push(await time(`/api/v1/runs/${small.id}`));
  console.log(`  ${"the same GET alone".padEnd(34)} ${median(alone).toFixed(0).padStart(7)} ms`);
  const rows: [string, string][] = [
    ["GET /api/v1/runs", "/api/v1/runs"],
    ["GET /api/v1/runs?limit=1000", "/api/v1/runs?limit=1000"],
    ["GET / (home page HTML)", "/"],
    ["config.optimizer=adam", "/api/v1/runs?config.optimizer=adam"],
    ["sort=-config&sortKey=lr", "/api/v1/runs?sort=-config&sortKey=lr"],
    ["configColumns=[lr,seed]", `/api/v1/runs?configColumns=${encodeURIComponent('["lr","seed"]')}`],
  ];
  for (const [what, p] of rows) {
    if (process.env.BENCH_ONLY && !what.includes(process.env.BENCH_ONLY)) continue;
    await time(p); // warm
    const ms: number[] = [];
    for (let i = 0; i < REPEAT; i++) ms.push(await time(p));
    console.log(`  ${what.padEnd(34)} ${median(ms).toFixed(0).padStart(7)} ms`);
  }
} finally {
  await server.stop();
}
