import type Database from "better-sqlite3";
import { LIMITS } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { runSeries } from "../series/series-meta";
import { alertCounts, rootCauses } from "./alert-counts";
import { encodeNullable, encodeValue, type WireNumber } from "../values";
import { type RunHeaderRecord, STALE_SECONDS, headlineValues, runListView, seriesTotals } from "./run-view";
import { CONFIG_SORT_JOIN, CONFIG_SORT_VALUE, configColumns, configSummaries } from "./config-values";
import { tagsOf } from "./update-run";
import type { MetricFilter } from "../schemas/runs";
import { sweepsOfRuns } from "../sweeps/store";

export interface ListRunsInput {
  project?: string;
  status?: "running" | "finished" | "crashed" | "stale";
  /** Name contains this (case-insensitive for ASCII letters; the text is data, never a pattern). */
  q?: string;
  tag?: string;
  /** The owning user's name: that user's runs only (a name no account has: none). */
  owner?: string;
  /** A sweep's id: its trials only (lib/sweeps). */
  sweep?: string;
  /** "false" (default): not archived; "true": archived only; "all". */
  archived?: "false" | "true" | "all";
  sort: "created" | "-created" | "name" | "-name" | "config" | "-config" | "metric" | "-metric";
  /** The config or metric key of sort=config / sort=metric. */
  sortKey?: string;
  /** Which of a metric's stored summaries sort=metric orders by. */
  sortAgg?: "last" | "min" | "max";
  /** config.<key>=<value> filters of the query, by key (keys are user data: a Map). */
  config?: Map<string, ConfigFilter>;
  /** metric.<key>[:agg]=lo..hi filters: the run's last/min/max value of the key in the range. */
  metric?: MetricFilter[];
  configColumns?: string[];
  metricColumns?: string[];
  /** "true": the answer also names the config and metric keys the project's runs have (keys). */
  keys?: "true" | "false";
  limit: number;
  offset?: number;
}

/** One config filter: a value to equal (number, string, true/false/null), or an inclusive numeric range. */
export type ConfigFilter =
  | { kind: "number"; value: number }
  | { kind: "text"; value: string }
  | { kind: "literal"; value: "true" | "false" | "null" }
  | { kind: "range"; min?: number; max?: number };

const ORDER: Record<"created" | "-created" | "name" | "-name", string> = {
  created: "r.created_at ASC, r.rowid ASC",
  "-created": "r.created_at DESC, r.rowid DESC",
  name: "r.name ASC, r.rowid ASC",
  "-name": "r.name DESC, r.rowid DESC",
};

interface RunRow {
  id: string;
  name: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number;
  finishedAt: number | null;
  archived: number;
  projectName: string;
  owner: string | null;
}

/** `LIKE` with the user's text as data: %, _ and the escape character itself lose their meaning. */
export const likeContaining = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

// a metric's stored summary as a number for ordering: last_value is wire-encoded JSON text
// (a number, or "NaN" / "Infinity" / "-Infinity"); NaN sorts with the missing, at the end
// A run with pending points (a live one, mostly) has series rows whose totals cover its chunks
// only: its totals are taken from memory (series-meta.ts) into temp.live_totals first, and read
// from there (see liveTotals).
const STORED: Record<"last" | "min" | "max", string> = {
  last: `CASE s.last_value WHEN '"NaN"' THEN NULL WHEN '"Infinity"' THEN 9e999 WHEN '"-Infinity"' THEN -9e999
           ELSE CAST(s.last_value AS REAL) END`,
  min: "s.min",
  max: "s.max",
};
// joined (faster than a subquery per run: 68 against 112 ms over 100k runs), the key bound
const METRIC_JOIN = "LEFT JOIN series s ON s.run_id = r.id AND s.key = ? AND s.count > 0";
const LIVE_JOIN = "LEFT JOIN temp.live_totals lt ON lt.run_id = r.id";
const metricSql = (agg: "last" | "min" | "max", live: boolean) =>
  live ? `(CASE WHEN lt.run_id IS NOT NULL THEN lt.${agg} ELSE ${STORED[agg]} END)` : STORED[agg];

/**
 * Fills temp.live_totals with one row per run that has pending points: `key`'s totals (NULLs when
 * it has none). False when no run has any (then the stored totals are all there is).
 */
function liveTotals(db: Database.Database, key: string): boolean {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS live_totals (run_id TEXT PRIMARY KEY, last REAL, min REAL, max REAL)`);
  db.exec("DELETE FROM temp.live_totals");
  const put = stmt(db, "INSERT INTO temp.live_totals (run_id, last, min, max) VALUES (?, ?, ?, ?)");
  // a deleted run's pending batches outlive its runs row for a while (lib/runs/delete-run.ts)
  const pending = "SELECT DISTINCT run_id AS id FROM pending_batches WHERE run_id IN (SELECT id FROM runs)";
  for (const { id } of stmt(db, pending).all() as { id: string }[]) {
    const m = runSeries(id).get(key);
    if (!m || m.count === 0) put.run(id, null, null, null);
    else put.run(id, Number.isNaN(m.lastValue) ? null : m.lastValue, m.min, m.max);
  }
  return (stmt(db, "SELECT EXISTS (SELECT 1 FROM temp.live_totals) AS any").get() as { any: number }).any === 1;
}

/**
 * Fills temp.live_filter_totals with a row per run with pending points and per filtered key (NULLs
 * when it lacks the key). False when no run has pending points.
 */
function liveFilterTotals(db: Database.Database, filters: MetricFilter[]): boolean {
  db.exec("CREATE TEMP TABLE IF NOT EXISTS live_filter_totals (run_id TEXT, key TEXT, last REAL, min REAL, max REAL, PRIMARY KEY (run_id, key))");
  db.exec("DELETE FROM temp.live_filter_totals");
  const put = stmt(db, "INSERT OR IGNORE INTO temp.live_filter_totals (run_id, key, last, min, max) VALUES (?, ?, ?, ?, ?)");
  const pending = "SELECT DISTINCT run_id AS id FROM pending_batches WHERE run_id IN (SELECT id FROM runs)";
  const keys = [...new Set(filters.map((f) => f.key))];
  let any = false;
  for (const { id } of stmt(db, pending).all() as { id: string }[]) {
    any = true;
    const series = runSeries(id);
    for (const key of keys) {
      const m = series.get(key);
      if (!m || m.count === 0) put.run(id, key, null, null, null);
      else put.run(id, key, Number.isNaN(m.lastValue) ? null : m.lastValue, m.min, m.max);
    }
  }
  return any;
}

/**
 * Runs (newest first by default) with their last headline values, active alert counts, tags and
 * config summaries (never whole configs, nor for filters, sorts and columns: one can be 1 MiB;
 * lib/runs/config-values.ts), filtered, ordered and paged in one SQL
 * query with bound parameters whatever the number of runs: ?status= ("stale" = running and silent
 * for BABYSIT_STALE_SECONDS), ?q=, ?tag=, ?owner=, ?archived=, config.<key>= filters and sorts by a config
 * value or a metric's stored summary all run in SQL. `total` counts every run that matches.
 */
export async function listRuns(q: ListRunsInput) {
  const db = sqlite();
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.project !== undefined) {
    where.push("p.name = ?");
    params.push(q.project);
  }
  if (q.status !== undefined) {
    // the same rule as shownStatus: stale when now - last_seen_at > STALE_SECONDS (never, when
    // that is not a number: then -Infinity binds as a number below which nothing lies)
    const cutoff = Number.isNaN(STALE_SECONDS) ? -Infinity : Date.now() / 1000 - STALE_SECONDS;
    if (q.status === "running") where.push("r.status = 'running' AND r.last_seen_at >= ?");
    else if (q.status === "stale") where.push("r.status = 'running' AND r.last_seen_at < ?");
    else where.push("r.status = ?");
    params.push(q.status === "running" || q.status === "stale" ? cutoff : q.status);
  }
  const archived = q.archived ?? "false";
  if (archived !== "all") where.push(archived === "true" ? "r.archived = 1" : "r.archived = 0");
  if (q.q !== undefined) {
    where.push("r.name LIKE ? ESCAPE '\\'");
    params.push(likeContaining(q.q));
  }
  if (q.tag !== undefined) {
    where.push("r.id IN (SELECT t.run_id FROM run_tags t WHERE t.tag = ?)");
    params.push(q.tag);
  }
  if (q.owner !== undefined) {
    where.push("r.owner_id IN (SELECT u.id FROM users u WHERE u.name = ?)");
    params.push(q.owner);
  }
  if (q.sweep !== undefined) {
    where.push("r.sweep_id = ?");
    params.push(q.sweep);
  }
  // config filters read run_config_values (the key and value bound), never the run's config; a
  // lookup per run as the runs are walked in order (IN (subquery) made SQLite fetch and sort every
  // match first: 124 against 0.9 ms for a page over 100k runs). The unary + keeps SQLite on the
  // (run_id, key) key: with (key, text) or (key, num) it scanned every run's value per run.
  for (const [key, f] of q.config ?? []) {
    const sub = "EXISTS (SELECT 1 FROM run_config_values v WHERE v.run_id = r.id AND v.key = ? AND";
    if (f.kind === "literal") {
      where.push(`${sub} v.type = ?)`);
      params.push(key, f.value);
    } else if (f.kind === "text") {
      where.push(`${sub} v.type = 'text' AND +v.text = ?)`);
      params.push(key, f.value);
    } else {
      const lo = f.kind === "number" ? f.value : f.min;
      const hi = f.kind === "number" ? f.value : f.max;
      where.push(`${sub} v.type IN ('integer', 'real') AND +v.num >= ? AND +v.num <= ?)`);
      // -Infinity / Infinity bind as numbers beyond every stored one
      params.push(key, lo ?? -Infinity, hi ?? Infinity);
    }
  }
  // metric filters read the series' stored totals (the key and bounds bound), or, for a run with
  // pending points, its totals from memory (temp.live_filter_totals), as the metric sort does
  const metricFilters = q.metric ?? [];
  const liveFilters = metricFilters.length > 0 && liveFilterTotals(db, metricFilters);
  for (const f of metricFilters) {
    const stored = `(SELECT ${STORED[f.agg]} FROM series s WHERE s.run_id = r.id AND s.key = ? AND s.count > 0)`;
    const live = `(SELECT lf.${f.agg} FROM temp.live_filter_totals lf WHERE lf.run_id = r.id AND lf.key = ?)`;
    const value = liveFilters
      ? `(CASE WHEN EXISTS (SELECT 1 FROM temp.live_filter_totals lf WHERE lf.run_id = r.id AND lf.key = ?) THEN ${live} ELSE ${stored} END)`
      : stored;
    // NULL (no such metric, or a last value of NaN) is in no range
    where.push(`${value} BETWEEN ? AND ?`);
    if (liveFilters) params.push(f.key, f.key);
    params.push(f.key, f.min ?? -Infinity, f.max ?? Infinity);
  }
  const whereSql = where.length ? `WHERE ${where.join(" AND ")}` : "";
  let order: string;
  const orderParams: (string | number)[] = [];
  if (q.sort === "config" || q.sort === "-config" || q.sort === "metric" || q.sort === "-metric") {
    const dir = q.sort.startsWith("-") ? "DESC" : "ASC";
    // a config value: numbers before text, by value; a missing value (or NaN) last in both directions
    const byMetric = q.sort.endsWith("metric");
    const live = byMetric && liveTotals(db, q.sortKey!);
    const expr = byMetric ? metricSql(q.sortAgg ?? "last", live) : CONFIG_SORT_VALUE;
    const joins = byMetric ? `${METRIC_JOIN} ${live ? LIVE_JOIN : ""}` : CONFIG_SORT_JOIN;
    order = `sort_value IS NULL, sort_value ${dir}, r.created_at DESC, r.rowid DESC`;
    // the key is bound once, in the join
    orderParams.push(q.sortKey!);
    const rows = db
      .prepare(
        `SELECT r.id, r.name, r.status, r.created_at AS createdAt, r.updated_at AS updatedAt, r.last_seen_at AS lastSeenAt,
           r.finished_at AS finishedAt, r.archived, p.name AS projectName, (SELECT u.name FROM users u WHERE u.id = r.owner_id) AS owner, ${expr} AS sort_value
         FROM runs r JOIN projects p ON p.id = r.project_id ${joins} ${whereSql}
         ORDER BY ${order} LIMIT ? OFFSET ?`,
      )
      .all(...orderParams, ...params, q.limit, q.offset ?? 0) as RunRow[];
    return await listView(rows, q, whereSql, params);
  }
  const rows = db
    .prepare(
      `SELECT r.id, r.name, r.status, r.created_at AS createdAt, r.updated_at AS updatedAt,
         r.last_seen_at AS lastSeenAt, r.finished_at AS finishedAt, r.archived, p.name AS projectName, (SELECT u.name FROM users u WHERE u.id = r.owner_id) AS owner
       FROM runs r JOIN projects p ON p.id = r.project_id
       ${whereSql}
       ORDER BY ${ORDER[q.sort]} LIMIT ? OFFSET ?`,
    )
    .all(...params, q.limit, q.offset ?? 0) as RunRow[];
  return await listView(rows, q, whereSql, params);
}

async function listView(rows: RunRow[], q: ListRunsInput, whereSql: string, params: (string | number)[]) {
  const db = sqlite();
  const ids = rows.map((r) => r.id);
  const tags = tagsOf(ids);
  const sweeps = sweepsOfRuns(ids);
  const records: RunHeaderRecord[] = rows.map(({ projectName, ...r }) => ({
    id: r.id,
    name: r.name,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastSeenAt: r.lastSeenAt,
    finishedAt: r.finishedAt,
    archived: r.archived,
    tags: tags.get(r.id) ?? [],
    owner: r.owner,
    sweep: sweeps.get(r.id) ?? null,
    project: { name: projectName },
  }));
  const values = headlineValues(ids);
  const alerts = await alertCounts(ids);
  const causes = rootCauses(ids);
  const summaries = configSummaries(ids);
  const configCols = q.configColumns?.length ? configColumns(ids, q.configColumns) : undefined;
  const metricCols = q.metricColumns?.length ? metricColumns(ids, q.metricColumns) : undefined;
  // a short page is the end of the list: its count is known without counting again
  const offset = q.offset ?? 0;
  const total =
    rows.length < q.limit && (rows.length > 0 || offset === 0)
      ? offset + rows.length
      : (db.prepare(`SELECT COUNT(*) AS n FROM runs r JOIN projects p ON p.id = r.project_id ${whereSql}`).get(...params) as { n: number }).n;
  // a project whose runs were all deleted is not offered (its row stays: runs may come back to it)
  const projects = db
    .prepare(
      "SELECT p.name, (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id) AS runs FROM projects p WHERE EXISTS (SELECT 1 FROM runs r WHERE r.project_id = p.id) ORDER BY p.name",
    )
    .all() as { name: string; runs: number }[];
  const tagCounts = db.prepare("SELECT tag AS name, COUNT(*) AS runs FROM run_tags GROUP BY tag ORDER BY tag").all() as {
    name: string;
    runs: number;
  }[];
  return {
    runs: records.map((r) => ({
      ...runListView(r, summaries.get(r.id) ?? {}),
      summary: values.get(r.id) ?? {},
      alerts: alerts.get(r.id) ?? { critical: 0, warning: 0, info: 0 },
      // only on runs with active alerts: the list names the root cause before the counts
      ...(causes.has(r.id) ? { rootCause: causes.get(r.id) } : {}),
      ...(configCols || metricCols ? { columns: { config: configCols?.get(r.id) ?? {}, metrics: metricCols?.get(r.id) ?? {} } } : {}),
    })),
    total,
    projects,
    tags: tagCounts,
    ...(q.keys === "true" ? { keys: listKeys(q.project) } : {}),
  };
}

/**
 * The config keys (of run_config_values: the ones filters, sorts and columns see) and metric keys
 * that the newest runListKeysRuns runs of a project (or of every project) have, each in code unit
 * order, at most runListKeysMax of each: what the runs list's column picker and filters offer.
 * Bounded by runs, as every key row of 100k runs x 20 keys took 1.2 s (blocking the server) and
 * the newest 1000 runs' take milliseconds; asked for on its own (keys=true), not with each refetch.
 */
function listKeys(project: string | undefined): { config: string[]; metrics: string[] } {
  const db = sqlite();
  const max = LIMITS.runListKeysMax.value;
  const newest =
    project === undefined
      ? "SELECT r.id FROM runs r ORDER BY r.created_at DESC LIMIT ?"
      : "SELECT r.id FROM runs r WHERE r.project_id = (SELECT p.id FROM projects p WHERE p.name = ?) ORDER BY r.created_at DESC LIMIT ?";
  const runs = `WHERE x.run_id IN (${newest})`;
  const scanned = LIMITS.runListKeysRuns.value;
  const args = project === undefined ? [scanned, max] : [project, scanned, max];
  const config = db.prepare(`SELECT DISTINCT x.key FROM run_config_values x ${runs} ORDER BY x.key LIMIT ?`).all(...args) as { key: string }[];
  const metrics = db.prepare(`SELECT DISTINCT x.key FROM series x ${runs} ORDER BY x.key LIMIT ?`).all(...args) as { key: string }[];
  return { config: config.map((r) => r.key), metrics: metrics.map((r) => r.key) };
}

export interface MetricCell {
  last: WireNumber;
  min: WireNumber | null;
  max: WireNumber | null;
}

/** last, min and max of the chosen metric keys of each run (a run in memory from there, others from their series rows). */
function metricColumns(ids: string[], keys: string[]): Map<string, Record<string, MetricCell>> {
  const out = new Map<string, Record<string, MetricCell>>();
  for (const [id, series] of seriesTotals(ids, keys)) {
    const entries: [string, MetricCell][] = [];
    for (const k of keys) {
      const m = series.get(k);
      if (m && m.count > 0) entries.push([k, { last: encodeValue(m.lastValue), min: encodeNullable(m.min), max: encodeNullable(m.max) }]);
    }
    out.set(id, Object.fromEntries(entries));
  }
  return out;
}
