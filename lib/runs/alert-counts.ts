import { prisma } from "../db";

export type AlertCounts = { critical: number; warning: number; info: number };

/** Active alerts per run and severity. */
export async function alertCounts(runIds: string[]): Promise<Map<string, AlertCounts>> {
  const out = new Map<string, AlertCounts>();
  if (!runIds.length) return out;
  const groups = await prisma().alert.groupBy({
    by: ["runId", "severity"],
    where: { runId: { in: runIds }, status: "active" },
    _count: { _all: true },
  });
  for (const g of groups) {
    const c = out.get(g.runId) ?? { critical: 0, warning: 0, info: 0 };
    if (g.severity === "critical" || g.severity === "warning" || g.severity === "info") c[g.severity] = g._count._all;
    out.set(g.runId, c);
  }
  return out;
}
