// npm run demo:sweep: a small coarse-to-fine random search, for real. Stage 1 searches the spiral
// MLP's learning rate over a range whose top is still too low (a few epochs per trial): the best
// trials sit on the upper edge, and the babysitter says so (search_boundary). Then the search is
// refined: stage 2 searches the range the server suggests, trained longer. Each trial trains the
// MLP of sdk/ts/examples/train.ts (hand-written backprop) and streams it into the server.
//
// Uses the server at BABYSIT_URL (else HOST/PORT as `npm start` reads them); when none answers
// there, starts one (`npm start`) and leaves it running so the printed pages can be opened.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createSweep, refineSweep, runTrials, sweepAlerts } from "../sdk/ts/examples/spiral-sweep";

const host = !process.env.HOST || ["0.0.0.0", "::"].includes(process.env.HOST) ? "127.0.0.1" : process.env.HOST;
const url = (process.env.BABYSIT_URL ?? `http://${host.includes(":") ? `[${host}]` : host}:${process.env.PORT ?? 3000}`).replace(/\/+$/, "");
const key = process.env.BABYSIT_API_KEY?.trim() || undefined;
const client = { url, key };

const probe = () =>
  fetch(`${url}/api/v1/sweeps`, key ? { headers: { authorization: `Bearer ${key}` } } : {})
    .then((r) => r.status)
    .catch(() => 0);

let server: ChildProcess | null = null;
let status = await probe();
if (status === 0 && !process.env.BABYSIT_URL) {
  console.log(`babysit demo:sweep: no server at ${url}: starting one (npm start; the first start builds the dashboard, a few minutes)`);
  server = spawn(process.execPath, [path.join(import.meta.dirname, "start.mjs")], { stdio: ["ignore", "inherit", "inherit"] });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => server?.kill(sig));
  const deadline = Date.now() + 15 * 60_000;
  while (status === 0 && Date.now() < deadline && server.exitCode === null) {
    await new Promise((r) => setTimeout(r, 500));
    status = await probe();
  }
}
if (status === 401 || status === 403) {
  console.error(`babysit demo:sweep: the server at ${url} answered ${status}: set BABYSIT_API_KEY to a key made on its /account page.`);
  process.exit(1);
}
if (status !== 200) {
  console.error(
    `babysit demo:sweep: no server answers at ${url}${status ? ` (HTTP ${status})` : ""}. Start it with \`npm start\` (or set BABYSIT_URL).`,
  );
  server?.kill();
  process.exit(1);
}

const stamp = new Date().toISOString().slice(11, 19).replace(/:/g, "");
const name = `spiral-lr-${stamp}`;
const coarse = await createSweep(client, {
  project: "demo-sweep",
  name,
  // too low a range for 60 short epochs (the MLP wants ~0.3): the best learning rates are its highest
  space: {
    lr: { distribution: "log_uniform", low: 1e-3, high: 1e-1 },
    hidden: { distribution: "choice", values: [16, 32, 64] },
  },
  objective: { metric: "val/acc", goal: "max" },
  seed: 7,
  budget: 10,
});
console.log(`babysit demo:sweep: stage 1, coarse: 10 trials of 240 steps, lr log-uniform in [1e-3, 1e-1]`);
console.log(`  watch it live: ${url}/sweeps/${coarse.id}`);
await runTrials(client, coarse, {
  trials: 10,
  workers: 2,
  steps: 240,
  delayMs: Number(process.env.DEMO_DELAY_MS ?? 5),
  onTrial: (t) =>
    console.log(`  trial ${t.index}: lr ${Number(t.config.lr).toExponential(2)}, hidden ${t.config.hidden} -> val/acc ${t.valAcc.toFixed(3)}`),
});

const alerts = await sweepAlerts(client, coarse.id);
const edge = alerts.find((a) => a.code === "search_boundary");
for (const a of alerts)
  console.log(`  ${a.code === "search_boundary" ? "!!" : "--"} ${a.code}: ${a.title}\n     ${a.message.replace(/\n/g, "\n     ")}`);
if (!edge) console.log("  (no search_boundary alert this time: the best trials are inside the range)");

const fine = await refineSweep(client, coarse.id, { top: 3 });
const lr = fine.space.lr as { low?: number; high?: number } | undefined;
console.log(
  `babysit demo:sweep: stage 2, refined around the best trials: ${fine.name}, lr in [${lr?.low?.toExponential(2)}, ${lr?.high?.toExponential(2)}], 6 trials of 600 steps`,
);
console.log(`  watch it live: ${url}/sweeps/${fine.id}`);
await runTrials(client, fine, {
  trials: 6,
  workers: 2,
  steps: 600,
  delayMs: Number(process.env.DEMO_DELAY_MS ?? 5),
  onTrial: (t) =>
    console.log(`  trial ${t.index}: lr ${Number(t.config.lr).toExponential(2)}, hidden ${t.config.hidden} -> val/acc ${t.valAcc.toFixed(3)}`),
});

console.log("\nbabysit demo:sweep: done. The pages:");
console.log(`  stage 1 (coarse, with the boundary alert): ${url}/sweeps/${coarse.id}`);
console.log(`  stage 2 (fine):                           ${url}/sweeps/${fine.id}`);
console.log(`  the runs, grouped by sweep:               ${url}/?project=demo-sweep&group=sweep`);
if (server) console.log("  (the server started for the demo keeps running: Ctrl+C stops it)");
