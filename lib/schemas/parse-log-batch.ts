import { LIMITS, codePointLength } from "../contract/limits";
import { AppError } from "../errors";
import { parse } from "../http/handler";
import { EPOCH_PROBLEM, type LogBatch, TIME_PROBLEM, TOO_MANY_BATCH_KEYS, isEpoch, isTime, logBatch, metricKeyProblem } from "./log-batch";

// The log batch is the hot path: a batch carries thousands of metric values, and a generic zod
// walk over them costs more than storing them. Rows are checked here by hand, with the same rules
// and messages as the zod schema in log-batch.ts (the key, time and epoch checks are the same
// functions; tests/lib/schemas checks that both agree); the rest of the batch goes through zod.

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

function fail(message: string): never {
  throw new AppError("invalid_batch", message);
}

function isStep(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= LIMITS.stepMax.value;
}

function checkStep(v: unknown, where: string): void {
  if (isStep(v)) return;
  if (typeof v === "number" && Number.isInteger(v) && v > LIMITS.stepMax.value) fail(`${where} must be at most 2^53-1`);
  fail(`${where} must be a non-negative integer`);
}

function keyPath(where: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key) && key.length <= LIMITS.keyMaxLength.value) return `${where}.${key}`;
  // an over-long key is named by its start: the message stays small whatever was sent
  const max = LIMITS.keyMaxLength.value;
  const shown = codePointLength(key) > max ? `${[...key.slice(0, 2 * max)].slice(0, max).join("")}…` : key;
  return `${where}[${JSON.stringify(shown)}]`;
}

function checkRows(rows: unknown): void {
  if (rows === undefined) return;
  if (!Array.isArray(rows)) fail("rows must be an array");
  if (rows.length > LIMITS.rowsPerBatch.value) fail(`rows must hold at most ${LIMITS.rowsPerBatch.value} rows`);
  const goodKeys = new Set<string>(); // rows repeat their keys: each is checked once per batch
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Record<string, unknown>;
    const at = `rows[${i}]`;
    if (typeof r !== "object" || r === null || Array.isArray(r)) fail(`${at} must be an object`);
    checkStep(r.step, `${at}.step`);
    if (r.time !== undefined && !isTime(r.time)) fail(`${at}.time ${TIME_PROBLEM}`);
    if (r.epoch !== undefined && !isEpoch(r.epoch)) fail(`${at}.epoch ${EPOCH_PROBLEM}`);
    const m = r.metrics as Record<string, unknown>;
    if (typeof m !== "object" || m === null || Array.isArray(m)) fail(`${at}.metrics must be an object of key -> value`);
    for (const key in m) {
      if (!goodKeys.has(key)) {
        const problem = metricKeyProblem(key);
        if (problem) fail(`${keyPath(`${at}.metrics`, key)} ${problem}`);
        goodKeys.add(key);
        // a batch cannot name more keys than a run may hold: refused before any further work, so a
        // body of hundreds of thousands of keys costs what 10,000 do (issue #8: nothing hangs)
        if (goodKeys.size > LIMITS.keysPerRun.value) {
          fail(`${keyPath(`${at}.metrics`, key)} ${TOO_MANY_BATCH_KEYS}`);
        }
      }
      const v = m[key];
      if (typeof v === "number" || (typeof v === "string" && NON_FINITE.has(v))) continue;
      fail(`${keyPath(`${at}.metrics`, key)} must be a number or one of "NaN", "Infinity", "-Infinity"`);
    }
  }
}

/** Validates a log batch; throws invalid_batch naming the first bad field and why. */
export function parseLogBatch(data: unknown): LogBatch {
  if (typeof data !== "object" || data === null || Array.isArray(data)) fail("the batch must be a JSON object");
  const { rows, ...rest } = data as Record<string, unknown>;
  // same order as the schema: seq, rows, histograms, events
  checkStep(rest.seq, "seq");
  checkRows(rows);
  const envelope = parse(logBatch, rest, "invalid_batch");
  return { ...envelope, rows: (rows ?? []) as LogBatch["rows"] };
}
