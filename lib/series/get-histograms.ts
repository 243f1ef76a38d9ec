import { sqlite } from "../db";
import { AppError } from "../errors";

/** The histograms of one key of a run, by step, evenly thinned to at most `limit` (the last one always kept). */
export function getHistograms(runId: string, key: string, limit: number) {
  // a deleted run's rows outlive it for a while (lib/runs/delete-run.ts): the runs row says it is gone
  if (!sqlite().prepare("SELECT 1 FROM runs WHERE id = ?").get(runId)) throw new AppError("not_found", `run ${runId} does not exist`);
  const rows = sqlite().prepare("SELECT step, time, edges, counts FROM histograms WHERE run_id = ? AND key = ? ORDER BY step").all(runId, key) as {
    step: number;
    time: number;
    edges: string;
    counts: string;
  }[];
  if (!rows.length) throw new AppError("not_found", `run ${runId} has no histograms "${key}"`);
  let picked = rows;
  if (rows.length > limit) {
    picked = [];
    for (let i = 0; i < limit; i++) picked.push(rows[Math.round((i * (rows.length - 1)) / (limit - 1 || 1))]);
  }
  return {
    key,
    histograms: picked.map((r) => ({ step: r.step, time: r.time, edges: JSON.parse(r.edges) as number[], counts: JSON.parse(r.counts) as number[] })),
  };
}
