import { codePointLength } from "../contract/limits";
import { sqlite } from "../db";
import { cachedRunSeries, runSeries } from "../series/series-meta";
import { decodeValue, encodeValue, type WireNumber } from "../values";

// How a run is shown: status with "stale" derived, times in Unix seconds. Only GET /api/v1/runs/{id}
// (and the run's own page and room) carries the whole config; lists carry `configSummary`, a few
// top-level scalar values, so that a list of runs stays small whatever their configs hold.

export const STALE_SECONDS = Number(process.env.BABYSIT_STALE_SECONDS ?? 300);

/** What `configSummary` keeps: the first entries of the config's top level whose value is a
 * string, number, boolean or null and whose key is short, strings cut to a few code points. */
export const CONFIG_SUMMARY = { entries: 10, keyMaxLength: 64, textMaxLength: 64 } as const;

export type ConfigScalar = string | number | boolean | null;

export interface RunHeaderRecord {
  id: string;
  name: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number;
  finishedAt: number | null;
  project: { name: string };
  /** Prisma gives a boolean, raw SQLite 0 or 1; left out where not read (then views leave it out too). */
  archived?: boolean | number;
  /** The run's tags, where read (lib/runs/run-tags.ts). */
  tags?: string[];
  /**
   * The owning user's name (null: no owner), where read. Lists and the dashboard's GET carry it;
   * the run's own room does not, since a shared link's page listens there (docs/security.md).
   */
  owner?: string | null;
  /** The sweep the run is a trial of (lib/sweeps), where read; null: none. */
  sweep?: { id: string; name: string } | null;
}

export interface RunRecord extends RunHeaderRecord {
  config: string;
  /** Only the run's own view carries its notes (up to notesMaxLength): lists stay small. */
  notes?: string;
}

export function shownStatus(status: string, lastSeenAt: number, now = Date.now() / 1000): string {
  return status === "running" && now - lastSeenAt > STALE_SECONDS ? "stale" : status;
}

function runHeader(r: RunHeaderRecord) {
  return {
    id: r.id,
    project: r.project.name,
    name: r.name,
    status: shownStatus(r.status, r.lastSeenAt),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastSeenAt: r.lastSeenAt,
    finishedAt: r.finishedAt,
    url: `/runs/${r.id}`,
    // run management fields, where the record has them (a page merging a `run` event keeps its own otherwise)
    ...(r.archived === undefined ? {} : { archived: Boolean(r.archived) }),
    ...(r.tags === undefined ? {} : { tags: r.tags }),
    ...(r.sweep === undefined ? {} : { sweep: r.sweep }),
  };
}

/** A run with its whole config: GET /api/v1/runs/{id} and the run's own room. */
export function runView(r: RunRecord) {
  return { ...runHeader(r), ...(r.notes === undefined ? {} : { notes: r.notes }), config: parseConfig(r.config) };
}

/** A run as lists show it (GET /api/v1/runs, the runs room): a config summary instead of the config, and its owner. */
export function runListView(r: RunHeaderRecord, configSummary: Record<string, ConfigScalar>) {
  return { ...runHeader(r), ...(r.owner === undefined ? {} : { owner: r.owner }), configSummary };
}

/** The list view of a run whose config is at hand (a run just created, resumed or finished). */
export function runListViewOf(r: RunRecord) {
  return runListView(r, summarizeConfig(parseConfig(r.config)));
}

/** A config key and value as `configSummary` keeps them, or null when it leaves them out. */
export function summaryEntry(key: string, value: unknown): [string, ConfigScalar] | null {
  if (codePointLength(key) > CONFIG_SUMMARY.keyMaxLength) return null;
  if (typeof value === "string") return [key, cutText(value)];
  if (typeof value === "number" || typeof value === "boolean" || value === null) return [key, value];
  return null;
}

// Built with Object.fromEntries: a plain object (pages hand it to client components, which refuse
// null prototypes) in which a key named "__proto__" is still just a key.
export function summarizeConfig(config: Record<string, unknown>): Record<string, ConfigScalar> {
  const entries: [string, ConfigScalar][] = [];
  for (const key of Object.keys(config)) {
    if (entries.length >= CONFIG_SUMMARY.entries) break;
    const e = summaryEntry(key, config[key]);
    if (e) entries.push(e);
  }
  return Object.fromEntries(entries);
}

export function cutText(s: string): string {
  const max = CONFIG_SUMMARY.textMaxLength;
  if (s.length <= max) return s; // at most `max` code points already
  const cps = [...s.slice(0, 2 * max + 2)];
  return cps.length > max ? `${cps.slice(0, max).join("")}…` : s;
}

/** A stored config as an object ({} for anything else). */
export function parseConfig(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

// The keys a runs list shows as "last values", first match of each group wins. After the SDK's own
// names, those imported logs are named by (an imported timm, detectron2, Lightning or Keras run
// showed no last value at all): Lightning's `train_loss_epoch`, Keras's TensorBoard `epoch_loss`,
// detectron2's `total_loss`, printed names as the text importer keeps them (`Train Loss:` ->
// `Train_Loss`, timm's `Loss` and its evaluation `test_Loss`), HF's `eval_loss`, fastai's `valid_loss`.
export const HEADLINE_KEYS = [
  ["train/loss", "loss", "train_loss", "training_loss", "train_loss_epoch", "epoch_loss", "total_loss", "Loss", "Train_Loss", "train_loss_step"],
  ["val/loss", "val_loss", "validation_loss", "eval/loss", "eval_loss", "valid_loss", "epoch_val_loss", "Val_Loss", "val_Loss", "test_Loss"],
  ["train/acc", "acc", "accuracy", "train_acc", "epoch_accuracy", "Train_Acc", "Accuracy"],
  ["val/acc", "val_acc", "val_accuracy", "eval/accuracy", "eval_accuracy", "epoch_val_accuracy", "Val_Acc", "val_accuracy/top1", "test_Acc@1"],
];

/**
 * Last values of the headline keys of each run, e.g. { "train/loss": 0.12 }. A run already in
 * memory answers from there; a run with no pending points (finished ones, mostly) from its series
 * rows, all such runs in one query; only the others are loaded. Listing a thousand old runs thus
 * neither loads them into memory nor runs a query per run.
 */
export function headlineValues(runIds: string[]): Map<string, Record<string, WireNumber>> {
  const out = new Map<string, Record<string, WireNumber>>();
  for (const [id, series] of seriesTotals(runIds, HEADLINE_KEYS.flat())) out.set(id, pickHeadlines(series));
  return out;
}

export interface SeriesTotals {
  count: number;
  lastValue: number;
  min: number | null;
  max: number | null;
}

/** The totals of some keys of each run (see headlineValues for where they come from). */
export function seriesTotals(runIds: string[], keys: string[]): Map<string, Map<string, SeriesTotals>> {
  const out = new Map<string, Map<string, SeriesTotals>>();
  const fromRows: string[] = [];
  const db = sqlite();
  const ids = JSON.stringify(runIds);
  const pending = new Set(
    (
      db.prepare("SELECT DISTINCT run_id AS id FROM pending_batches WHERE run_id IN (SELECT value FROM json_each(?))").all(ids) as { id: string }[]
    ).map((r) => r.id),
  );
  for (const id of runIds) {
    const cached = cachedRunSeries(id);
    if (cached || pending.has(id)) out.set(id, cached ?? runSeries(id));
    else fromRows.push(id);
  }
  if (fromRows.length) {
    for (const id of fromRows) out.set(id, new Map());
    const rows = db
      .prepare(
        `SELECT run_id AS runId, key, count, last_value AS lastValue, min, max FROM series
         WHERE run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?)) AND count > 0`,
      )
      .all(JSON.stringify(fromRows), JSON.stringify(keys)) as {
      runId: string;
      key: string;
      count: number;
      lastValue: string;
      min: number | null;
      max: number | null;
    }[];
    for (const r of rows) {
      out.get(r.runId)?.set(r.key, { count: r.count, lastValue: decodeValue(JSON.parse(r.lastValue) as WireNumber), min: r.min, max: r.max });
    }
  }
  return out;
}

function pickHeadlines(series: ReadonlyMap<string, { count: number; lastValue: number }>): Record<string, WireNumber> {
  const summary: Record<string, WireNumber> = {}; // keys from HEADLINE_KEYS only; plain, for React props
  for (const group of HEADLINE_KEYS) {
    const key = group.find((k) => (series.get(k)?.count ?? 0) > 0);
    if (key !== undefined) summary[key] = encodeValue(series.get(key)!.lastValue);
  }
  return summary;
}
