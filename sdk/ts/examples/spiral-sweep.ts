// A small, real hyperparameter search through babysit's sweeps API: each trial trains the spiral
// MLP of ./train.ts (hand-written backprop, plain TypeScript) with the values the server hands out,
// as a run linked to the sweep (config.sweep). Several workers share one sweep, each asking the
// server for its next trial, as separate processes or machines would.
//
// Used by `npm run demo:sweep` (scripts/demo-sweep.ts) and the sweep page's browser test.
import { runDemo } from "./train.js";

export interface SweepClient {
  url: string;
  /** An API key (team servers), else none. */
  key?: string;
}

export interface SweepSummary {
  id: string;
  name: string;
  project: string;
  stage: number;
  space: Record<string, unknown>;
}

async function call<T>(c: SweepClient, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (c.key) headers.authorization = `Bearer ${c.key}`;
  const res = await fetch(`${c.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: { code: "not_json", message: text.slice(0, 200) } };
  }
  return { status: res.status, body: json as T };
}

function fail(what: string, r: { status: number; body: unknown }): never {
  const e = (r.body as { error?: { message?: string } })?.error;
  throw new Error(`${what}: HTTP ${r.status}${e?.message ? ` (${e.message})` : ""}`);
}

/** Creates the sweep (or finds the same one: every worker may "create" it). */
export async function createSweep(c: SweepClient, spec: Record<string, unknown>): Promise<SweepSummary> {
  const r = await call<{ sweep: SweepSummary }>(c, "POST", "/api/v1/sweeps", spec);
  if (r.status !== 201 && r.status !== 200) fail("creating the sweep", r);
  return r.body.sweep;
}

/** The next stage, narrowed around the best trials (POST /api/v1/sweeps/{id}/refine). */
export async function refineSweep(c: SweepClient, id: string, body: Record<string, unknown> = {}): Promise<SweepSummary> {
  const r = await call<{ sweep: SweepSummary }>(c, "POST", `/api/v1/sweeps/${encodeURIComponent(id)}/refine`, body);
  if (r.status !== 201) fail("refining the sweep", r);
  return r.body.sweep;
}

export async function sweepAlerts(c: SweepClient, id: string): Promise<Array<{ code: string; title: string; message: string; evidence: unknown }>> {
  const r = await call<{ alerts: Array<{ code: string; title: string; message: string; evidence: unknown }> }>(
    c,
    "GET",
    `/api/v1/sweeps/${encodeURIComponent(id)}/alerts`,
  );
  if (r.status !== 200) fail("reading the sweep's alerts", r);
  return r.body.alerts;
}

export interface TrialResult {
  index: number;
  runId: string;
  config: Record<string, unknown>;
  valAcc: number;
}

/**
 * Runs `trials` trials of the sweep with `workers` workers at once. Each claims its next trial
 * from the server (POST /api/v1/sweeps/{id}/trials) and trains the spiral MLP with its `lr`
 * (and `hidden`, when searched) for `steps` steps. Stops early when the sweep's budget is spent.
 */
export async function runTrials(
  c: SweepClient,
  sweep: SweepSummary,
  opts: { trials: number; workers?: number; steps: number; delayMs?: number; onTrial?: (r: TrialResult) => void },
): Promise<TrialResult[]> {
  const out: TrialResult[] = [];
  let left = opts.trials;
  const worker = async () => {
    while (left > 0) {
      left--;
      const r = await call<{ trial: { index: number; config: Record<string, unknown> } }>(
        c,
        "POST",
        `/api/v1/sweeps/${encodeURIComponent(sweep.id)}/trials`,
        {},
      );
      if (r.status === 409) return; // sweep_complete: the budget is spent
      if (r.status !== 201) fail("claiming a trial", r);
      const { index, config } = r.body.trial;
      const lr = typeof config.lr === "number" ? config.lr : 0.05;
      const hidden = typeof config.hidden === "number" ? config.hidden : 64;
      // every sampled value goes into the run's config (the page reads the trial's parameters
      // there), with the sweep it belongs to
      const extra: Record<string, unknown> = Object.create(null);
      for (const k of Object.keys(config)) if (k !== "sweep") extra[k] = config[k];
      const res = await runDemo({
        url: c.url,
        project: sweep.project,
        name: `${sweep.name}-t${index}`,
        steps: opts.steps,
        delayMs: opts.delayMs ?? 0,
        lr,
        hidden,
        seed: 1 + index,
        config: { ...extra, sweep: { id: sweep.name, trial: index } },
      });
      const t = { index, runId: res.runId, config, valAcc: res.valAcc };
      out.push(t);
      opts.onTrial?.(t);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.workers ?? 2) }, worker));
  return out.sort((a, b) => a.index - b.index);
}
