import { sqlite } from "../db";

export type AlertCounts = { critical: number; warning: number; info: number };

/**
 * Active alerts per run and severity. The ids travel as ONE JSON parameter (json_each), not one
 * bind parameter each: SQLite refuses more than 999 of those, which broke lists of 997+ runs.
 */
export async function alertCounts(runIds: string[]): Promise<Map<string, AlertCounts>> {
  const out = new Map<string, AlertCounts>();
  if (!runIds.length) return out;
  const groups = sqlite()
    .prepare(
      `SELECT run_id AS runId, severity, COUNT(*) AS n FROM alerts
       WHERE status = 'active' AND run_id IN (SELECT value FROM json_each(?)) GROUP BY run_id, severity`,
    )
    .all(JSON.stringify(runIds)) as { runId: string; severity: string; n: number }[];
  for (const g of groups) {
    const c = out.get(g.runId) ?? { critical: 0, warning: 0, info: 0 };
    if (g.severity === "critical" || g.severity === "warning" || g.severity === "info") c[g.severity] = g.n;
    out.set(g.runId, c);
  }
  return out;
}
