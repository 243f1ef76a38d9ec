import { prisma } from "../db";
import { AppError } from "../errors";
import { rootCauseOrder } from "../diagnostics/causes";
import { SEVERITY_RANK, alertView } from "./alert-view";

/** A run's alerts: active ones first, root causes before their symptoms (causedBy/symptoms), most severe first, then by step. */
export async function listAlerts(runId: string) {
  const db = prisma();
  const run = await db.run.findUnique({ where: { id: runId }, select: { id: true } });
  if (!run) throw new AppError("not_found", `run ${runId} does not exist`);
  const rows = await db.alert.findMany({ where: { runId } });
  const alerts = rows
    .map(alertView)
    .sort(
      (a, b) =>
        Number(b.status === "active") - Number(a.status === "active") ||
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        a.firstStep - b.firstStep,
    );
  return { alerts: rootCauseOrder(alerts) };
}
