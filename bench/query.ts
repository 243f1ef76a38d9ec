// Query: one key of 1,000,000 points read as 1,000 buckets over the full range and over a 1% zoom,
// against a full raw scan of the same series (row per point, as the ingest baseline stores it).
import { MACHINE, median, metricValue, rawRowPerPoint, tmpFile } from "./common";
import { freshDbPath } from "../tests/helpers/server";

const N = Number(process.env.BENCH_POINTS ?? 1_000_000);
const REPEAT = 15;
process.env.DATABASE_URL = `file:${freshDbPath()}`;
const { sqlite } = await import("../lib/db");
const { appendRunPoints } = await import("../lib/series/append-points");
const { getSeries } = await import("../lib/series/get-series");

console.log(`query: one key of ${N} points on ${MACHINE}`);

const db = sqlite();
db.prepare("INSERT INTO projects (name, created_at) VALUES ('bench', 0)").run();
db.prepare("INSERT INTO runs (id, project_id, name, created_at, updated_at, last_seen_at) VALUES ('q', 1, 'q', 0, 0, 0)").run();
for (let s = 0; s < N; s += 1000) {
  const p = { steps: [] as number[], values: [] as number[], times: [] as number[] };
  for (let t = s; t < Math.min(s + 1000, N); t++) {
    p.steps.push(t);
    p.values.push(metricValue(3, t));
    p.times.push(1795698225 + t * 0.05);
  }
  db.transaction(() => appendRunPoints(db, "q", new Map([["train/loss", p]])))();
}

const base = rawRowPerPoint(tmpFile("query-baseline.db"), 1, N);
const scan = base.db.prepare("SELECT step, value, time FROM points WHERE run_id = 'run' AND key = ? ORDER BY step");
const time = (fn: () => unknown) => {
  const ms: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
};
const baseline = time(() => scan.all("layer0/metric"));
const full = time(() => getSeries("q", "train/loss", { points: 1000 }));
const zoomFrom = Math.floor(N * 0.4);
const zoom = time(() => getSeries("q", "train/loss", { points: 1000, from: zoomFrom, to: zoomFrom + N / 100 - 1 }));
const fullBuckets = getSeries("q", "train/loss", { points: 1000 }).buckets.length;

console.log(`  baseline full raw scan of the series: ${baseline.toFixed(1)} ms`);
console.log(
  `  1,000 buckets over the full range:    ${full.toFixed(1)} ms (${fullBuckets} buckets), ratio ${(full / baseline).toFixed(3)}  (target <= 30 ms)`,
);
console.log(`  1,000 buckets over a 1% zoom:         ${zoom.toFixed(1)} ms, ratio ${(zoom / baseline).toFixed(3)}  (target <= 30 ms)`);
base.db.close();
