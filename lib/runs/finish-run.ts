import { prisma, sqlite } from "../db";
import { compactRun } from "../series/append-points";
import { forgetRunSeries } from "../series/series-meta";
import { AppError } from "../errors";
import { emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { runFinished } from "./lifecycle";
import { clientTime } from "./run-times";
import { runListViewOf, runView } from "./run-view";

/**
 * Marks a running run finished or crashed. A run that already finished keeps its status and
 * finishedAt: a second finish (an SDK's replay from its spool, a script calling it twice) answers
 * that status and changes nothing, so that status does not flip with every call; points logged
 * since are still compacted and evaluated. Resuming the run (POST /api/v1/runs with its id) makes it
 * running again, and a finish after that counts.
 */
export async function finishRun(id: string, status: "finished" | "crashed", finishedAt?: number) {
  const db = prisma();
  const existing = await db.run.findUnique({ where: { id } });
  if (!existing) throw new AppError("not_found", `run ${id} does not exist`);
  // a finished run keeps no pending points: everything goes into compressed chunks
  try {
    sqlite().transaction(() => compactRun(sqlite(), id, true))();
  } catch (e) {
    forgetRunSeries(id);
    throw e;
  }
  if (existing.status !== "running") return { id, status: existing.status, alerts: await runFinished(id) };
  const now = Date.now() / 1000;
  const run = await db.run.update({
    where: { id },
    data: { status, finishedAt: clientTime(finishedAt, now, existing.createdAt) ?? now, updatedAt: now, lastSeenAt: now },
    include: { project: true },
  });
  const alerts = await runFinished(id);
  emitTo(RUNS_ROOM, "run", runListViewOf(run)); // lists carry a config summary, never the config
  emitTo(runRoom(id), "run", runView(run));
  return { id, status, alerts };
}
