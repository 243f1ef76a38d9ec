import { sqlite } from "../db";
import type { WireNumber } from "../values";

// How a run is shown: status with "stale" derived, times in Unix seconds, config parsed.

export const STALE_SECONDS = Number(process.env.BABYSIT_STALE_SECONDS ?? 300);

export interface RunRecord {
  id: string;
  name: string;
  config: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number;
  finishedAt: number | null;
  project: { name: string };
}

export function shownStatus(status: string, lastSeenAt: number, now = Date.now() / 1000): string {
  return status === "running" && now - lastSeenAt > STALE_SECONDS ? "stale" : status;
}

export function runView(r: RunRecord) {
  return {
    id: r.id,
    project: r.project.name,
    name: r.name,
    status: shownStatus(r.status, r.lastSeenAt),
    config: safeParse(r.config),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastSeenAt: r.lastSeenAt,
    finishedAt: r.finishedAt,
    url: `/runs/${r.id}`,
  };
}

function safeParse(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

// The keys a runs list shows as "last values", first match of each group wins.
export const HEADLINE_KEYS = [
  ["train/loss", "loss", "train_loss", "training_loss"],
  ["val/loss", "val_loss", "validation_loss", "eval/loss"],
  ["train/acc", "acc", "accuracy", "train_acc"],
  ["val/acc", "val_acc", "val_accuracy", "eval/accuracy"],
];

/** Last values of the headline keys of each run, e.g. { "train/loss": 0.12 }. */
export function headlineValues(runIds: string[]): Map<string, Record<string, WireNumber>> {
  const out = new Map<string, Record<string, WireNumber>>();
  if (!runIds.length) return out;
  const keys = HEADLINE_KEYS.flat();
  const rows = sqlite()
    .prepare(
      `SELECT run_id, key, last_value FROM series WHERE count > 0 AND run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(runIds), JSON.stringify(keys)) as { run_id: string; key: string; last_value: string }[];
  const byRun = new Map<string, Map<string, WireNumber>>();
  for (const r of rows) {
    if (!byRun.has(r.run_id)) byRun.set(r.run_id, new Map());
    byRun.get(r.run_id)!.set(r.key, JSON.parse(r.last_value) as WireNumber);
  }
  for (const id of runIds) {
    const have = byRun.get(id);
    const summary: Record<string, WireNumber> = {};
    if (have) {
      for (const group of HEADLINE_KEYS) {
        const k = group.find((g) => have.has(g));
        if (k) summary[k] = have.get(k)!;
      }
    }
    out.set(id, summary);
  }
  return out;
}
