import { sqlite, stmt } from "../db";
import { type ChecklistItem, type ChecklistSummary, checklist, checklistSummary } from "../diagnostics/checklist";
import type { RunData } from "../diagnostics/types";

export interface RunChecklist {
  items: ChecklistItem[];
  summary: ChecklistSummary;
}

/** Image keys the checklist names: a few are enough to say filters were logged. */
const IMAGE_KEYS_SHOWN = 20;

/**
 * The checklist of a run's data, with what RunData does not hold: the alerts the page shows (so an
 * item's "raised" is the alert on the page) and the image keys logged.
 */
export function checklistOf(runId: string, data: RunData): RunChecklist {
  const db = sqlite();
  // most severe first, as the panel orders them: a hidden finding folds under the root the panel shows
  const active = (
    stmt(
      db,
      "SELECT code FROM alerts WHERE run_id = ? AND status = 'active' ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, id",
    ).all(runId) as { code: string }[]
  ).map((r) => r.code);
  // events_image_key_idx answers this without reading the images
  const imageKeys = (
    stmt(db, "SELECT DISTINCT json_extract(data, '$.key') AS key FROM events WHERE run_id = ? AND type = 'image' LIMIT ?").all(
      runId,
      IMAGE_KEYS_SHOWN,
    ) as { key: unknown }[]
  )
    .map((r) => r.key)
    .filter((k): k is string => typeof k === "string");
  const items = checklist(data, { active, imageKeys, runId });
  return { items, summary: checklistSummary(items) };
}
