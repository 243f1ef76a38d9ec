import type { LogLine } from "../contract/socket";
import { LIMITS } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { emitToRunFollowers } from "../realtime/hub";
import { assertRunExists } from "../runs/assert-run-exists";
import type { LogLineIn } from "../schemas/run-logs";

// A run's console output (`babysit run`): lines stored by their number, so a batch sent again (a
// retry after a lost answer, a spool replayed) stores nothing twice, and shown live on the run page.

export interface AppendLogsResult {
  /** Lines stored by this request. */
  stored: number;
  /** Lines the run already held under the same numbers (sent before): not stored again. */
  duplicate: number;
  /** Lines numbered at or past runLogLinesPerRun: not kept. */
  refused: number;
}

const STREAM = { stdout: 0, stderr: 1 } as const;

export function appendLogs(runId: string, lines: readonly LogLineIn[]): AppendLogsResult {
  const db = sqlite();
  assertRunExists(runId);
  const now = Date.now() / 1000;
  const insert = stmt(db, "INSERT OR IGNORE INTO run_logs (run_id, n, stream, time, text) VALUES (?, ?, ?, ?, ?)");
  const fresh: LogLine[] = [];
  let refused = 0;
  db.transaction(() => {
    for (const l of lines) {
      if (l.n >= LIMITS.runLogLinesPerRun.value) {
        refused++;
        continue;
      }
      const time = l.time ?? now;
      if (insert.run(runId, l.n, STREAM[l.stream], time, l.text).changes) fresh.push({ n: l.n, stream: l.stream, time, text: l.text });
    }
  })();
  if (fresh.length) emitToRunFollowers(runId, "logs", { runId, lines: fresh });
  return { stored: fresh.length, duplicate: lines.length - fresh.length - refused, refused };
}
