import { sqlite, stmt } from "../db";
import { type ChecklistItem, type ChecklistSummary, checklist, checklistSummary } from "../diagnostics/checklist";
import { AppError } from "../errors";
import { runDataFor } from "./watch-runs";

// A run's babysitting checklist (lib/diagnostics/checklist.ts) from the data the babysitter holds
// for it (or reads for a finished one) and the alerts the page shows, so an item's "raised" is the
// alert on the page.

export interface RunChecklist {
  items: ChecklistItem[];
  summary: ChecklistSummary;
}

/** Image keys the checklist names: a few are enough to say filters were logged. */
const IMAGE_KEYS_SHOWN = 20;

export function runChecklist(runId: string): RunChecklist {
  const db = sqlite();
  if (!stmt(db, "SELECT 1 FROM runs WHERE id = ?").get(runId)) throw new AppError("not_found", `run ${runId} does not exist`);
  const active = (stmt(db, "SELECT code FROM alerts WHERE run_id = ? AND status = 'active'").all(runId) as { code: string }[]).map((r) => r.code);
  // events_image_key_idx answers this without reading the images
  const imageKeys = (
    stmt(db, "SELECT DISTINCT json_extract(data, '$.key') AS key FROM events WHERE run_id = ? AND type = 'image' LIMIT ?").all(
      runId,
      IMAGE_KEYS_SHOWN,
    ) as {
      key: unknown;
    }[]
  )
    .map((r) => r.key)
    .filter((k): k is string => typeof k === "string");
  const items = checklist(runDataFor(runId), { active, imageKeys });
  return { items, summary: checklistSummary(items) };
}
