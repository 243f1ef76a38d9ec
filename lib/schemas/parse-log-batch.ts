import { AppError } from "../errors";
import { parse } from "../http/handler";
import { type LogBatch, MAX_ROWS, logBatch } from "./log-batch";

// The log batch is the hot path: a batch carries thousands of metric values, and a generic zod
// walk over them costs more than storing them. Rows are checked here by hand, with the same rules
// and messages as the zod schema in log-batch.ts (tests/lib/schemas checks that both agree); the
// rest of the batch goes through zod.

const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);
const CONTROL = /[\u0000-\u001f\u007f]/;

function fail(message: string): never {
  throw new AppError("invalid_batch", message);
}

function isStep(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

function checkStep(v: unknown, where: string): void {
  if (isStep(v)) return;
  if (typeof v === "number" && Number.isInteger(v) && v > Number.MAX_SAFE_INTEGER) fail(`${where} must be at most 2^53-1`);
  fail(`${where} must be a non-negative integer`);
}

function keyPath(where: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${where}.${key}` : `${where}[${JSON.stringify(key)}]`;
}

function checkRows(rows: unknown): void {
  if (rows === undefined) return;
  if (!Array.isArray(rows)) fail("rows must be an array");
  if (rows.length > MAX_ROWS) fail(`rows must hold at most ${MAX_ROWS} rows`);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as Record<string, unknown>;
    const at = `rows[${i}]`;
    if (typeof r !== "object" || r === null || Array.isArray(r)) fail(`${at} must be an object`);
    checkStep(r.step, `${at}.step`);
    if (r.time !== undefined && !(typeof r.time === "number" && Number.isFinite(r.time) && r.time >= 0)) {
      fail(`${at}.time must be Unix seconds (a finite number)`);
    }
    if (r.epoch !== undefined && !(typeof r.epoch === "number" && Number.isFinite(r.epoch))) fail(`${at}.epoch must be a finite number`);
    const m = r.metrics as Record<string, unknown>;
    if (typeof m !== "object" || m === null || Array.isArray(m)) fail(`${at}.metrics must be an object of key -> value`);
    for (const key in m) {
      if (key.length === 0) fail(`${at}.metrics metric keys must not be empty`);
      if (key.length > 200) fail(`${keyPath(`${at}.metrics`, key)} metric keys must be at most 200 characters`);
      if (CONTROL.test(key)) fail(`${keyPath(`${at}.metrics`, key)} metric keys must not contain control characters`);
      const v = m[key];
      if (typeof v === "number" || (typeof v === "string" && NON_FINITE.has(v))) continue;
      fail(`${keyPath(`${at}.metrics`, key)} must be a number or one of "NaN", "Infinity", "-Infinity"`);
    }
  }
}

/** Validates a log batch; throws invalid_batch naming the first bad field. */
export function parseLogBatch(data: unknown): LogBatch {
  if (typeof data !== "object" || data === null || Array.isArray(data)) fail("the batch must be a JSON object");
  const { rows, ...rest } = data as Record<string, unknown>;
  // same order as the schema: seq, rows, histograms, events
  checkStep(rest.seq, "seq");
  checkRows(rows);
  const envelope = parse(logBatch, rest, "invalid_batch");
  return { ...envelope, rows: (rows ?? []) as LogBatch["rows"] };
}
