import type Database from "better-sqlite3";
import { LIMITS, codePointLength } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { CONFIG_SUMMARY, type ConfigScalar, cutText, summaryEntry } from "./run-view";

// A run's config can be 1 MiB: a runs list that read every run's config (for configSummary, config
// filters, sorts and columns) cost seconds and blocked the server meanwhile. The first top-level
// entries of each config are written to run_config_values with the config instead (migration
// 0007_run_config_values filled it for runs from before), and lists read only those rows.

/** Strings are kept this long: a longer one equals no filter value (at most runFilterMaxLength). */
export const STORED_TEXT_MAX = LIMITS.runFilterMaxLength.value + 1;

const cut = (s: string, max: number) => (s.length <= max ? s : [...s.slice(0, 2 * max)].slice(0, max).join(""));

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  // as SQLite's json_type reads the stored text: 1e+300 is real, 12345678901234567000 integer
  if (typeof v === "number") return /^-?\d+$/.test(JSON.stringify(v)) ? "integer" : "real";
  if (typeof v === "string") return "text";
  return Array.isArray(v) ? "array" : "object";
}

/**
 * Replaces the run's rows with its config's first runListConfigKeys top-level entries (in the
 * config's own key order), inside the caller's transaction. Keys longer than runFilterMaxLength
 * are left out (no filter can name them); the first CONFIG_SUMMARY.entries scalars with short keys
 * are marked as configSummary's. The migration's backfill follows the same rules in SQL.
 */
export function writeConfigValues(db: Database.Database, runId: string, config: Record<string, unknown>): void {
  stmt(db, "DELETE FROM run_config_values WHERE run_id = ?").run(runId);
  const put = stmt(db, "INSERT INTO run_config_values (run_id, key, pos, type, num, text, summary) VALUES (?, ?, ?, ?, ?, ?, ?)");
  let pos = 0;
  let summarized = 0;
  for (const key of Object.keys(config)) {
    if (pos >= LIMITS.runListConfigKeys.value) break;
    if (codePointLength(key) > LIMITS.runFilterMaxLength.value) continue;
    const v = config[key];
    const type = jsonType(v);
    const inSummary = summarized < CONFIG_SUMMARY.entries && summaryEntry(key, v) !== null;
    if (inSummary) summarized++;
    put.run(runId, key, pos++, type, typeof v === "number" ? v : null, typeof v === "string" ? cut(v, STORED_TEXT_MAX) : null, inSummary ? 1 : 0);
  }
}

interface ValueRow {
  runId: string;
  key: string;
  type: string;
  num: number | null;
  text: string | null;
}

function scalarOf(r: ValueRow): ConfigScalar {
  if (r.type === "text") return r.text;
  if (r.type === "true" || r.type === "false") return r.type === "true";
  return r.num; // null for null, objects and arrays
}

function byRun(ids: string[], rows: ValueRow[]): Map<string, Record<string, ConfigScalar>> {
  const entries = new Map<string, [string, ConfigScalar][]>();
  for (const id of ids) entries.set(id, []);
  // strings cut as configSummary cuts them (the stored text is only cut longer)
  for (const r of rows) entries.get(r.runId)?.push([r.key, r.type === "text" ? cutText(r.text!) : scalarOf(r)]);
  // Object.fromEntries: plain objects (pages hand them to client components) where "__proto__" is a key
  return new Map([...entries].map(([id, es]) => [id, Object.fromEntries(es)]));
}

/** `configSummary` of each run, from its stored summary entries (never its config). */
export function configSummaries(ids: string[]): Map<string, Record<string, ConfigScalar>> {
  if (!ids.length) return new Map();
  const rows = stmt(
    sqlite(),
    `SELECT run_id AS runId, key, type, num, text FROM run_config_values
     WHERE run_id IN (SELECT value FROM json_each(?)) AND summary = 1 ORDER BY run_id, pos`,
  ).all(JSON.stringify(ids)) as ValueRow[];
  return byRun(ids, rows);
}

/**
 * The values of the chosen config keys of each run: scalars as they are (strings cut like
 * configSummary's), a key whose value is an object or array as null, a missing key left out.
 */
export function configColumns(ids: string[], keys: string[]): Map<string, Record<string, ConfigScalar>> {
  if (!ids.length) return new Map();
  const rows = stmt(
    sqlite(),
    `SELECT run_id AS runId, key, type, num, text FROM run_config_values
     WHERE run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?)) ORDER BY run_id, pos`,
  ).all(JSON.stringify(ids), JSON.stringify(keys)) as ValueRow[];
  const out = byRun(ids, rows);
  // in the order the keys were asked for, as before
  for (const [id, cols] of out) out.set(id, Object.fromEntries(keys.filter((k) => Object.hasOwn(cols, k)).map((k) => [k, cols[k]])));
  return out;
}

/** A config value as a sort orders it: numbers (true 1, false 0) before text; null, objects and arrays with the missing. */
export const CONFIG_SORT_VALUE = "CASE cv.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'text' THEN cv.text ELSE cv.num END";
export const CONFIG_SORT_JOIN = "LEFT JOIN run_config_values cv ON cv.run_id = r.id AND cv.key = ?";
