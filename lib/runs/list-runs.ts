import { prisma, sqlite, stmt } from "../db";
import { alertCounts } from "./alert-counts";
import { CONFIG_SUMMARY, type ConfigScalar, headlineValues, runListView, shownStatus, summaryEntry } from "./run-view";

export interface ListRunsInput {
  project?: string;
  status?: "running" | "finished" | "crashed" | "stale";
  sort: "created" | "-created" | "name" | "-name";
  limit: number;
}

/** Runs (newest first by default) with their last headline values, active alert counts and config summaries. */
export async function listRuns(q: ListRunsInput) {
  const db = prisma();
  const orderBy =
    q.sort === "created" ? { createdAt: "asc" as const }
    : q.sort === "name" ? { name: "asc" as const }
    : q.sort === "-name" ? { name: "desc" as const }
    : { createdAt: "desc" as const };
  const rows = await db.run.findMany({
    where: q.project ? { project: { name: q.project } } : {},
    orderBy,
    omit: { config: true }, // a config can be 1 MiB: the list reads a summary of it in SQL instead
    include: { project: true },
    take: q.status ? undefined : q.limit,
  });
  const filtered = (q.status ? rows.filter((r) => shownStatus(r.status, r.lastSeenAt) === q.status) : rows).slice(0, q.limit);
  const ids = filtered.map((r) => r.id);
  const values = headlineValues(ids);
  const alerts = await alertCounts(ids);
  const summaries = configSummaries(ids);
  const projects = await db.project.findMany({ orderBy: { name: "asc" }, include: { _count: { select: { runs: true } } } });
  return {
    runs: filtered.map((r) => ({
      ...runListView(r, summaries.get(r.id) ?? {}),
      summary: values.get(r.id) ?? {},
      alerts: alerts.get(r.id) ?? { critical: 0, warning: 0, info: 0 },
    })),
    projects: projects.map((p) => ({ name: p.name, runs: p._count.runs })),
  };
}

/**
 * `configSummary` of each run, read inside SQLite so that no whole config reaches JavaScript. Ids
 * travel as one JSON array (no bind-parameter limit); a config's top level keeps its order, which
 * is the order JSON.stringify wrote it in, so this agrees with summarizeConfig().
 */
function configSummaries(ids: string[]): Map<string, Record<string, ConfigScalar>> {
  const entries = new Map<string, [string, ConfigScalar][]>();
  if (!ids.length) return new Map();
  const rows = stmt(
    sqlite(),
    `SELECT run_id, key, type, atom FROM (
       SELECT r.id AS run_id, j.key AS key, j.type AS type, j.atom AS atom,
              ROW_NUMBER() OVER (PARTITION BY r.id ORDER BY j.id) AS n
       FROM runs r, json_each(CASE WHEN json_valid(r.config) THEN r.config ELSE '{}' END) j
       WHERE r.id IN (SELECT value FROM json_each(?))
         AND j.type IN ('null', 'true', 'false', 'integer', 'real', 'text')
         AND length(j.key) <= ?
     ) WHERE n <= ? ORDER BY run_id, n`,
  ).all(JSON.stringify(ids), CONFIG_SUMMARY.keyMaxLength, CONFIG_SUMMARY.entries) as { run_id: string; key: string; type: string; atom: unknown }[];
  for (const r of rows) {
    let list = entries.get(r.run_id);
    if (!list) {
      list = [];
      entries.set(r.run_id, list);
    }
    const value = r.type === "true" ? true : r.type === "false" ? false : r.type === "null" ? null : (r.atom as string | number);
    const e = summaryEntry(r.key, value);
    if (e) list.push(e);
  }
  // plain objects (pages hand them to client components); fromEntries keeps "__proto__" a plain key
  return new Map([...entries].map(([id, list]) => [id, Object.fromEntries(list)]));
}
