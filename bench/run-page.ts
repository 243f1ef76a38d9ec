// The run page with many keys, in headless Chromium against the production build (.next): time to
// the first chart drawn, time until every chart in view is drawn, the longest main-thread task
// (PerformanceObserver 'longtask', wall clock) and the longest task's and all tasks' CPU time on
// the page's main thread (from a Chrome trace: unlike wall time, not inflated when other processes
// share the cores), and the requests the page made, for runs of 2,000 and 10,000 keys x 50 steps,
// each as a ratio against the same figures for a small run (20 keys) measured in the same process.
// Median of REPEAT page loads each.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { MACHINE, median } from "./common";
import { startServer } from "../tests/helpers/server";

const SIZES = (process.env.BENCH_PAGE_KEYS ?? "20,2000,10000").split(",").map(Number);
const STEPS = 50;
const REPEAT = Number(process.env.BENCH_PAGE_REPEAT ?? 3);
console.log(`run page: runs of ${SIZES.join(", ")} keys x ${STEPS} steps, median of ${REPEAT} loads, headless Chromium, on ${MACHINE}`);

// In the page from its first script: long tasks, and per frame whether the charts in view are drawn.
const PROBE = `(() => {
  const m = (window.__bench = { longest: 0, longTasks: 0, first: null, allVisible: null });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) { m.longTasks++; m.longest = Math.max(m.longest, e.duration); } })
    .observe({ type: "longtask", buffered: true });
  const tick = () => {
    const cards = [...document.querySelectorAll("[data-chart]")];
    if (m.first === null && cards.some((c) => c.getAttribute("data-state") === "ready")) m.first = performance.now();
    const seen = cards.filter((c) => { const r = c.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; });
    if (seen.length && seen.every((c) => c.getAttribute("data-state") === "ready")) m.allVisible = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

interface Figures {
  first: number;
  allVisible: number;
  longest: number;
  longestCpu: number;
  cpu: number;
  seriesRequests: number;
  requests: number;
}

const server = await startServer();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "babysit-bench-page-"));
const context = await chromium.launchPersistentContext(dir, {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1360, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
await context.addInitScript(PROBE);

async function post(p: string, body: unknown): Promise<{ id?: string }> {
  const res = await fetch(server.url + p, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id?: string };
}

async function makeRun(keys: number): Promise<string> {
  const { id } = await post("/api/v1/runs", { project: "bench-page", name: `keys-${keys}` });
  const names = Array.from({ length: keys }, (_, k) => `probe/${String(k).padStart(5, "0")}`);
  const rowsPerBatch = Math.max(1, Math.floor(100_000 / keys)); // bodies well under the 8 MB limit
  let seq = 0;
  for (let s0 = 0; s0 < STEPS; s0 += rowsPerBatch) {
    const rows = [];
    for (let s = s0; s < Math.min(STEPS, s0 + rowsPerBatch); s++)
      rows.push({ step: s, metrics: Object.fromEntries(names.map((n, k) => [n, Math.sin(s / 7 + k) + k / 1000])) });
    await post(`/api/v1/runs/${id}/log`, { seq: seq++, rows });
  }
  return id!;
}

/** The renderer main threads' tasks in a Chrome trace: longest CPU time and the sum, in ms. */
function mainThreadCpu(events: { name: string; ph: string; pid: number; tid: number; tdur?: number; args?: { name?: string } }[]) {
  const main = new Set(events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
  let longest = 0;
  let sum = 0;
  for (const e of events) {
    if (e.name !== "RunTask" || e.ph !== "X" || !main.has(`${e.pid}:${e.tid}`) || e.tdur === undefined) continue;
    longest = Math.max(longest, e.tdur / 1000);
    sum += e.tdur / 1000;
  }
  return { longest, sum };
}

async function loadPage(id: string): Promise<Figures> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Tracing.start", { categories: "disabled-by-default-devtools.timeline,devtools.timeline", transferMode: "ReturnAsStream" });
  let requests = 0;
  let seriesRequests = 0;
  page.on("request", (r) => {
    requests++;
    if (r.url().includes("/series?")) seriesRequests++;
  });
  await page.goto(`${server.url}/runs/${id}`);
  await page.waitForFunction(() => (window as unknown as { __bench: { allVisible: number | null } }).__bench.allVisible !== null, null, {
    timeout: 120_000,
  });
  // let what was started settle (a second with nothing new), so late long tasks count too
  await page.waitForTimeout(1000);
  const m = await page.evaluate(() => (window as unknown as { __bench: { first: number; allVisible: number; longest: number } }).__bench);
  const failed = await page.locator('[data-state="error"]').count();
  if (failed) throw new Error(`${failed} charts failed to load`);
  const complete = new Promise<{ stream?: string }>((r) => cdp.once("Tracing.tracingComplete", r));
  await cdp.send("Tracing.end");
  const { stream } = await complete;
  let text = "";
  for (;;) {
    const chunk = await cdp.send("IO.read", { handle: stream!, size: 1 << 20 });
    text += chunk.base64Encoded ? Buffer.from(chunk.data, "base64").toString() : chunk.data;
    if (chunk.eof) break;
  }
  await cdp.send("IO.close", { handle: stream! });
  const trace = JSON.parse(text);
  const cpu = mainThreadCpu(Array.isArray(trace) ? trace : trace.traceEvents);
  await page.close();
  return { first: m.first, allVisible: m.allVisible, longest: m.longest, longestCpu: cpu.longest, cpu: cpu.sum, seriesRequests, requests };
}

try {
  const results = new Map<number, Figures>();
  for (const keys of SIZES) {
    const t0 = performance.now();
    const id = await makeRun(keys);
    const logged = (performance.now() - t0) / 1000;
    await loadPage(id); // warm: the server's first render of a route, the browser's cache of scripts
    const runs: Figures[] = [];
    for (let i = 0; i < REPEAT; i++) runs.push(await loadPage(id));
    const pick = (f: keyof Figures) => median(runs.map((r) => r[f]));
    const fig: Figures = {
      first: pick("first"),
      allVisible: pick("allVisible"),
      longest: pick("longest"),
      longestCpu: pick("longestCpu"),
      cpu: pick("cpu"),
      seriesRequests: pick("seriesRequests"),
      requests: pick("requests"),
    };
    results.set(keys, fig);
    const base = results.get(SIZES[0])!;
    // (a page with no task over 50 ms reports 0: no ratio against that)
    const ratio = (f: keyof Figures) =>
      keys === SIZES[0] ? "" : base[f] > 0 ? `, ratio ${(fig[f] / base[f]).toFixed(2)}` : ", no ratio (0 on the small page)";
    console.log(`  ${keys} keys (logged in ${logged.toFixed(1)} s):`);
    console.log(`    time to first chart:           ${fig.first.toFixed(0)} ms${ratio("first")}`);
    console.log(`    time to every chart in view:   ${fig.allVisible.toFixed(0)} ms${ratio("allVisible")}`);
    console.log(`    longest main-thread task:      ${fig.longest ? `${fig.longest.toFixed(0)} ms` : "none over 50 ms"}${ratio("longest")}`);
    console.log(`    longest task, CPU time:        ${fig.longestCpu.toFixed(0)} ms${ratio("longestCpu")}`);
    console.log(`    main-thread CPU, all tasks:    ${fig.cpu.toFixed(0)} ms${ratio("cpu")}`);
    console.log(`    series requests:               ${fig.seriesRequests}${ratio("seriesRequests")}`);
    console.log(`    requests in all:               ${fig.requests}${ratio("requests")}`);
  }
} finally {
  await context.close();
  fs.rmSync(dir, { recursive: true, force: true });
  await server.stop();
}
