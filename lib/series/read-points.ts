import { sqlite, stmt } from "../db";
import { type Points, decodeChunk } from "./codec";
import { quarantineChunk, runSeries } from "./series-meta";

/**
 * Every point of every series of a run, handed to `add` a chunk at a time in step order (steps and
 * values only), so that a reader keeping a bounded amount never holds a whole long series.
 */
export function scanRunPoints(runId: string, add: (key: string, steps: number[], values: number[]) => void): void {
  const db = sqlite();
  const chunks = stmt(db, "SELECT id, start_step, end_step, count FROM chunks WHERE series_id = ? ORDER BY start_step");
  const dataOf = stmt(db, "SELECT data FROM chunks WHERE id = ?");
  for (const meta of runSeries(runId).values()) {
    // the chunks' ids first, their bytes one at a time: quarantining writes, which an open iterator
    // on the same connection forbids, and a long series' bytes are never all in memory at once
    const rows = chunks.all(meta.id) as { id: number; start_step: number; end_step: number; count: number }[];
    for (const c of rows) {
      const row = dataOf.get(c.id) as { data: Buffer } | undefined;
      if (!row) continue;
      let p: Points;
      try {
        p = decodeChunk(row.data);
      } catch (e) {
        quarantineChunk(db, meta, c, e);
        continue;
      }
      add(meta.key, p.steps, p.values);
    }
    add(meta.key, meta.pending.steps, meta.pending.values);
  }
}
