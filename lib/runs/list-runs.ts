import { sqlite, stmt } from "../db";
import { alertCounts } from "./alert-counts";
import { type ConfigScalar, type RunHeaderRecord, STALE_SECONDS, headlineValues, parseConfig, runListView, summarizeConfig } from "./run-view";

export interface ListRunsInput {
  project?: string;
  status?: "running" | "finished" | "crashed" | "stale";
  sort: "created" | "-created" | "name" | "-name";
  limit: number;
}

const ORDER: Record<ListRunsInput["sort"], string> = {
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
  projectName: string;
}

/**
 * Runs (newest first by default) with their last headline values, active alert counts and config
 * summaries (never whole configs: one can be 1 MiB). One
 * SQL query whatever the number of runs: the status filter ("stale" = running and silent for
 * BABYSIT_STALE_SECONDS) runs in SQL, so ?status= reads `limit` rows, not every run.
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
  const rows = db
    .prepare(
      `SELECT r.id, r.name, r.status, r.created_at AS createdAt, r.updated_at AS updatedAt,
         r.last_seen_at AS lastSeenAt, r.finished_at AS finishedAt, p.name AS projectName
       FROM runs r JOIN projects p ON p.id = r.project_id
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY ${ORDER[q.sort]} LIMIT ?`,
    )
    .all(...params, q.limit) as RunRow[];
  const records: RunHeaderRecord[] = rows.map(({ projectName, ...r }) => ({ ...r, project: { name: projectName } }));
  const ids = records.map((r) => r.id);
  const values = headlineValues(ids);
  const alerts = await alertCounts(ids);
  const summaries = configSummaries(ids);
  const projects = db
    .prepare("SELECT p.name, (SELECT COUNT(*) FROM runs r WHERE r.project_id = p.id) AS runs FROM projects p ORDER BY p.name")
    .all() as { name: string; runs: number }[];
  return {
    runs: records.map((r) => ({
      ...runListView(r, summaries.get(r.id) ?? {}),
      summary: values.get(r.id) ?? {},
      alerts: alerts.get(r.id) ?? { critical: 0, warning: 0, info: 0 },
    })),
    projects,
  };
}

/**
 * `configSummary` of each run. The configs are read one at a time (iterate, not all) and only
 * their summaries kept, so a list of runs with 1 MiB configs never holds them all at once; ids
 * travel as one JSON array (no bind-parameter limit). JSON.parse here is several times faster
 * than SQLite's json_each over the same configs.
 */
function configSummaries(ids: string[]): Map<string, Record<string, ConfigScalar>> {
  const out = new Map<string, Record<string, ConfigScalar>>();
  if (!ids.length) return out;
  const rows = stmt(sqlite(), "SELECT id, config FROM runs WHERE id IN (SELECT value FROM json_each(?))").iterate(JSON.stringify(ids));
  for (const r of rows as Iterable<{ id: string; config: string }>) out.set(r.id, summarizeConfig(parseConfig(r.config)));
  return out;
}
