import { sqlite } from "../db";
import { rootCauseOrder } from "../diagnostics/causes";

export type AlertCounts = { critical: number; warning: number; info: number };

/** The run's first active root cause (root cause first, lib/diagnostics/causes.ts) and how many active alerts follow from it. */
export type RootCause = { code: string; severity: string; title: string; symptoms: number };

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

/** Per run with active alerts: the root cause the runs list names first. Same one-parameter id list as above. */
export function rootCauses(runIds: string[]): Map<string, RootCause> {
  const out = new Map<string, RootCause>();
  if (!runIds.length) return out;
  const rows = sqlite()
    .prepare(
      `SELECT run_id AS runId, code, severity, title FROM alerts
       WHERE status = 'active' AND run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, first_step, code`,
    )
    .all(JSON.stringify(runIds)) as { runId: string; code: string; severity: string; title: string }[];
  const byRun = new Map<string, { code: string; severity: string; title: string }[]>();
  for (const r of rows) {
    const list = byRun.get(r.runId) ?? [];
    list.push({ code: r.code, severity: r.severity, title: r.title });
    byRun.set(r.runId, list);
  }
  const rank: Record<string, number> = { critical: 0, warning: 1, info: 2 };
  for (const [runId, list] of byRun) {
    list.sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3));
    const first = rootCauseOrder(list)[0];
    out.set(runId, { code: first.code, severity: first.severity, title: first.title, symptoms: first.symptoms?.length ?? 0 });
  }
  return out;
}
