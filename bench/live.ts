// Live: from the SDK's log() call to the point arriving at a socket.io client subscribed like the
// run page, p50/p95, against the baseline of a bare HTTP POST of the same point (no SDK batching).
import { io } from "socket.io-client";
import { MACHINE, percentile } from "./common";
import { startServer } from "../tests/helpers/server";

const N = Number(process.env.BENCH_LIVE_POINTS ?? 200);
const GAP_MS = 20;
console.log(`live: ${N} points, one every ${GAP_MS} ms, on ${MACHINE}`);

const { init } = await import("../sdk/ts/src/index");
const server = await startServer();
try {
  const sent = new Map<string, number>();
  const latencies = { sdk: [] as number[], raw: [] as number[] };
  const socket = io(server.url, { path: "/socket.io", transports: ["websocket"] });
  await new Promise<void>((r) => socket.on("connect", () => r()));
  socket.on("points", (msg: { runId: string; series: Record<string, [number, unknown, number][]> }) => {
    const now = performance.now();
    for (const [key, pts] of Object.entries(msg.series)) {
      for (const [step] of pts) {
        const t = sent.get(`${msg.runId}/${key}/${step}`);
        if (t !== undefined) latencies[key === "sdk" ? "sdk" : "raw"].push(now - t);
      }
    }
  });

  const run = await init({ project: "bench", name: "live", url: server.url });
  const rawRun = (await fetch(`${server.url}/api/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ project: "bench", name: "live-raw" }),
  }).then((r) => r.json())) as { id: string };
  socket.emit("subscribe", { run: run.id });
  socket.emit("subscribe", { run: rawRun.id });
  await new Promise((r) => setTimeout(r, 200));

  for (let i = 0; i < N; i++) {
    sent.set(`${run.id}/sdk/${i}`, performance.now());
    run.log({ sdk: Math.random() }, { step: i });
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  for (let i = 0; i < N; i++) {
    sent.set(`${rawRun.id}/raw/${i}`, performance.now());
    await fetch(`${server.url}/api/v1/runs/${rawRun.id}/log`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ seq: i, rows: [{ step: i, metrics: { raw: Math.random() } }] }),
    }).then((r) => r.arrayBuffer());
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  await run.finish();
  const deadline = Date.now() + 5000;
  while ((latencies.sdk.length < N || latencies.raw.length < N) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  socket.close();

  const s = latencies.sdk.sort((a, b) => a - b);
  const r = latencies.raw.sort((a, b) => a - b);
  console.log(
    `  baseline bare POST -> socket: p50 ${percentile(r, 50).toFixed(1)} ms, p95 ${percentile(r, 95).toFixed(1)} ms (${r.length}/${N} received)`,
  );
  console.log(
    `  SDK log() -> socket:          p50 ${percentile(s, 50).toFixed(1)} ms, p95 ${percentile(s, 95).toFixed(1)} ms (${s.length}/${N} received)  (target p95 <= 250 ms)`,
  );
  console.log(
    `  ratio p95 (SDK / bare POST): ${(percentile(s, 95) / percentile(r, 95)).toFixed(1)}  (the SDK batches for up to its 200 ms flush interval by design)`,
  );
} finally {
  await server.stop();
}
