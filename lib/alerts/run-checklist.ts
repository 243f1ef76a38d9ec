import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { singleton } from "../singleton";
import { type RunChecklist, checklistOf } from "./checklist-inputs";
import { runDataFor, takeFinishSummary } from "./watch-runs";

// A run's babysitting checklist (lib/diagnostics/checklist.ts) from the data the babysitter holds
// for it, or reads for a finished one.

export type { RunChecklist };

// A finished run's checklist reads the whole run back from storage (about a second for a million
// points): kept per run until the run changes. Every batch, finish, resume or edit moves the run's
// updated_at, and every alert change its alerts' updated_at, so the stamp changes with anything the
// checklist reads.
const cache = () => singleton("babysit.checklistCache", () => new Map<string, { stamp: string; value: RunChecklist }>());
const CACHED_RUNS = 50;

export function runChecklist(runId: string): RunChecklist {
  const row = stmt(
    sqlite(),
    `SELECT r.updated_at || '|' || r.status || '|' || (SELECT COUNT(*) || ':' || IFNULL(MAX(a.updated_at), 0) FROM alerts a WHERE a.run_id = r.id) AS stamp
     FROM runs r WHERE r.id = ?`,
  ).get(runId) as { stamp: string } | undefined;
  if (!row) throw new AppError("not_found", `run ${runId} does not exist`);
  const all = cache();
  const hit = all.get(runId);
  if (hit && hit.stamp === row.stamp) return hit.value;
  const value = checklistOf(runId, runDataFor(runId));
  all.delete(runId);
  all.set(runId, { stamp: row.stamp, value });
  for (const id of all.keys()) {
    if (all.size <= CACHED_RUNS) break;
    all.delete(id);
  }
  return value;
}

/**
 * The one-line checklist for the finish answer: the final evaluation's (made while it still held the
 * run), else computed now.
 */
export function finishChecklist(runId: string) {
  const s = takeFinishSummary(runId) ?? runChecklist(runId).summary;
  return { summary: s.text, passed: s.passed, raised: s.raised, unknown: s.unknown, raisedCodes: s.raisedCodes };
}
