import { prisma } from "../db";
import { headlineValues, runView, shownStatus } from "./run-view";
import { alertCounts } from "./alert-counts";

export interface ListRunsInput {
  project?: string;
  status?: "running" | "finished" | "crashed" | "stale";
  sort: "created" | "-created" | "name" | "-name";
  limit: number;
}

/** Runs (newest first by default) with their last headline values and active alert counts. */
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
    include: { project: true },
    take: q.status ? undefined : q.limit,
  });
  const filtered = (q.status ? rows.filter((r) => shownStatus(r.status, r.lastSeenAt) === q.status) : rows).slice(0, q.limit);
  const ids = filtered.map((r) => r.id);
  const values = headlineValues(ids);
  const alerts = await alertCounts(ids);
  const projects = await db.project.findMany({ orderBy: { name: "asc" }, include: { _count: { select: { runs: true } } } });
  return {
    runs: filtered.map((r) => ({
      ...runView(r),
      summary: values.get(r.id) ?? {},
      alerts: alerts.get(r.id) ?? { critical: 0, warning: 0, info: 0 },
    })),
    projects: projects.map((p) => ({ name: p.name, runs: p._count.runs })),
  };
}
