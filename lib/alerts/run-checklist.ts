import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { type RunChecklist, checklistOf } from "./checklist-inputs";
import { runDataFor, takeFinishSummary } from "./watch-runs";

// A run's babysitting checklist (lib/diagnostics/checklist.ts) from the data the babysitter holds
// for it, or reads for a finished one.

export type { RunChecklist };

export function runChecklist(runId: string): RunChecklist {
  if (!stmt(sqlite(), "SELECT 1 FROM runs WHERE id = ?").get(runId)) throw new AppError("not_found", `run ${runId} does not exist`);
  return checklistOf(runId, runDataFor(runId));
}

/**
 * The one-line checklist for the finish answer: the final evaluation's (made while it still held the
 * run), else computed now.
 */
export function finishChecklist(runId: string) {
  const s = takeFinishSummary(runId) ?? runChecklist(runId).summary;
  return { summary: s.text, passed: s.passed, raised: s.raised, unknown: s.unknown, raisedCodes: s.raisedCodes };
}
