import type { LogLine } from "../contract/socket";
import { LIMITS } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { AppError } from "../errors";

// GET /api/v1/runs/{id}/logs: a run's console lines in order, a page at a time, optionally only
// those containing a text. The search is a plain, case-insensitive substring test done here
// (String.prototype.toLowerCase + includes): the user's text is never a pattern, whatever it holds.

export const DEFAULT_PAGE = 1_000;
/** Lines one searching request reads at most before answering with where to continue. */
export const SCAN_BUDGET = 200_000;
/**
 * And characters: 200,000 lines of runLogLineMaxLength held the event loop (every other request)
 * for seconds per search (3.5 s of toLowerCase alone, measured); this many take about 100 ms.
 */
export const SCAN_CHARS = 8_000_000;

export interface LogsQuery {
  /** Lines after this number (exclusive); -1 or absent: from the first. */
  after?: number;
  q?: string;
  limit?: number;
}

export interface LogsPage {
  lines: LogLine[];
  /** Pass as `after` for the next page; null when the run holds no line after this page (yet). */
  next: number | null;
  /** The number of the run's last line so far, or null when it has none. */
  last: number | null;
}

const STREAMS = ["stdout", "stderr"] as const;

type Row = { n: number; stream: number; time: number; text: string };

export function getLogs(runId: string, query: LogsQuery): LogsPage {
  const db = sqlite();
  if (!stmt(db, "SELECT 1 FROM runs WHERE id = ?").get(runId)) throw new AppError("not_found", `run ${runId} does not exist`);
  const limit = query.limit ?? DEFAULT_PAGE;
  const lastRow = stmt(db, "SELECT MAX(n) AS n FROM run_logs WHERE run_id = ?").get(runId) as { n: number | bigint | null };
  const last = lastRow.n === null ? null : Number(lastRow.n);
  const page = stmt(db, "SELECT n, stream, time, text FROM run_logs WHERE run_id = ? AND n > ? ORDER BY n LIMIT ?").safeIntegers(false);
  const out: LogLine[] = [];
  let after = query.after ?? -1;
  const needle = query.q ? query.q.toLowerCase() : "";
  let scanned = 0;
  let chars = 0;
  for (;;) {
    const take = needle ? Math.min(1_000, SCAN_BUDGET - scanned) : limit;
    const rows = page.all(runId, after, take) as Row[];
    for (const r of rows) {
      after = r.n;
      scanned++;
      chars += r.text.length;
      if (needle && !r.text.toLowerCase().includes(needle)) {
        if (chars >= SCAN_CHARS) break;
        continue;
      }
      out.push({ n: r.n, stream: STREAMS[r.stream] ?? "stdout", time: r.time, text: r.text });
      if (out.length >= limit || (needle && chars >= SCAN_CHARS)) break;
    }
    if (out.length >= limit || rows.length < take || !needle || scanned >= SCAN_BUDGET || chars >= SCAN_CHARS) break;
  }
  return { lines: out, next: last !== null && after < last ? after : null, last };
}

/** Reads the query of GET /api/v1/runs/{id}/logs; throws invalid_query. */
export function logsQueryOf(q: Record<string, string>): LogsQuery {
  for (const name of Object.keys(q)) {
    if (name !== "after" && name !== "q" && name !== "limit")
      throw new AppError("invalid_query", `unknown query parameter ${JSON.stringify(name.slice(0, 100))}`);
  }
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = q[name];
    if (v === undefined) return undefined;
    if (!/^-?\d{1,16}$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new AppError("invalid_query", `${name} must be an integer from ${min} to ${max}`);
    }
    return Number(v);
  };
  const text = q.q;
  if (text !== undefined && [...text].length > LIMITS.runLogLineMaxLength.value) {
    throw new AppError("invalid_query", `q must be at most ${LIMITS.runLogLineMaxLength.value} code points`);
  }
  return { after: int("after", -1, Number.MAX_SAFE_INTEGER), q: text || undefined, limit: int("limit", 1, LIMITS.runLogPageMax.value) };
}
