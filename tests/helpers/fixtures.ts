import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { ROOT } from "./server";

// Real training runs, copied into the repo (tests/fixtures/README.md says from where).
export const FIXTURES = path.join(ROOT, "tests/fixtures/runs");
export const HO2 = path.join(ROOT, "tests/fixtures/ho2");

/** A fixture run's metrics.jsonl (stored gzipped). */
export function metricsJsonl(run: string): string {
  return zlib.gunzipSync(fs.readFileSync(path.join(FIXTURES, run, "metrics.jsonl.gz"))).toString("utf8");
}

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
  const lines = metricsJsonl(run).split("\n").filter(Boolean);
  let config: Record<string, unknown> = {};
  const batches: Replay["batches"] = [];
  let cur: Replay["batches"][number] = { rows: [], histograms: [], events: [] };
  let n = 0;
  for (const line of lines) {
    const o = JSON.parse(
      line
        .replace(/\bNaN\b/g, '"NaN"')
        .replace(/-Infinity\b/g, '"-Infinity"')
        .replace(/(?<!")Infinity\b/g, '"Infinity"'),
    );
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

/** What a correct monitor raises for one ho2 run (tests/fixtures/ho2/labels.json). */
export interface Ho2Label {
  case: string;
  seed: number;
  fault: string;
  must: string[];
  must_not: string[];
  allowed: string[];
  /** a healthy run: nothing outside `allowed` may be raised */
  control: boolean;
  /** may be raised, but not as critical */
  must_not_critical?: string[];
}

export function ho2Labels(): Record<string, Ho2Label> {
  return JSON.parse(fs.readFileSync(path.join(HO2, "labels.json"), "utf8"));
}

export interface RecordedRequest {
  method: string;
  /** "/api/v1/runs", "/api/v1/runs/<id>/log" or "/api/v1/runs/<id>/finish" */
  path: string;
  body: unknown;
  /** seconds since the run's first request */
  t: number;
}

/** One ho2 run's requests, as the Python SDK sent them, in arrival order. */
export function ho2Requests(run: string): RecordedRequest[] {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(HO2, run, "requests.jsonl.gz"))).toString("utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedRequest);
}
