import { prisma, sqlite } from "../db";
import { diagnose } from "../diagnostics";
import type { Diagnosis, RunData, SeriesPoints } from "../diagnostics/types";
import type { AcceptedBatch } from "../ingest/hooks";
import { RUNS_ROOM, emitTo, runRoom } from "../realtime/hub";
import { readAllPoints } from "../series/read-points";
import { singleton } from "../singleton";
import { type AlertView, SEVERITY_RANK, alertView } from "./alert-view";
import { notifyWebhook } from "./webhook";

// Keeps each live run's full-resolution data in memory (loaded once, then appended to by every
// accepted batch), re-runs the diagnostics at most once per EVAL_INTERVAL_MS per run off the
// ingest path, and turns diagnoses into stored alerts: raised, updated, escalated, resolved.

const EVAL_INTERVAL_MS = Number(process.env.BABYSIT_EVAL_INTERVAL_MS ?? 1000);
// Runs untouched this long are dropped from memory (reloaded from storage when they log again).
const IDLE_MS = 10 * 60_000;

interface Watched {
  runId: string;
  data: RunData;
  lastEvalAt: number;
  lastTouch: number;
  timer?: NodeJS.Timeout;
  evaluating?: Promise<void>;
  /** raised or escalated since the SDK last asked: delivered once in a log/finish response */
  undelivered: Map<string, AlertView>;
}

const watched = () => singleton("babysit.watchedRuns", () => new Map<string, Watched>());

function load(runId: string): Watched {
  const all = watched();
  let w = all.get(runId);
  if (w) return w;
  const db = sqlite();
  const row = db.prepare("SELECT config, status FROM runs WHERE id = ?").get(runId) as { config: string; status: string } | undefined;
  const series = new Map<string, SeriesPoints>();
  for (const [key, p] of readAllPoints(runId)) series.set(key, { steps: p.steps, values: p.values });
  const histograms = new Map<string, { step: number; edges: number[]; counts: number[] }[]>();
  for (const h of db.prepare("SELECT key, step, edges, counts FROM histograms WHERE run_id = ? ORDER BY step").all(runId) as {
    key: string;
    step: number;
    edges: string;
    counts: string;
  }[]) {
    if (!histograms.has(h.key)) histograms.set(h.key, []);
    histograms.get(h.key)!.push({ step: h.step, edges: JSON.parse(h.edges), counts: JSON.parse(h.counts) });
  }
  const events = (
    db.prepare("SELECT type, step, data FROM events WHERE run_id = ? AND type != 'image' ORDER BY id").all(runId) as {
      type: string;
      step: number | null;
      data: string;
    }[]
  ).map((e) => ({ type: e.type, step: e.step, data: JSON.parse(e.data) }));
  w = {
    runId,
    data: { config: parseConfig(row?.config), series, histograms, events, finished: row ? row.status !== "running" : false },
    lastEvalAt: 0,
    lastTouch: Date.now(),
    undelivered: new Map(),
  };
  all.set(runId, w);
  return w;
}

function parseConfig(text: string | undefined): Record<string, unknown> {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Inserts or replaces (same step) points into a sorted series. */
function merge(into: SeriesPoints, steps: number[], values: number[]): void {
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const n = into.steps.length;
    if (n === 0 || s > into.steps[n - 1]) {
      into.steps.push(s);
      into.values.push(values[i]);
      continue;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (into.steps[mid] < s) lo = mid + 1;
      else hi = mid;
    }
    if (into.steps[lo] === s) into.values[lo] = values[i];
    else {
      into.steps.splice(lo, 0, s);
      into.values.splice(lo, 0, values[i]);
    }
  }
}

/** Ingest hook: fold the batch into the run's in-memory data and schedule an evaluation. */
export function afterBatch(b: AcceptedBatch): void {
  evictIdle();
  const fresh = !watched().has(b.runId);
  const w = load(b.runId); // a fresh load already holds this (committed) batch
  w.lastTouch = Date.now();
  w.data.finished = false;
  if (!fresh) {
    for (const [key, p] of b.series) {
      let s = w.data.series.get(key);
      if (!s) w.data.series.set(key, (s = { steps: [], values: [] }));
      merge(s, p.steps, p.values);
    }
    for (const h of b.histograms) {
      let list = w.data.histograms.get(h.key);
      if (!list) w.data.histograms.set(h.key, (list = []));
      list.push({ step: h.step, edges: h.edges, counts: h.counts });
    }
    for (const e of b.events) if (e.type !== "image") w.data.events.push(e);
  }
  schedule(w);
}

function schedule(w: Watched): void {
  if (w.timer) return;
  const wait = Math.max(0, w.lastEvalAt + EVAL_INTERVAL_MS - Date.now());
  w.timer = setTimeout(() => {
    w.timer = undefined;
    void evaluate(w).catch((e) => console.error(`babysit: diagnostics of run ${w.runId} failed`, e));
  }, wait);
  w.timer.unref?.();
}

async function evaluate(w: Watched): Promise<void> {
  // one evaluation at a time per run; a batch arriving meanwhile schedules the next
  while (w.evaluating) await w.evaluating;
  w.evaluating = (async () => {
    w.lastEvalAt = Date.now();
    let found: Diagnosis[];
    try {
      found = diagnose(w.data);
    } catch (e) {
      console.error(`babysit: diagnose() threw for run ${w.runId}`, e);
      return;
    }
    await store(w, found);
  })();
  try {
    await w.evaluating;
  } finally {
    w.evaluating = undefined;
  }
}

async function store(w: Watched, found: Diagnosis[]): Promise<void> {
  const db = prisma();
  const now = Date.now() / 1000;
  const existing = new Map((await db.alert.findMany({ where: { runId: w.runId } })).map((a) => [a.code, a]));
  const changed: AlertView[] = [];
  for (const d of found) {
    const old = existing.get(d.code);
    const fields = {
      severity: d.severity,
      status: "active",
      step: BigInt(Math.round(d.step)),
      title: d.title,
      message: d.message,
      evidence: JSON.stringify(d.evidence),
      updatedAt: now,
    };
    if (!old) {
      const row = await db.alert.create({
        data: { runId: w.runId, code: d.code, firstStep: BigInt(Math.round(d.step)), createdAt: now, ...fields },
      });
      raised(w, alertView(row), changed);
      continue;
    }
    const escalated = old.status !== "active" || SEVERITY_RANK[d.severity] > SEVERITY_RANK[old.severity];
    const same =
      old.status === "active" && old.severity === d.severity && old.title === d.title && old.message === d.message && old.evidence === fields.evidence;
    if (same) continue;
    const row = await db.alert.update({ where: { id: old.id }, data: fields });
    if (escalated) raised(w, alertView(row), changed);
    else changed.push(alertView(row));
  }
  const codes = new Set(found.map((d) => d.code));
  for (const old of existing.values()) {
    if (old.status !== "active" || codes.has(old.code)) continue;
    const row = await db.alert.update({ where: { id: old.id }, data: { status: "resolved", updatedAt: now } });
    w.undelivered.delete(old.code);
    changed.push(alertView(row));
  }
  for (const a of changed) emitTo(runRoom(w.runId), "alert", { runId: w.runId, alert: a });
  if (changed.length) emitTo(RUNS_ROOM, "run-alerts", { runId: w.runId });
}

function raised(w: Watched, a: AlertView, changed: AlertView[]): void {
  w.undelivered.set(a.code, a);
  changed.push(a);
  const name = (sqlite().prepare("SELECT name FROM runs WHERE id = ?").get(w.runId) as { name: string } | undefined)?.name ?? w.runId;
  notifyWebhook(w.runId, name, a);
}

/** Ingest hook: alerts raised since the SDK last asked, each handed over once. */
export function takeAlerts(runId: string): AlertView[] {
  const w = watched().get(runId);
  if (!w?.undelivered.size) return [];
  const out = [...w.undelivered.values()];
  w.undelivered.clear();
  return out;
}

/** Finish hook: the final evaluation on the complete run; returns alerts not yet delivered. */
export async function finalEvaluation(runId: string): Promise<AlertView[]> {
  const w = load(runId);
  if (w.timer) clearTimeout(w.timer);
  w.timer = undefined;
  w.data.finished = true;
  w.data.config = parseConfig((sqlite().prepare("SELECT config FROM runs WHERE id = ?").get(runId) as { config: string } | undefined)?.config);
  await evaluate(w);
  const out = takeAlerts(runId);
  evictIdle();
  return out;
}

/** A resumed run's config may have changed (thresholds, key names). */
export function forgetRun(runId: string): void {
  const w = watched().get(runId);
  if (w?.timer) clearTimeout(w.timer);
  watched().delete(runId);
}

let lastEviction = 0;

/** Drops runs nobody logged to for IDLE_MS (crashed ones never finish); checked once a minute. */
function evictIdle(): void {
  const now = Date.now();
  if (now - lastEviction < 60_000) return;
  lastEviction = now;
  for (const [id, w] of watched()) {
    if (now - w.lastTouch > IDLE_MS && !w.timer && !w.evaluating) watched().delete(id);
  }
}
