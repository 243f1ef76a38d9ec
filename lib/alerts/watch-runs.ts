import { prisma, sqlite } from "../db";
import { diagnose } from "../diagnostics";
import { seriesReader } from "../diagnostics/keys";
import type { Diagnosis, RunData, SeriesPoints } from "../diagnostics/types";
import type { AcceptedBatch } from "../ingest/hooks";
import { RUNS_ROOM, emitTo, runRoom } from "../realtime/hub";
import { thinEvents, thinHistograms, thinSeries } from "../diagnostics/thin";
import { QUARANTINE_EVENT } from "../series/quarantine";
import { scanRunPoints } from "../series/read-points";
import { runAlertsChanged } from "../runs/lifecycle";
import { singleton } from "../singleton";
import { type AlertView, SEVERITY_RANK, alertView } from "./alert-view";
import { MAX_EVENTS, diagnosticsBudget, histogramCap, memoryBudgetBytes, seriesCap } from "../memory-budget";
import { notifyWebhook } from "./webhook";
import type { ChecklistSummary } from "../diagnostics/checklist";
import { checklistOf } from "./checklist-inputs";

// Keeps each live run's data in memory (loaded once, then appended to by every accepted batch),
// within a memory budget (lib/memory-budget.ts: long series keep their start and recent
// half at full resolution, the middle as bucket extremes; idle runs leave first), re-runs the diagnostics at most once per EVAL_INTERVAL_MS per run off the
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
  /** the latest diagnosis's root-cause relation and order (code -> causedBy/symptoms, position) */
  related: Map<string, { at: number; causedBy?: string; symptoms?: string[] }>;
  /** whether a rule can read a series key (others are not held at all), and the key mapping it follows */
  reads: (key: string) => boolean;
  keysConfig: string;
  /** points held over all series, and numbers held over all histogram records (budget accounting) */
  points: number;
  histNumbers: number;
  histRecords: number;
}

const BUDGET = diagnosticsBudget(memoryBudgetBytes());

const watched = () => singleton("babysit.watchedRuns", () => new Map<string, Watched>());

function load(runId: string, keep = true): Watched {
  const all = watched();
  let w = all.get(runId);
  if (w) return w;
  const db = sqlite();
  const row = db.prepare("SELECT config, status FROM runs WHERE id = ?").get(runId) as { config: string; status: string } | undefined;
  const config = parseConfig(row?.config);
  const reads = seriesReader(config);
  const series = new Map<string, SeriesPoints>();
  // a long run is read chunk by chunk and thinned as it goes, so loading never holds it whole
  let own = 0;
  for (const r of db.prepare("SELECT key FROM series WHERE run_id = ?").iterate(runId) as Iterable<{ key: string }>) if (reads(r.key)) own++;
  const cap = seriesCap(BUDGET, liveSeries() + own);
  scanRunPoints(runId, (key, steps, values) => {
    if (!reads(key)) return;
    let s = series.get(key);
    if (!s) series.set(key, (s = { steps: [], values: [] }));
    merge(s, steps, values);
    if (s.steps.length > 2 * cap) thinSeries(s, cap);
  });
  for (const s of series.values()) thinSeries(s, cap);
  const histograms = new Map<string, { step: number; edges: number[]; counts: number[] }[]>();
  const histKeys = (db.prepare("SELECT COUNT(DISTINCT key) AS n FROM histograms WHERE run_id = ?").get(runId) as { n: number }).n;
  let hcap = histogramCap(BUDGET, histKeys, 1);
  for (const h of db.prepare("SELECT key, step, edges, counts FROM histograms WHERE run_id = ? ORDER BY step").iterate(runId) as Iterable<{
    key: string;
    step: number;
    edges: string;
    counts: string;
  }>) {
    let list = histograms.get(h.key);
    if (!list) histograms.set(h.key, (list = []));
    const rec = { step: h.step, edges: JSON.parse(h.edges) as number[], counts: JSON.parse(h.counts) as number[] };
    list.push(rec);
    if (list.length === 1) hcap = Math.min(hcap, histogramCap(BUDGET, histKeys, rec.edges.length + rec.counts.length + 1));
    if (list.length > 2 * hcap) thinHistograms(list, hcap);
  }
  for (const list of histograms.values()) thinHistograms(list, hcap);
  const events =
    // what thinEvents keeps, read as such: the first tenth and the last eight tenths of MAX_EVENTS,
    // never a run's every event (images and set-aside blobs are not the diagnostics')
    (
      db
        .prepare(
          `SELECT type, step, data FROM events WHERE id IN (
           SELECT id FROM (SELECT id FROM events WHERE run_id = ? AND type NOT IN ('image', ?) ORDER BY id LIMIT ?)
           UNION SELECT id FROM (SELECT id FROM events WHERE run_id = ? AND type NOT IN ('image', ?) ORDER BY id DESC LIMIT ?)
         ) ORDER BY id`,
        )
        .all(runId, QUARANTINE_EVENT, MAX_EVENTS / 10, runId, QUARANTINE_EVENT, (MAX_EVENTS * 8) / 10) as {
        type: string;
        step: number | null;
        data: string;
      }[]
    ).map((e) => ({ type: e.type, step: e.step, data: JSON.parse(e.data) }));
  thinEvents(events, MAX_EVENTS);
  w = {
    runId,
    data: { config, series, histograms, events, finished: row ? row.status !== "running" : false },
    lastEvalAt: 0,
    lastTouch: Date.now(),
    undelivered: new Map(),
    related: new Map(),
    reads,
    keysConfig: keysConfigOf(config),
    points: 0,
    histNumbers: 0,
    histRecords: 0,
  };
  recount(w);
  if (keep) all.set(runId, w);
  return w;
}

/**
 * What the rules read of a run: the live copy when it is held, else read from storage (thinned as
 * the live copy would be) without holding it: a finished run's page asking must not keep it in memory.
 */
export function runDataFor(runId: string): RunData {
  return (watched().get(runId) ?? load(runId, false)).data;
}

function keysConfigOf(config: Record<string, any>): string {
  return JSON.stringify(config?.babysit?.keys ?? null);
}

/** Recomputes a run's budget accounting from what it holds. */
function recount(w: Watched): void {
  w.points = 0;
  for (const s of w.data.series.values()) w.points += s.steps.length;
  w.histNumbers = 0;
  w.histRecords = 0;
  for (const list of w.data.histograms.values()) {
    w.histRecords += list.length;
    for (const h of list) w.histNumbers += h.edges.length + h.counts.length + 1;
  }
}

function liveSeries(): number {
  let n = 0;
  for (const w of watched().values()) n += w.data.series.size;
  return n;
}

let warnedOver = false;
let lastFullPass = 0;

/**
 * Keeps the live runs' data within the budget: thins what this batch touched beyond its cap; when
 * the total is still over, thins every live run to the caps, then lets idle runs go (they reload,
 * thinned, if they log again).
 */
function enforceBudget(w: Watched, touchedSeries: Iterable<string>, touchedHistograms: Iterable<string>): void {
  let series = 0;
  let histKeys = 0;
  let histRecords = 0;
  let histNumbers = 0;
  for (const x of watched().values()) {
    series += x.data.series.size;
    histKeys += x.data.histograms.size;
    histRecords += x.histRecords;
    histNumbers += x.histNumbers;
  }
  const cap = seriesCap(BUDGET, series);
  const hcap = histogramCap(BUDGET, histKeys, histRecords ? histNumbers / histRecords : 1);
  let thinned = false;
  for (const key of touchedSeries) {
    const s = w.data.series.get(key);
    if (s && thinSeries(s, cap)) thinned = true;
  }
  for (const key of touchedHistograms) {
    const list = w.data.histograms.get(key);
    if (list && thinHistograms(list, hcap)) thinned = true;
  }
  thinEvents(w.data.events, MAX_EVENTS);
  if (thinned) recount(w);
  if (bytesHeld() <= BUDGET) return;
  // the full pass costs a walk over every live series: at most once a second while over budget
  const now = Date.now();
  if (now - lastFullPass >= 1000) {
    lastFullPass = now;
    for (const x of watched().values()) {
      for (const s of x.data.series.values()) thinSeries(s, cap);
      for (const list of x.data.histograms.values()) thinHistograms(list, hcap);
      recount(x);
    }
  }
  // then (at once: it costs a sort of the live runs) runs leave, least recently logged first, the
  // one logging now aside: one still logging reloads, thinned, on its next batch; its scheduled
  // evaluation goes with it
  const others = [...watched().values()].filter((x) => x !== w && !x.evaluating).sort((a, b) => a.lastTouch - b.lastTouch);
  let held = bytesHeld();
  for (const x of others) {
    if (held <= BUDGET) break;
    held -= bytesOf(x);
    forgetRun(x.runId);
  }
  if (bytesHeld() > BUDGET && !warnedOver) {
    warnedOver = true;
    console.warn(
      `babysit: live runs' diagnostic data exceeds its share of BABYSIT_MEMORY_MB=${memoryBudgetBytes() / 1024 / 1024} at the lowest resolution allowed; raise it`,
    );
  }
}

/** The diagnostics' budget bookkeeping: what the live runs hold, and the share they may hold. */
export function diagnosticsHeld(): { bytes: number; budget: number; runs: number; series: number; points: number } {
  let series = 0;
  let points = 0;
  for (const x of watched().values()) {
    series += x.data.series.size;
    points += x.points;
  }
  return { bytes: bytesHeld(), budget: BUDGET, runs: watched().size, series, points };
}

/** Estimated bytes the live runs hold (12 bytes a number: JS double arrays with their growth slack). */
export function bytesHeld(): number {
  let bytes = 0;
  for (const x of watched().values()) bytes += bytesOf(x);
  return bytes;
}

/** One live run's share: numbers at 12 bytes (with array slack), 200 bytes an object before any number is in it. */
function bytesOf(x: Watched): number {
  const numbers = 2 * x.points + x.histNumbers + 40 * x.data.events.length;
  const objects = x.data.series.size + x.data.histograms.size + x.histRecords;
  return numbers * 12 + objects * 200;
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
      if (!w.reads(key)) continue;
      let s = w.data.series.get(key);
      if (!s) w.data.series.set(key, (s = { steps: [], values: [] }));
      const before = s.steps.length;
      merge(s, p.steps, p.values);
      w.points += s.steps.length - before;
    }
    for (const h of b.histograms) {
      let list = w.data.histograms.get(h.key);
      if (!list) w.data.histograms.set(h.key, (list = []));
      list.push({ step: h.step, edges: h.edges, counts: h.counts });
      w.histRecords++;
      w.histNumbers += h.edges.length + h.counts.length + 1;
    }
    for (const e of b.events) if (e.type !== "image") w.data.events.push(e);
  }
  enforceBudget(w, b.series.keys(), new Set(b.histograms.map((h) => h.key)));
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
  const before = w.related;
  w.related = new Map(found.map((d, at) => [d.code, { at, causedBy: d.causedBy, symptoms: d.symptoms }]));
  const withRelation = (a: AlertView): AlertView => relate(a, w.related.get(a.code));
  for (const d of found) {
    // a run deleted (or forgotten) while this evaluation ran: write nothing more for it
    if (watched().get(w.runId) !== w) return;
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
      raised(w, withRelation(alertView(row)), changed);
      continue;
    }
    const escalated = old.status !== "active" || SEVERITY_RANK[d.severity] > SEVERITY_RANK[old.severity];
    const same =
      old.status === "active" &&
      old.severity === d.severity &&
      old.title === d.title &&
      old.message === d.message &&
      old.evidence === fields.evidence;
    if (same) {
      // a cause appeared or went away: the unchanged alert is now (no longer) its symptom
      if (relationKey(before.get(d.code)) !== relationKey(w.related.get(d.code))) changed.push(withRelation(alertView(old)));
      continue;
    }
    const row = await db.alert.update({ where: { id: old.id }, data: fields });
    if (escalated) raised(w, withRelation(alertView(row)), changed);
    else changed.push(withRelation(alertView(row)));
  }
  const codes = new Set(found.map((d) => d.code));
  for (const old of existing.values()) {
    if (watched().get(w.runId) !== w) return;
    if (old.status !== "active" || codes.has(old.code)) continue;
    const row = await db.alert.update({ where: { id: old.id }, data: { status: "resolved", updatedAt: now } });
    w.undelivered.delete(old.code);
    changed.push(alertView(row));
  }
  for (const a of changed) emitTo(runRoom(w.runId), "alert", { runId: w.runId, alert: a });
  if (changed.length) emitTo(RUNS_ROOM, "run-alerts", { runId: w.runId });
  if (changed.length) runAlertsChanged(w.runId);
}

function relate(a: AlertView, r: { causedBy?: string; symptoms?: string[] } | undefined): AlertView {
  const { causedBy: _c, symptoms: _s, ...plain } = a;
  return { ...plain, ...(r?.causedBy ? { causedBy: r.causedBy } : {}), ...(r?.symptoms?.length ? { symptoms: r.symptoms } : {}) };
}

const relationKey = (r: { causedBy?: string; symptoms?: string[] } | undefined) => JSON.stringify([r?.causedBy ?? null, r?.symptoms ?? []]);

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
  // root cause first, each with the relation of the latest diagnosis (a cause raised in an earlier
  // batch was handed over then: its symptom still names it)
  const rel = w.related;
  const out = [...w.undelivered.values()]
    .map((a) => relate(a, rel.get(a.code)))
    .sort((a, b) => (rel.get(a.code)?.at ?? Number.MAX_SAFE_INTEGER) - (rel.get(b.code)?.at ?? Number.MAX_SAFE_INTEGER));
  w.undelivered.clear();
  return out;
}

/** Finish hook: the final evaluation on the complete run; returns alerts not yet delivered. */
export async function finalEvaluation(runId: string): Promise<AlertView[]> {
  let w = load(runId);
  const config = parseConfig((sqlite().prepare("SELECT config FROM runs WHERE id = ?").get(runId) as { config: string } | undefined)?.config);
  if (keysConfigOf(config) !== w.keysConfig) {
    // the key mapping changed: other series may be read now, so hold the run anew
    forgetRun(runId);
    w = load(runId);
  }
  if (w.timer) clearTimeout(w.timer);
  w.timer = undefined;
  w.data.finished = true;
  w.data.config = config;
  await evaluate(w);
  rememberFinishSummary(w);
  const out = takeAlerts(runId);
  // a finished run leaves memory, so that its share goes to the runs still logging (a resumed one
  // is reloaded from storage)
  if (watched().get(runId) === w && !w.timer && !w.evaluating) watched().delete(runId);
  evictIdle();
  return out;
}

// The finish answer's checklist line, computed while the final evaluation still holds the run (the
// route would otherwise read the whole run back from storage); taken once by the finish route.
const finishSummaries = () => singleton("babysit.finishChecklists", () => new Map<string, ChecklistSummary>());
const FINISH_SUMMARIES_KEPT = 100;

function rememberFinishSummary(w: Watched): void {
  try {
    const all = finishSummaries();
    all.delete(w.runId);
    all.set(w.runId, checklistOf(w.runId, w.data).summary);
    // a finish whose route never takes its line (an error after this) must not pile up
    for (const id of all.keys()) {
      if (all.size <= FINISH_SUMMARIES_KEPT) break;
      all.delete(id);
    }
  } catch (e) {
    console.error(`babysit: checklist of run ${w.runId} failed`, e);
  }
}

export function takeFinishSummary(runId: string): ChecklistSummary | undefined {
  const s = finishSummaries().get(runId);
  finishSummaries().delete(runId);
  return s;
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
