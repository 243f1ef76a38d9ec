import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { closeShareRoom, emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { forgetRunSeries } from "../series/series-meta";
import { runDeleted } from "./lifecycle";

// Deleting a run: its row and, through the schema's ON DELETE CASCADE, every row that hangs off it
// (series and their chunks, pending batches, batches, histograms, events and images, alerts, shares,
// tags) go in one transaction: a crash leaves the run whole or gone, never half. The id is kept in
// deleted_runs so that a batch still on its way from a training script answers 404 and the SDK's
// re-create answers 410 run_deleted (both SDKs then count the data as rejected), instead of the run
// coming back empty. What memory holds for the run (storage's series caches and key sets, the
// diagnostics' copy) is dropped after the commit; all of it is synchronous on the one connection,
// so no batch of the run can be stored in between.

export function isDeletedRun(id: string): boolean {
  return stmt(sqlite(), "SELECT 1 FROM deleted_runs WHERE id = ?").get(id) !== undefined;
}

export const deletedRunError = (id: string) =>
  new AppError("run_deleted", `run ${id} was deleted; its id cannot be used again (start a new run without an id, or with another one)`);

/** Deletes a run and all its data; not_found when there is no such run. */
export function deleteRun(id: string): void {
  const db = sqlite();
  const shares = db
    .transaction(() => {
      if (!stmt(db, "SELECT 1 FROM runs WHERE id = ?").get(id)) throw new AppError("not_found", `run ${id} does not exist`);
      const ids = (stmt(db, "SELECT id FROM shares WHERE run_id = ?").all(id) as { id: number }[]).map((s) => s.id);
      stmt(db, "DELETE FROM runs WHERE id = ?").run(id);
      stmt(db, "INSERT OR REPLACE INTO deleted_runs (id, deleted_at) VALUES (?, ?)").run(id, Date.now() / 1000);
      return ids;
    })
    .immediate();
  forgetRunSeries(id);
  runDeleted(id);
  // pages open on it (the run's own, its shared links) and the runs lists hear it at once
  for (const s of shares) closeShareRoom(s, "revoked");
  emitTo(runRoom(id), "run-deleted", { runId: id });
  emitTo(RUNS_ROOM, "run-deleted", { runId: id });
}
