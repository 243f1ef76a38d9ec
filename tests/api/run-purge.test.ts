import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { type TestServer, api, freshDbPath, startServer, waitFor } from "../helpers/server";

// Deleting a run with many rows against a real server: the run is gone for every request at once,
// its rows go in bounded chunks in the background while another run keeps logging (every point of
// that run is stored), a deletion cut short by a stop resumes when the server starts again, and a
// deleted id is refused for BABYSIT_DELETED_RUN_RETENTION_DAYS, then forgotten (it may name a new run).

const JSON_TYPE = { "content-type": "application/json" };
const DAY = 86400;
const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function start(opts: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

const withDb = <T>(file: string, fn: (db: Database.Database) => T): T => {
  const db = new Database(file);
  try {
    db.pragma("busy_timeout = 5000");
    return fn(db);
  } finally {
    db.close();
  }
};

const TABLES = ["series", "pending_batches", "batches", "histograms", "events", "alerts", "shares", "run_tags", "run_config_values"];

/** Rows of a run left in every table that holds some, e.g. [["histograms", 120]]. */
const rowsOf = (file: string, id: string): [string, number][] =>
  withDb(file, (db) => {
    const out: [string, number][] = [];
    for (const t of TABLES) {
      const n = (db.prepare(`SELECT COUNT(*) AS n FROM ${t} WHERE run_id = ?`).get(id) as { n: number }).n;
      if (n > 0) out.push([t, n]);
    }
    const chunks = (
      db.prepare("SELECT COUNT(*) AS n FROM chunks WHERE series_id IN (SELECT id FROM series WHERE run_id = ?)").get(id) as { n: number }
    ).n;
    if (chunks > 0) out.push(["chunks", chunks]);
    return out;
  });

const tombstone = (file: string, id: string) =>
  withDb(file, (db) => db.prepare("SELECT deleted_at AS deletedAt, purged_at AS purgedAt FROM deleted_runs WHERE id = ?").get(id)) as
    | { deletedAt: number; purgedAt: number | null }
    | undefined;

/** A run with well over one purge chunk of rows: metric chunks, 12,000 histograms, 6,000 events, tags, a share, config. */
async function bigRun(s: TestServer, name: string): Promise<string> {
  const call = (m: string, p: string, b?: unknown) => api(s.url, m, p, b);
  const r = await call("POST", "/api/v1/runs", { project: "purge", name, config: { lr: 0.1, layers: 4 } });
  expect(r.status).toBe(201);
  const id = r.body.id as string;
  let seq = 0;
  const log = async (body: Record<string, unknown>) =>
    expect((await call("POST", `/api/v1/runs/${id}/log`, { seq: seq++, ...body })).status).toBe(200);
  for (let s0 = 0; s0 < 3000; s0 += 500) {
    await log({
      rows: Array.from({ length: 500 }, (_, i) => ({
        step: s0 + i,
        metrics: Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`m${k}`, Math.sin(s0 + i + k)])),
      })),
    });
  }
  for (let b = 0; b < 12; b++) {
    await log({ histograms: Array.from({ length: 1000 }, (_, i) => ({ step: b * 1000 + i, key: "act/fc1", edges: [0, 1, 2], counts: [i, b] })) });
  }
  for (let b = 0; b < 6; b++) await log({ events: Array.from({ length: 1000 }, (_, i) => ({ type: "note", step: b * 1000 + i, data: { i } })) });
  expect((await call("PATCH", `/api/v1/runs/${id}`, { tags: ["big"], notes: "to delete" })).status).toBe(200);
  expect((await call("POST", `/api/v1/runs/${id}/shares`, {})).status).toBe(201);
  return id;
}

/** What every route answers for a deleted run (its rows may still be on their way out). */
async function expectGone(s: TestServer, id: string) {
  const cases: [string, string, unknown, number, string][] = [
    ["GET", `/api/v1/runs/${id}`, undefined, 404, "not_found"],
    ["GET", `/api/v1/runs/${id}/series?key=m1`, undefined, 404, "not_found"],
    ["GET", `/api/v1/runs/${id}/histograms?key=act/fc1`, undefined, 404, "not_found"],
    ["GET", `/api/v1/runs/${id}/alerts`, undefined, 404, "not_found"],
    ["PATCH", `/api/v1/runs/${id}`, { name: "back" }, 404, "not_found"],
    ["POST", `/api/v1/runs/${id}/finish`, { status: "finished" }, 404, "not_found"],
    ["POST", `/api/v1/runs/${id}/shares`, {}, 404, "not_found"],
    ["DELETE", `/api/v1/runs/${id}`, undefined, 404, "not_found"],
    ["POST", `/api/v1/runs/${id}/log`, { seq: 999_999, rows: [{ step: 1, metrics: { m1: 1 } }] }, 404, "not_found"],
    ["POST", "/api/v1/runs", { project: "purge", name: "again", id }, 410, "run_deleted"],
  ];
  for (const [method, p, body, status, code] of cases) {
    const r = await api(s.url, method, p, body, method === "DELETE" ? JSON_TYPE : {});
    expect([method, p, r.status, r.body?.error?.code]).toEqual([method, p, status, code]);
  }
  const list = await api(s.url, "GET", "/api/v1/runs?archived=all&limit=200");
  expect(list.body.runs.some((r: { id: string }) => r.id === id)).toBe(false);
}

describe("deleting a run with many rows", () => {
  test("answers at once; the run is gone everywhere; its rows go in the background while another run logs, all of whose points are stored", async () => {
    const s = await start();
    const big = await bigRun(s, "big");
    expect(rowsOf(s.dbPath, big).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(18_000);
    const other = (await api(s.url, "POST", "/api/v1/runs", { project: "purge", name: "other" })).body.id as string;

    // the other run logs one point per batch, acknowledged one after another, through the delete
    let sent = 0;
    let stop = false;
    const logging = (async () => {
      while (!stop) {
        const r = await api(s.url, "POST", `/api/v1/runs/${other}/log`, { seq: sent, rows: [{ step: sent, metrics: { loss: 1 / (sent + 1) } }] });
        expect(r.status).toBe(200);
        sent++;
      }
    })();
    await waitFor(() => sent >= 5, 10_000, "the other run logging");

    const r = await api(s.url, "DELETE", `/api/v1/runs/${big}`, undefined, JSON_TYPE);
    expect(r).toEqual({ status: 200, body: { id: big, deleted: true } });
    await expectGone(s, big);
    await waitFor(() => rowsOf(s.dbPath, big).length === 0, 30_000, "the deleted run's rows to go");
    await waitFor(() => tombstone(s.dbPath, big)?.purgedAt, 10_000, "purged_at");
    const atPurge = sent;
    await waitFor(() => sent >= atPurge + 5, 10_000, "more batches after the purge");
    stop = true;
    await logging;

    const series = await api(s.url, "GET", `/api/v1/runs/${other}/series?key=loss&points=10000`);
    expect(series.status).toBe(200);
    expect(series.body.exact).toBe(true);
    expect(series.body.buckets.map((b: { step: number }) => b.step)).toEqual(Array.from({ length: sent }, (_, i) => i));
    await expectGone(s, big); // and still after the purge
  });

  test("a deletion cut short by a stop resumes when the server starts again", async () => {
    const first = await start();
    const big = await bigRun(first, "cut-short");
    const kept = await bigRun(first, "kept");
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    const keptRows = rowsOf(first.dbPath, kept);
    // the state a stop leaves right after DELETE answered: the runs row and its small rows gone,
    // the tombstone waiting for its purge, every other row still there
    withDb(first.dbPath, (db) => {
      db.pragma("foreign_keys = OFF");
      db.transaction(() => {
        for (const t of ["shares", "run_tags", "alerts", "run_config_values"]) db.prepare(`DELETE FROM ${t} WHERE run_id = ?`).run(big);
        db.prepare("DELETE FROM runs WHERE id = ?").run(big);
        db.prepare("INSERT INTO deleted_runs (id, deleted_at, purged_at) VALUES (?, ?, NULL)").run(big, Date.now() / 1000);
      })();
    });
    expect(
      rowsOf(first.dbPath, big)
        .map(([t]) => t)
        .sort(),
    ).toEqual(expect.arrayContaining(["batches", "chunks", "events", "histograms", "series"])); // pending points were compacted at the stop

    const again = await start({ dbPath: first.dbPath, port: first.port });
    await expectGone(again, big);
    await waitFor(() => rowsOf(again.dbPath, big).length === 0, 30_000, "the resumed purge");
    await waitFor(() => tombstone(again.dbPath, big)?.purgedAt, 10_000, "purged_at");
    expect(rowsOf(again.dbPath, kept)).toEqual(keptRows); // the other run is untouched
    expect((await api(again.url, "GET", `/api/v1/runs/${kept}`)).status).toBe(200);
    expect(withDb(again.dbPath, (db) => db.pragma("foreign_key_check"))).toEqual([]);
  });
});

describe("deleting a run, then a kill", () => {
  test("a server killed right after DELETE answers: the deletion stands and is finished at the next start", async () => {
    const first = await start();
    const big = await bigRun(first, "killed");
    expect((await api(first.url, "DELETE", `/api/v1/runs/${big}`, undefined, JSON_TYPE)).status).toBe(200);
    await first.kill();
    servers.splice(servers.indexOf(first), 1);
    // acknowledged is durable: the run is gone and its id remembered, whatever was left of its rows
    expect(withDb(first.dbPath, (db) => db.prepare("SELECT 1 FROM runs WHERE id = ?").get(big))).toBeUndefined();
    expect(tombstone(first.dbPath, big)).toBeDefined();

    const again = await start({ dbPath: first.dbPath, port: first.port });
    await expectGone(again, big);
    await waitFor(() => rowsOf(again.dbPath, big).length === 0 && tombstone(again.dbPath, big)?.purgedAt, 30_000, "the purge to finish");
  });
});

describe("deleted ids are remembered for BABYSIT_DELETED_RUN_RETENTION_DAYS, then forgotten", () => {
  // [retention env (unset: 30 days), days since the deletion, forgotten at start-up]
  test.each([
    [undefined, 31, true],
    [undefined, 29, false],
    [undefined, 0, false],
    ["1", 2, true],
    ["1", 0.5, false],
    ["0", 0.01, true],
    ["365", 200, false],
  ])("retention %s days, deleted %s days ago: forgotten %s", async (retention, ageDays, forgotten) => {
    const dbPath = freshDbPath();
    const id = `tomb-${String(ageDays).replace(".", "-")}`;
    withDb(dbPath, (db) => {
      const at = Date.now() / 1000 - ageDays * DAY;
      db.prepare("INSERT INTO deleted_runs (id, deleted_at, purged_at) VALUES (?, ?, ?)").run(id, at, at);
    });
    const s = await start({ dbPath, env: retention === undefined ? {} : { BABYSIT_DELETED_RUN_RETENTION_DAYS: retention } });
    if (forgotten) {
      await waitFor(() => !tombstone(dbPath, id), 10_000, "the tombstone to be pruned");
      // the id names nothing: a late log is told to create the run, and creating it makes a new, empty run
      const late = await api(s.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics: { loss: 1 } }] });
      expect(late.status).toBe(404);
      expect(late.body.error).toEqual({ code: "not_found", message: `run ${id} does not exist; create it with POST /api/v1/runs` });
      const made = await api(s.url, "POST", "/api/v1/runs", { project: "purge", name: "new life", id });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ id, resumed: false, lastStep: null });
      expect((await api(s.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics: { loss: 1 } }] })).status).toBe(200);
    } else {
      const late = await api(s.url, "POST", `/api/v1/runs/${id}/log`, { seq: 0, rows: [{ step: 0, metrics: { loss: 1 } }] });
      expect(late.status).toBe(404);
      expect(late.body.error).toEqual({ code: "not_found", message: `run ${id} was deleted; nothing more is stored for it` });
      const made = await api(s.url, "POST", "/api/v1/runs", { project: "purge", name: "new life", id });
      expect(made.status).toBe(410);
      expect(made.body.error.code).toBe("run_deleted");
      expect(tombstone(dbPath, id)).toBeDefined();
    }
  });

  test("a tombstone past the retention whose purge is not finished is kept until the run's rows are gone", async () => {
    const dbPath = freshDbPath();
    withDb(dbPath, (db) => {
      db.prepare("INSERT INTO deleted_runs (id, deleted_at, purged_at) VALUES ('unpurged', ?, NULL)").run(Date.now() / 1000 - 40 * DAY);
    });
    const s = await start({ dbPath });
    // the purge (nothing left to remove) finishes at start-up; the next prune forgets it
    await waitFor(() => tombstone(dbPath, "unpurged")?.purgedAt, 10_000, "purged_at");
    expect((await api(s.url, "POST", "/api/v1/runs", { project: "purge", id: "unpurged" })).status).toBe(410);
  });
});
