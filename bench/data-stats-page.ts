// A watch()ed run's statistics on its page: a run with EVENTS input_stats events of 784 features
// (training and validation alternating, as watch() logs them around each evaluation pass) against
// the same run without them. Sizes of the run page's HTML and of GET /api/v1/runs/{id} (and of
// ?events=full), and in headless Chromium against the production build (.next) the time until the
// page is hydrated with its first chart drawn (and, with statistics, the Data section shown), as a
// ratio against the run without statistics measured in the same process. Median of REPEAT loads.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { MACHINE, median } from "./common";
import { startServer } from "../tests/helpers/server";

const EVENTS = Number(process.env.BENCH_STATS_EVENTS ?? 200);
const F = 784;
const REPEAT = Number(process.env.BENCH_STATS_REPEAT ?? 3);
console.log(`data statistics on the run page: ${EVENTS} input_stats events x ${F} features, median of ${REPEAT} loads, on ${MACHINE}`);

const server = await startServer();
async function post(p: string, body: unknown): Promise<{ id?: string }> {
  const res = await fetch(server.url + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id?: string };
}

// realistic floats: MNIST-like pixels after normalisation, full double precision as the SDK sends
let seed = 7;
const rnd = () => {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
};
async function makeRun(name: string, stats: boolean): Promise<string> {
  const { id } = await post("/api/v1/runs", { project: "bench-stats", name });
  await post(`/api/v1/runs/${id}/log`, {
    seq: 0,
    rows: Array.from({ length: 100 }, (_, s) => ({ step: s, metrics: { "train/loss": 2 / (1 + s / 10), "val/loss": 2.1 / (1 + s / 10) } })),
  });
  if (!stats) return id!;
  const events = Array.from({ length: EVENTS }, (_, k) => ({
    type: "input_stats",
    step: Math.floor(k / 2) * 100,
    data: {
      mean: Array.from({ length: F }, () => (rnd() - 0.4) * 0.9),
      std: Array.from({ length: F }, () => 0.5 + rnd()),
      n: 64,
      split: k % 2 ? "val" : "train",
      source: "watch",
    },
  }));
  for (let i = 0; i < events.length; i += 50) await post(`/api/v1/runs/${id}/log`, { seq: 1 + i, events: events.slice(i, i + 50) });
  return id!;
}

const bytes = async (p: string) => (await (await fetch(server.url + p)).arrayBuffer()).byteLength;
const kb = (b: number) => `${(b / 1024).toFixed(0)} KB`;

const plain = await makeRun("plain", false);
const watched = await makeRun("watched", true);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-bench-stats-"));
const context = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1360, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
async function load(id: string, data: boolean): Promise<number> {
  const page = await context.newPage();
  const t0 = Date.now();
  await page.goto(`${server.url}/runs/${id}`);
  await page.locator('[data-chart][data-state="ready"]').first().waitFor({ timeout: 60_000 });
  if (data) await page.locator('section[aria-label="Data"] [data-compare-summary]').waitFor({ timeout: 60_000 });
  const t = Date.now() - t0;
  await page.close();
  return t;
}
await load(plain, false); // warm the server's compiled routes
const times = { plain: [] as number[], watched: [] as number[] };
for (let r = 0; r < REPEAT; r++) {
  times.plain.push(await load(plain, false));
  times.watched.push(await load(watched, true));
}
for (const [name, id] of [
  ["without statistics", plain],
  ["with statistics", watched],
] as const)
  console.log(
    `${name}: page HTML ${kb(await bytes(`/runs/${id}`))}, GET /api/v1/runs/{id} ${kb(await bytes(`/api/v1/runs/${id}`))} ` +
      `(?events=full ${kb(await bytes(`/api/v1/runs/${id}?events=full`))})`,
  );
const [p, w] = [median(times.plain), median(times.watched)];
console.log(`page loaded, first chart and Data section drawn: ${w} ms with statistics, ${p} ms without (x${(w / p).toFixed(2)})`);
await context.close();
await server.stop();
