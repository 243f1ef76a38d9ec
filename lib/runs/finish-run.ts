import { prisma, sqlite } from "../db";
import { compactRun } from "../series/append-points";
import { forgetRunSeries } from "../series/series-meta";
import { AppError } from "../errors";
import { emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { runFinished } from "./lifecycle";
import { runListViewOf, runView } from "./run-view";

/** Marks a run finished or crashed. */
export async function finishRun(id: string, status: "finished" | "crashed") {
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
  const now = Date.now() / 1000;
  const run = await db.run.update({
    where: { id },
    data: { status, finishedAt: now, updatedAt: now, lastSeenAt: now },
    include: { project: true },
  });
  const alerts = await runFinished(id);
  emitTo(RUNS_ROOM, "run", runListViewOf(run)); // lists carry a config summary, never the config
  emitTo(runRoom(id), "run", runView(run));
  return { id, status, alerts };
}
