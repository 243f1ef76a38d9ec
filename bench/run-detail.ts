// What one run's answers cost at the per-run key limits (LIMITS.keysPerRun, histogramKeysPerRun,
// imageKeysPerRun): GET /api/v1/runs/{id}, the run page's HTML (/runs/{id}) and the share API
// (GET /api/v1/shares/{token}) for a run holding every key it may hold, against the same answers
// for a small run measured in the same process: bytes, time (median of REPEAT) and how long the
// server's event loop is held meanwhile (the slowest of tiny log requests sent one after another
// while the answer is made). Against the production build (.next), like the tests.
import { LIMITS } from "../lib/contract/limits";
import { startServer } from "../tests/helpers/server";
import { pngBase64 } from "../tests/helpers/png";
import { MACHINE, median } from "./common";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const STEPS = 50;
const SMALL = { metrics: 20, histograms: 2, images: 2 };
const CAP = { metrics: LIMITS.keysPerRun.value, histograms: LIMITS.histogramKeysPerRun.value, images: LIMITS.imageKeysPerRun.value };
console.log(`run detail answers: a run at every key limit vs a small run, ${STEPS} steps per metric key, median of ${REPEAT}, on ${MACHINE}`);

const server = await startServer();
let probeSeq = 0;

async function post(p: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(server.url + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function makeRun(size: typeof CAP): Promise<{ id: string; token: string }> {
  const { id } = (await post("/api/v1/runs", { project: "bench-detail", name: `keys-${size.metrics}` })) as { id: string };
  const names = Array.from({ length: size.metrics }, (_, k) => `layer${String(Math.floor(k / 10)).padStart(4, "0")}/metric${k % 10}`);
  const rowsPerBatch = Math.max(1, Math.floor(100_000 / size.metrics));
  let seq = 0;
  for (let s0 = 0; s0 < STEPS; s0 += rowsPerBatch) {
    const rows = [];
    for (let s = s0; s < Math.min(STEPS, s0 + rowsPerBatch); s++)
      rows.push({ step: s, metrics: Object.fromEntries(names.map((n, k) => [n, Math.sin(s / 7 + k)])) });
    await post(`/api/v1/runs/${id}/log`, { seq: seq++, rows });
  }
  const hist = Array.from({ length: size.histograms }, (_, k) => ({ step: 0, key: `act/layer${k}`, edges: [0, 1, 2, 3, 4], counts: [1, 2, 3, 4] }));
  for (let i = 0; i < hist.length; i += LIMITS.histogramsPerBatch.value)
    await post(`/api/v1/runs/${id}/log`, { seq: seq++, histograms: hist.slice(i, i + LIMITS.histogramsPerBatch.value) });
  const png = pngBase64(8, 8);
  const images = Array.from({ length: size.images }, (_, k) => ({
    type: "image",
    step: 0,
    data: { key: `samples/${k}`, width: 8, height: 8, png_base64: png },
  }));
  for (let i = 0; i < images.length; i += LIMITS.eventsPerBatch.value)
    await post(`/api/v1/runs/${id}/log`, { seq: seq++, events: images.slice(i, i + LIMITS.eventsPerBatch.value) });
  const { token } = (await post(`/api/v1/runs/${id}/shares`, {})) as { token: string };
  return { id, token };
}

interface Figure {
  bytes: number;
  ms: number;
  heldMs: number;
}

/** One answer: its bytes, its time, and the slowest tiny log request sent meanwhile. */
async function measure(path: string, probeRun: string): Promise<Figure> {
  const t0 = performance.now();
  let done = false;
  let held = 0;
  const probes = (async () => {
    while (!done) {
      const p0 = performance.now();
      await post(`/api/v1/runs/${probeRun}/log`, { seq: probeSeq++, rows: [{ step: probeSeq, metrics: { probe: 1 } }] });
      held = Math.max(held, performance.now() - p0);
    }
  })();
  const res = await fetch(server.url + path);
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  done = true;
  await probes;
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return { bytes: body.length, ms, heldMs: held };
}

try {
  const probe = (await post("/api/v1/runs", { project: "bench-detail", name: "probe" })) as { id: string };
  const runs = { small: await makeRun(SMALL), cap: await makeRun(CAP) };
  const answers = [
    ["GET /api/v1/runs/{id}", (r: { id: string; token: string }) => `/api/v1/runs/${r.id}`],
    ["run page HTML /runs/{id}", (r: { id: string; token: string }) => `/runs/${r.id}`],
    ["GET /api/v1/shares/{token}", (r: { id: string; token: string }) => `/api/v1/shares/${r.token}`],
    ["shared page HTML /share/{token}", (r: { id: string; token: string }) => `/share/${r.token}`],
  ] as const;
  for (const [what, path] of answers) {
    const figs = new Map<string, Figure>();
    for (const [size, run] of Object.entries(runs)) {
      await measure(path(run), probe.id); // warm: the route's first render
      const all: Figure[] = [];
      for (let i = 0; i < REPEAT; i++) all.push(await measure(path(run), probe.id));
      figs.set(size, { bytes: median(all.map((f) => f.bytes)), ms: median(all.map((f) => f.ms)), heldMs: median(all.map((f) => f.heldMs)) });
    }
    const s = figs.get("small")!;
    const c = figs.get("cap")!;
    console.log(`  ${what}:`);
    console.log(
      `    small run (${SMALL.metrics}/${SMALL.histograms}/${SMALL.images} keys): ${s.bytes} bytes, ${s.ms.toFixed(0)} ms, loop held ${s.heldMs.toFixed(0)} ms`,
    );
    console.log(
      `    at the limits (${CAP.metrics}/${CAP.histograms}/${CAP.images} keys): ${c.bytes} bytes (x${(c.bytes / s.bytes).toFixed(0)}), ` +
        `${c.ms.toFixed(0)} ms (x${(c.ms / s.ms).toFixed(1)}), loop held ${c.heldMs.toFixed(0)} ms (x${(c.heldMs / s.heldMs).toFixed(1)})`,
    );
  }
} finally {
  await server.stop();
}
