import { sqlite } from "../db";
import { cachedRunSeries, runSeries } from "../series/series-meta";
import { decodeValue, encodeValue, type WireNumber } from "../values";

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

/**
 * Last values of the headline keys of each run, e.g. { "train/loss": 0.12 }. A run already in
 * memory answers from there; a run with no pending points (finished ones, mostly) from its series
 * rows, all such runs in one query; only the others are loaded. Listing a thousand old runs thus
 * neither loads them into memory nor runs a query per run.
 */
export function headlineValues(runIds: string[]): Map<string, Record<string, WireNumber>> {
  const out = new Map<string, Record<string, WireNumber>>();
  const fromRows: string[] = [];
  const db = sqlite();
  const ids = JSON.stringify(runIds);
  const pending = new Set(
    (db.prepare("SELECT DISTINCT run_id AS id FROM pending_batches WHERE run_id IN (SELECT value FROM json_each(?))").all(ids) as { id: string }[]).map((r) => r.id),
  );
  for (const id of runIds) {
    const cached = cachedRunSeries(id);
    if (cached || pending.has(id)) out.set(id, pickHeadlines(cached ?? runSeries(id)));
    else fromRows.push(id);
  }
  if (fromRows.length) {
    const byRun = new Map<string, Map<string, { count: number; lastValue: number }>>();
    const rows = db
      .prepare(
        `SELECT run_id AS runId, key, count, last_value AS lastValue FROM series
         WHERE run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?)) AND count > 0`,
      )
      .all(JSON.stringify(fromRows), JSON.stringify(HEADLINE_KEYS.flat())) as { runId: string; key: string; count: number; lastValue: string }[];
    for (const r of rows) {
      let m = byRun.get(r.runId);
      if (!m) byRun.set(r.runId, (m = new Map()));
      m.set(r.key, { count: r.count, lastValue: decodeValue(JSON.parse(r.lastValue) as WireNumber) });
    }
    for (const id of fromRows) out.set(id, pickHeadlines(byRun.get(id) ?? new Map()));
  }
  return out;
}

function pickHeadlines(series: Map<string, { count: number; lastValue: number }>): Record<string, WireNumber> {
  const summary: Record<string, WireNumber> = {}; // keys from HEADLINE_KEYS only; plain, for React props
  for (const group of HEADLINE_KEYS) {
    const key = group.find((k) => (series.get(k)?.count ?? 0) > 0);
    if (key !== undefined) summary[key] = encodeValue(series.get(key)!.lastValue);
  }
  return summary;
}
