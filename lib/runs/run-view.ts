import { runSeries } from "../series/series-meta";
import { encodeValue, type WireNumber } from "../values";

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
  for (const id of runIds) {
    const series = runSeries(id);
    const entries: [string, WireNumber][] = [];
    for (const group of HEADLINE_KEYS) {
      const m = group.map((k) => series.get(k)).find((s) => s && s.count > 0);
      if (m) entries.push([m.key, encodeValue(m.lastValue)]);
    }
    // fromEntries defines each key as its own property whatever it is named; a plain object still,
    // because React passes only plain objects to the pages
    out.set(id, Object.fromEntries(entries));
  }
  return out;
}
