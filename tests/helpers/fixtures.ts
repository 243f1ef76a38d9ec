import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./server";

// The real training runs in ../shared/fixtures/runs (beside the repo, in CI too).
export const FIXTURES = path.resolve(ROOT, "../shared/fixtures/runs");

export interface Expected {
  must: string[];
  must_not: string[];
}

export function expectedDiagnoses(): Record<string, Expected> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, "expected.json"), "utf8"));
}

export interface Replay {
  config: Record<string, unknown>;
  batches: { rows: unknown[]; histograms: unknown[]; events: unknown[] }[];
}

/** A fixture's metrics.jsonl as an SDK would send it: rows grouped by step, in batches. */
export function replayOf(run: string, linesPerBatch = 400): Replay {
  const lines = fs.readFileSync(path.join(FIXTURES, run, "metrics.jsonl"), "utf8").split("\n").filter(Boolean);
  let config: Record<string, unknown> = {};
  const batches: Replay["batches"] = [];
  let cur: Replay["batches"][number] = { rows: [], histograms: [], events: [] };
  let n = 0;
  for (const line of lines) {
    const o = JSON.parse(line.replace(/\bNaN\b/g, '"NaN"').replace(/-Infinity\b/g, '"-Infinity"').replace(/(?<!")Infinity\b/g, '"Infinity"'));
    const { kind, ...rest } = o;
    if (kind === "config") config = rest;
    else if (kind === "input_stats") cur.events.push({ type: "input_stats", step: 0, data: { mean: o.mean, std: o.std } });
    else if (kind === "hist") cur.histograms.push({ step: o.step, key: o.key, edges: o.edges, counts: o.counts });
    else if (kind === "scalar") {
      cur.rows.push({ step: o.step, time: o.wall_time, ...(o.epoch !== undefined ? { epoch: o.epoch } : {}), metrics: { [o.key]: o.value } });
    }
    if (++n % linesPerBatch === 0) {
      batches.push(cur);
      cur = { rows: [], histograms: [], events: [] };
    }
  }
  batches.push(cur);
  return { config, batches };
}
