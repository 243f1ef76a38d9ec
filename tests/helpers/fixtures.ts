import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { ROOT, api } from "./server";

// Real training runs, copied into the repo (tests/fixtures/README.md says from where).
export const FIXTURES = path.join(ROOT, "tests/fixtures/runs");
export const HO2 = path.join(ROOT, "tests/fixtures/ho2");
/**
 * The labeled corpora of recorded programs (same layout as ho2: labels.json and
 * <run>/requests.jsonl.gz): ho2 from the team's shared fixtures, corpus2 to corpus10 made
 * by tools/corpus. corpus10 is held out: rules are not tuned on it (its README says why); corpus3 was
 * held out in sessions 5 and 6, corpus5 in session 7, corpus6 until corpus7 was recorded, corpus7
 * until corpus8 was, corpus8 until corpus9 was, corpus9 until corpus10 was, and each became a
 * development corpus once a newer held-out set took its place. corpus4 (mostly healthy controls) was
 * written after the rules, to check them on unseen programs; corpus5 to corpus10 were written by
 * people who had not read the rules.
 */
export const CORPORA = ["ho2", "corpus2", "corpus3", "corpus4", "corpus5", "corpus6", "corpus7", "corpus8", "corpus9", "corpus10"] as const;
/** Held out: the benchmark prints only their rates unless asked (`--show-held-out`). */
export const HELD_OUT: readonly Corpus[] = ["corpus10"];
export type Corpus = (typeof CORPORA)[number];

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
  return corpusLabels("ho2");
}

/** A corpus's labels (tests/fixtures/<corpus>/labels.json), by run. */
export function corpusLabels(corpus: Corpus): Record<string, Ho2Label> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, "tests/fixtures", corpus, "labels.json"), "utf8"));
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
  return corpusRequests("ho2", run);
}

/** One recorded run of a corpus, in arrival order. */
export function corpusRequests(corpus: Corpus, run: string): RecordedRequest[] {
  const text = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "tests/fixtures", corpus, run, "requests.jsonl.gz"))).toString("utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedRequest);
}

/** A tests/fixtures/runs run as the requests an SDK would send (create, its log batches, finish). */
export function runRequests(run: string): RecordedRequest[] {
  const { config, batches } = replayOf(run);
  return [
    { method: "POST", path: "/api/v1/runs", body: { project: "fixtures", name: run, config }, t: 0 },
    ...batches.map((b, seq) => ({ method: "POST", path: "/api/v1/runs/<id>/log", body: { seq, ...b }, t: 0 })),
    { method: "POST", path: "/api/v1/runs/<id>/finish", body: { status: "finished" }, t: 0 },
  ];
}

/** tests/fixtures/runs/expected.json in the labels' form: a run that must raise nothing is a control. */
export function runLabels(): Record<string, Ho2Label> {
  const out: Record<string, Ho2Label> = {};
  for (const [run, e] of Object.entries(expectedDiagnoses())) {
    out[run] = { case: run, seed: 0, fault: run, must: e.must, must_not: e.must_not, allowed: [], control: e.must.length === 0 };
  }
  return out;
}

export interface ReplayedAlert {
  code: string;
  severity: string;
  status: string;
}

/**
 * Replays recorded requests in order through a real server (the run id in the paths replaced by the
 * one the server answers) and returns every alert the run ever got, active or resolved. Throws when
 * the server refuses a request: a recording that no longer replays is a broken fixture, not a verdict.
 */
export async function replayRecorded(base: string, requests: RecordedRequest[], project: string): Promise<ReplayedAlert[]> {
  let id: string | undefined;
  let recordedId: string | undefined;
  for (const req of requests) {
    if (req.path === "/api/v1/runs") {
      const r = await api(base, req.method, req.path, { ...(req.body as object), project });
      if (r.status !== 201) throw new Error(`create answered ${r.status} ${JSON.stringify(r.body)}`);
      id = r.body.id;
      recordedId = (req.body as { id?: string }).id;
      continue;
    }
    const m = /^\/api\/v1\/runs\/([^/]+)\/(log|finish)$/.exec(req.path);
    if (!m || id === undefined) throw new Error(`unexpected request ${req.method} ${req.path}`);
    if (recordedId !== undefined && m[1] !== recordedId) throw new Error(`${req.path} is not for the recorded run ${recordedId}`);
    const r = await api(base, req.method, `/api/v1/runs/${id}/${m[2]}`, req.body);
    if (r.status !== 200) throw new Error(`${req.path} answered ${r.status} ${JSON.stringify(r.body)}`);
  }
  const { body } = await api(base, "GET", `/api/v1/runs/${id}/alerts`);
  return body.alerts as ReplayedAlert[];
}

/**
 * What is wrong with a replayed run's alerts against its label (empty: it passes): a `must` code not
 * active at the end, a `must_not` code raised at any point, on a control anything outside `allowed`.
 */
export function judge(label: Ho2Label, alerts: ReplayedAlert[]): string[] {
  const active = new Set(alerts.filter((a) => a.status === "active").map((a) => a.code));
  const ever = new Set(alerts.map((a) => a.code));
  const wrong: string[] = [];
  for (const code of label.must) if (!active.has(code)) wrong.push(`missed ${code}`);
  for (const code of label.must_not) if (ever.has(code)) wrong.push(`raised ${code}`);
  if (label.control)
    for (const code of ever) if (!label.allowed.includes(code) && !label.must_not.includes(code)) wrong.push(`raised ${code} on a control run`);
  for (const a of alerts) if (label.must_not_critical?.includes(a.code) && a.severity === "critical") wrong.push(`raised ${a.code} as critical`);
  return wrong;
}
