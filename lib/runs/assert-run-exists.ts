import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { isDeletedRun } from "./delete-run";

/**
 * The 404 of a write to a run that is not there: deleted (the SDKs then try to re-create it, which
 * answers 410 run_deleted) or never made. One wording for the log batch, the console lines and the
 * server's check of their heads before their bodies are read (lib/http/before-body.ts).
 */
export function assertRunExists(runId: string): void {
  if (stmt(sqlite(), "SELECT 1 FROM runs WHERE id = ?").get(runId)) return;
  if (isDeletedRun(runId)) throw new AppError("not_found", `run ${runId} was deleted; nothing more is stored for it`);
  throw new AppError("not_found", `run ${runId} does not exist; create it with POST /api/v1/runs`);
}
