import { prisma, sqlite, stmt } from "../db";
import { alertCounts } from "./alert-counts";
import { type ConfigScalar, headlineValues, parseConfig, runListView, shownStatus, summarizeConfig } from "./run-view";

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
