// Runs list at scale: 100,000 runs (configs with a few keys, a val/acc series each, tags on one in
// ten, a tenth archived, owned by one of 20 users or, one in 21, by nobody) listed with each of the run management filters and sorts
// (lib/runs/list-runs.ts). Prints the median of a few calls of listRuns per query, in ms.
import { MACHINE, median } from "./common";
import { freshDbPath } from "../tests/helpers/server";

const N = Number(process.env.BENCH_RUNS ?? 100_000);
const REPEAT = 5;
process.env.DATABASE_URL = `file:${freshDbPath()}`;
const { sqlite } = await import("../lib/db");
const { listRuns } = await import("../lib/runs/list-runs");
const { writeConfigValues } = await import("../lib/runs/config-values");

console.log(`runs list: ${N} runs on ${MACHINE}`);
const db = sqlite();
db.prepare("INSERT INTO projects (name, created_at) VALUES ('bench', 0), ('other', 0)").run();
const USERS = 20;
const user = db.prepare("INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, ?, 'member', 'x', 0)");
for (let u = 1; u <= USERS; u++) user.run(u, `user-${u}`);
const run = db.prepare(
  "INSERT INTO runs (id, project_id, name, config, status, created_at, updated_at, last_seen_at, archived, owner_id) VALUES (?, ?, ?, ?, 'finished', ?, ?, ?, ?, ?)",
);
const series = db.prepare(
  "INSERT INTO series (run_id, key, count, first_step, last_step, last_value, min, max, sealed_max_step) VALUES (?, 'val/acc', 10, 0, 9, ?, ?, ?, 9)",
);
const tag = db.prepare("INSERT INTO run_tags (run_id, tag) VALUES (?, ?)");
db.transaction(() => {
  for (let i = 0; i < N; i++) {
    const id = `r${i}`;
    const config = { lr: 10 ** -(1 + (i % 4)), batch_size: 32 << (i % 3), optimizer: i % 2 ? "adam" : "sgd", seed: i };
    const owner = i % (USERS + 1) || null;
    run.run(id, 1 + (i % 2), `run-${i % 7 === 0 ? "sweep" : "trial"}-${i}`, JSON.stringify(config), i, i, i, i % 10 === 0 ? 1 : 0, owner);
    writeConfigValues(db, id, config); // as createRun does
    const acc = (i % 997) / 997;
    series.run(id, JSON.stringify(acc), acc / 2, acc);
    if (i % 10 === 3) tag.run(id, `sweep-${i % 50}`);
  }
})();

const QUERIES: [string, Parameters<typeof listRuns>[0]][] = [
  ["newest 200 (default)", { sort: "-created", limit: 200 }],
  ["q=sweep", { sort: "-created", limit: 200, q: "sweep" }],
  ["q=no-such-name (every name read)", { sort: "-created", limit: 200, q: "no-such-name" }],
  ["tag=sweep-13", { sort: "-created", limit: 200, tag: "sweep-13" }],
  ["archived=true", { sort: "-created", limit: 200, archived: "true" }],
  ["owner=user-3", { sort: "-created", limit: 200, owner: "user-3" }],
  ["owner=no-such-user", { sort: "-created", limit: 200, owner: "no-such-user" }],
  ["config.lr=0.001", { sort: "-created", limit: 200, config: new Map([["lr", { kind: "number", value: 0.001 }]]) }],
  [
    "config.lr=0.001..0.01 & optimizer=adam",
    {
      sort: "-created",
      limit: 200,
      config: new Map<string, never>([
        ["lr", { kind: "range", min: 0.001, max: 0.01 } as never],
        ["optimizer", { kind: "text", value: "adam" } as never],
      ]),
    },
  ],
  ["sort=-config lr", { sort: "-config", sortKey: "lr", limit: 200 }],
  ["sort=-metric val/acc max", { sort: "-metric", sortKey: "val/acc", sortAgg: "max", limit: 200 }],
  ["sort=-metric + columns", { sort: "-metric", sortKey: "val/acc", sortAgg: "max", limit: 200, configColumns: ["lr"], metricColumns: ["val/acc"] }],
  ["offset=90000", { sort: "-created", limit: 200, offset: 90_000 }],
];
for (const [what, q] of QUERIES) {
  const ms: number[] = [];
  let total = 0;
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    total = (await listRuns(q)).total;
    ms.push(performance.now() - t0);
  }
  console.log(`  ${what.padEnd(40)} ${median(ms).toFixed(1).padStart(7)} ms  (${total} match)`);
}
