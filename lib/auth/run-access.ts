import { AppError } from "../errors";
import type { BulkAction } from "../runs/update-run";
import { type Principal, canAdministerRun, canWriteRun } from "./permissions";
import { runRef } from "./route-access";

// The checks a run route makes itself, because what it needs depends on its body (the front,
// lib/auth/route-access.ts, sees only the path): a PATCH that gives the run away administers it,
// and a bulk action must be allowed on every run it names before any of them changes.

/** How many refused ids a bulk refusal names. */
export const REFUSED_IDS_SHOWN = 20;

/** PATCH /api/v1/runs/{id} with `owner`: the run's owner or an admin. A missing run is left to the route (404). */
export function assertMayChangeOwner(p: Principal, id: string): void {
  const run = runRef(id);
  if (run !== null && !canAdministerRun(p, run))
    throw new AppError("forbidden", `you may not give the run ${id} to another owner (its owner or an admin only)`);
}

/**
 * POST /api/v1/runs/bulk: every named run is checked first (delete administers a run, the other
 * actions write to it); one refusal refuses the whole request, so nothing changes. Runs that do
 * not exist are left to the per-id answers (not_found).
 */
export function assertMayBulk(p: Principal, ids: readonly string[], action: BulkAction): void {
  const refused: string[] = [];
  for (const id of ids) {
    const run = runRef(id);
    if (run === null) continue;
    if (!(action === "delete" ? canAdministerRun(p, run) : canWriteRun(p, run))) refused.push(id);
  }
  if (!refused.length) return;
  const shown = refused.slice(0, REFUSED_IDS_SHOWN).join(", ");
  const more = refused.length > REFUSED_IDS_SHOWN ? ` and ${refused.length - REFUSED_IDS_SHOWN} more` : "";
  const why = action === "delete" ? "only a run's owner or an admin deletes it" : `you may not ${action} them`;
  throw new AppError("forbidden", `${refused.length} of the ${ids.length} runs are refused (${why}): ${shown}${more}; nothing was changed`);
}
