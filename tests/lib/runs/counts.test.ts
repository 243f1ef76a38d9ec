import { beforeAll, describe, expect, test } from "vitest";
import { useFreshDatabase } from "../../helpers/lib-db";

// Any number of runs, keys, alerts and shares: no query may pass one bind parameter per item
// (SQLite stops at 999: 997 runs made the runs list answer 500), and ?status= is filtered in SQL.

useFreshDatabase();
const { sqlite } = await import("@/lib/db");
const { listRuns } = await import("@/lib/runs/list-runs");
const { alertCounts } = await import("@/lib/runs/alert-counts");
const { getRun } = await import("@/lib/runs/get-run");
const { shownStatus, STALE_SECONDS } = await import("@/lib/runs/run-view");
const { listAlerts } = await import("@/lib/alerts/list-alerts");
const { listShares } = await import("@/lib/shares/shares");
const { appendRunPoints } = await import("@/lib/series/append-points");

const db = sqlite();
const N = 1200;
const STATUSES = ["running", "finished", "crashed"] as const;
const now = Date.now() / 1000;
/** Run i: project a or b, status by i % 3, running ones every other one silent (stale). */
const runOf = (i: number) => ({
  id: `run-${String(i).padStart(5, "0")}`,
  project: i % 2 ? "a" : "b",
  status: STATUSES[i % 3],
  createdAt: 1000 + i,
  lastSeenAt: i % 6 === 3 ? now - STALE_SECONDS - 100 : now,
});

beforeAll(() => {
  db.transaction(() => {
    db.prepare("INSERT INTO projects (name, created_at) VALUES ('a', 0), ('b', 0)").run();
    const ins = db.prepare(
      "INSERT INTO runs (id, project_id, name, status, created_at, updated_at, last_seen_at) VALUES (?, (SELECT id FROM projects WHERE name = ?), ?, ?, ?, ?, ?)",
    );
    const alert = db.prepare(
      "INSERT INTO alerts (run_id, code, severity, status, step, first_step, title, message, evidence, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0, 't', 'm', '{}', 0, 0)",
    );
    for (let i = 0; i < N; i++) {
      const r = runOf(i);
      ins.run(r.id, r.project, `name ${i}`, r.status, r.createdAt, r.createdAt, r.lastSeenAt);
      // every run has alerts: one critical, i % 4 warnings active, one resolved
      alert.run(r.id, "divergence", "critical", "active");
      for (let w = 0; w < i % 4; w++) alert.run(r.id, `w${w}`, "warning", "active");
      alert.run(r.id, "old", "info", "resolved");
    }
  })();
});

describe(`${N} runs`, () => {
  test.each([
    ["no filter", {}],
    ["running", { status: "running" }],
    ["stale", { status: "stale" }],
    ["finished", { status: "finished" }],
    ["crashed", { status: "crashed" }],
    ["project a", { project: "a" }],
    ["project a, stale", { project: "a", status: "stale" }],
  ] as const)("list with limit 1000, %s: the right runs, newest first, with their alert counts", async (_name, filter) => {
    const want = Array.from({ length: N }, (_, i) => runOf(i))
      .filter((r) => !("project" in filter) || r.project === filter.project)
      .filter((r) => !("status" in filter) || shownStatus(r.status, r.lastSeenAt) === filter.status)
      .sort((x, y) => y.createdAt - x.createdAt)
      .slice(0, 1000);
    const got = await listRuns({ sort: "-created", limit: 1000, ...filter });
    expect(want.length).toBeGreaterThan(0);
    expect(got.runs.map((r) => r.id)).toEqual(want.map((r) => r.id));
    for (const r of got.runs) {
      const i = Number(r.id.slice(4));
      expect(r.alerts).toEqual({ critical: 1, warning: i % 4, info: 0 });
      expect(r.status).toBe(shownStatus(runOf(i).status, runOf(i).lastSeenAt));
    }
    expect(got.projects).toEqual([
      { name: "a", runs: N / 2 },
      { name: "b", runs: N / 2 },
    ]);
  });

  test.each([
    ["created", 1000],
    ["name", 1200],
    ["-name", 5],
  ] as const)("sort %s, limit %d", async (sort, limit) => {
    const got = await listRuns({ sort, limit });
    expect(got.runs).toHaveLength(Math.min(limit, N));
    const by = sort === "created" ? (r: { createdAt: number }) => r.createdAt : (r: { name: string }) => r.name;
    const keys = got.runs.map((r) => by(r as never));
    expect(keys).toEqual([...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0) * (sort === "-name" ? -1 : 1)));
  });

  test("alert counts for 5,000 ids at once (unknown ones included)", async () => {
    const ids = [...Array.from({ length: N }, (_, i) => runOf(i).id), ...Array.from({ length: 3800 }, (_, i) => `nope-${i}`)];
    const counts = await alertCounts(ids);
    expect(counts.size).toBe(N);
    expect(counts.get(runOf(7).id)).toEqual({ critical: 1, warning: 3, info: 0 });
  });
});

describe("one run with many of everything", () => {
  test("5,000 keys are stored and read back", async () => {
    const id = runOf(0).id;
    const series = new Map<string, { steps: number[]; values: number[]; times: number[] }>();
    for (let k = 0; k < 5000; k++) series.set(`layer${k}/update_ratio`, { steps: [0, 1], values: [k, k + 0.5], times: [1, 2] });
    db.transaction(() => appendRunPoints(db, id, series))();
    const run = await getRun(id);
    expect(run.keys).toHaveLength(5000);
    expect(run.keys.find((k) => k.key === "layer4999/update_ratio")).toMatchObject({ count: 2, lastValue: 4999.5, min: 4999, max: 4999.5 });
  });

  test("2,000 alerts and 2,000 shares of one run are listed", async () => {
    const id = runOf(1).id;
    db.transaction(() => {
      const alert = db.prepare(
        "INSERT INTO alerts (run_id, code, severity, status, step, first_step, title, message, evidence, created_at, updated_at) VALUES (?, ?, 'info', 'active', 0, ?, 't', 'm', '{}', 0, 0)",
      );
      for (let i = 0; i < 2000; i++) alert.run(id, `many${i}`, i);
      const share = db.prepare("INSERT INTO shares (token_hash, prefix, run_id, created_at) VALUES (?, ?, ?, ?)");
      for (let i = 0; i < 2000; i++) share.run(`hash${String(i).padStart(19, "0")}`, "tok", id, i);
    })();
    expect((await listAlerts(id)).alerts.length).toBe(2000 + 1 + 1 + 1); // + divergence, 1 warning, resolved info
    expect(await listShares(id)).toHaveLength(2000);
    expect((await listRuns({ sort: "-created", limit: 1000, project: "a" })).runs.find((r) => r.id === id)!.alerts).toEqual({
      critical: 1,
      warning: 1,
      info: 2000,
    });
  });
});

describe("headline values in the runs list", () => {
  test("come from memory, pending points or stored rows alike, and a listed run is not loaded into memory", async () => {
    const { forgetRunSeries, cachedRunSeries } = await import("@/lib/series/series-meta");
    const { compactRun } = await import("@/lib/series/append-points");
    const at = (i: number) => runOf(i).id;
    const log = (id: string, values: Record<string, number>) =>
      db.transaction(() => appendRunPoints(db, id, new Map(Object.entries(values).map(([k, v]) => [k, { steps: [5], values: [v], times: [1] }]))))();
    log(at(10), { "train/loss": 0.25, val_acc: Number.NaN, other: 1 }); // stays pending
    log(at(11), { loss: 0.5, "val/loss": Number.POSITIVE_INFINITY }); // compacted below, like a finished run
    db.transaction(() => compactRun(db, at(11), true))();
    for (const i of [10, 11]) forgetRunSeries(at(i)); // as after a restart
    forgetRunSeries(at(12));
    const list = await listRuns({ sort: "created", limit: 20 });
    const summary = (i: number) => list.runs.find((r) => r.id === at(i))!.summary;
    expect(summary(10)).toEqual({ "train/loss": 0.25, val_acc: "NaN" });
    expect(summary(11)).toEqual({ loss: 0.5, "val/loss": "Infinity" });
    expect(summary(12)).toEqual({});
    expect(cachedRunSeries(at(11))).toBeUndefined();
    expect(cachedRunSeries(at(12))).toBeUndefined();
  });
});
