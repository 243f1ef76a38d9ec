import { LIMITS } from "../contract/limits";
import { sqlite } from "../db";
import { shownStatus } from "../runs/run-view";
import { getSeries } from "../series/get-series";
import { cachedRunSeries, runSeries } from "../series/series-meta";
import { singleton } from "../singleton";
import { decodeValue, encodeValue, type WireNumber } from "../values";
import { resolveObjective } from "./analysis";
import { parseObjective, parseSpace, type SweepRow } from "./store";
import type { Goal, Objective, Pruned, Scalar, Space, TrialSummary } from "./types";

// A sweep's trials as the analysis sees them (lib/sweeps/types.ts TrialSummary): the runs linked to
// the sweep, newest sweepTrialsMax, each with its hyperparameters, its objective (best value of the
// metric over the run) and whether it failed. Read from the series' stored totals, never their
// points, except for the thinned objective curve.

/** Keys whose non-finite values mean the trial diverged (besides the objective's own). */
const LOSS_KEYS = ["loss", "train/loss", "val/loss", "train_loss", "val_loss"];
/** Alerts that mean the trial diverged: a failed trial, not a bad value. */
const DIVERGED_ALERTS = new Set(["divergence", "exploding_gradients"]);
/** The objectives the default picks from, in order (resolveObjective, lib/sweeps/analysis.ts). */
const DEFAULT_OBJECTIVE_KEYS = ["val/acc", "val/loss", "train/loss", "loss"];
/** Points of each trial's objective curve. */
export const CURVE_POINTS = 100;

interface TrialRow {
  id: string;
  name: string;
  status: string;
  lastSeenAt: number;
  createdAt: number;
  finishedAt: number | null;
  updatedAt: number;
  trialIndex: number | null;
  config: string;
}

interface KeyTotals {
  count: number;
  min: number | null;
  max: number | null;
  nonFinite: number;
  nan: number;
  posInf: number;
  last: number;
}

/** The totals of some keys of each run, with non-finite counts: from memory where the run is loaded or has pending points, else from the series rows. */
function totalsOf(runIds: string[], keys: string[]): Map<string, Map<string, KeyTotals>> {
  const out = new Map<string, Map<string, KeyTotals>>();
  const db = sqlite();
  const pending = new Set(
    (
      db
        .prepare("SELECT DISTINCT run_id AS id FROM pending_batches WHERE run_id IN (SELECT value FROM json_each(?))")
        .all(JSON.stringify(runIds)) as {
        id: string;
      }[]
    ).map((r) => r.id),
  );
  const fromRows: string[] = [];
  for (const id of runIds) {
    const cached = cachedRunSeries(id) ?? (pending.has(id) ? runSeries(id) : undefined);
    if (!cached) {
      fromRows.push(id);
      continue;
    }
    const m = new Map<string, KeyTotals>();
    for (const k of keys) {
      const t = cached.get(k);
      if (t && t.count > 0)
        m.set(k, { count: t.count, min: t.min, max: t.max, nonFinite: t.nan + t.posInf + t.negInf, nan: t.nan, posInf: t.posInf, last: t.lastValue });
    }
    out.set(id, m);
  }
  if (fromRows.length) {
    for (const id of fromRows) out.set(id, new Map());
    const rows = db
      .prepare(
        `SELECT run_id AS runId, key, count, min, max, nan_count + pos_inf_count + neg_inf_count AS nonFinite, nan_count AS nan,
           pos_inf_count AS posInf, last_value AS lastValue FROM series
         WHERE run_id IN (SELECT value FROM json_each(?)) AND key IN (SELECT value FROM json_each(?)) AND count > 0`,
      )
      .all(JSON.stringify(fromRows), JSON.stringify(keys)) as ({ runId: string; key: string; lastValue: string } & Omit<KeyTotals, "last">)[];
    for (const r of rows) {
      const last = decodeValue(JSON.parse(r.lastValue) as WireNumber);
      out.get(r.runId)?.set(r.key, { count: r.count, min: r.min, max: r.max, nonFinite: r.nonFinite, nan: r.nan, posInf: r.posInf, last });
    }
  }
  return out;
}

function activeAlerts(runIds: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const rows = sqlite()
    .prepare("SELECT run_id AS runId, code FROM alerts WHERE status = 'active' AND run_id IN (SELECT value FROM json_each(?)) ORDER BY code")
    .all(JSON.stringify(runIds)) as { runId: string; code: string }[];
  for (const r of rows) {
    const list = out.get(r.runId) ?? [];
    list.push(r.code);
    out.set(r.runId, list);
  }
  return out;
}

/** The event should-stop records on a trial the first time it answers stop=true (lib/sweeps/get-sweep.ts). */
export const PRUNED_EVENT = "babysit/pruned";

function prunedOf(runIds: string[]): Map<string, Pruned> {
  const out = new Map<string, Pruned>();
  const rows = sqlite()
    .prepare(`SELECT run_id AS runId, step, time, data FROM events WHERE type = ? AND run_id IN (SELECT value FROM json_each(?)) ORDER BY id`)
    .all(PRUNED_EVENT, JSON.stringify(runIds)) as { runId: string; step: number | bigint | null; time: number; data: string }[];
  for (const r of rows) {
    if (out.has(r.runId)) continue; // the first answer that said stop
    let d: { rule?: unknown; reason?: unknown } = {};
    try {
      d = JSON.parse(r.data) as typeof d;
    } catch {}
    out.set(r.runId, {
      rule: typeof d.rule === "string" ? d.rule : "median",
      reason: typeof d.reason === "string" ? d.reason : "",
      step: r.step === null ? null : Number(r.step),
      at: r.time,
    });
  }
  return out;
}

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));

/** The hyperparameters of a trial: the space's names, or (no space) every scalar top-level config key but "sweep". */
function paramsOf(config: Record<string, unknown>, space: Space | null): Record<string, Scalar> {
  const out = Object.create(null) as Record<string, Scalar>;
  const names = space === null ? Object.keys(config).filter((k) => k !== "sweep") : Object.keys(space);
  for (const k of names) {
    if (!Object.hasOwn(config, k)) continue;
    const v = config[k];
    if (isScalar(v)) out[k] = v;
  }
  return out;
}

function parseConfig(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

// Curves by run, metric and goal, kept while the series' totals (count, min, max) are the same: should-stop is
// asked about once a second by every worker, and a finished trial's curve never changes.
const curves = () => singleton("babysit.sweeps.curves", () => new Map<string, { totals: string; curve: Array<[number, number]> }>());
const MAX_CURVES = 5_000;

function cachedCurve(runId: string, key: string, goal: Goal, t: KeyTotals): Array<[number, number]> {
  const k = `${runId}\u0000${goal}\u0000${key}`;
  const totals = `${t.count} ${t.min} ${t.max} ${t.nonFinite}`;
  const hit = curves().get(k);
  if (hit && hit.totals === totals) return hit.curve;
  const curve = curveOf(runId, key, goal);
  if (curves().size >= MAX_CURVES) curves().clear();
  curves().set(k, { totals, curve });
  return curve;
}

/**
 * The curve of a key, thinned: [a bucket's last step, the bucket's best finite value (max or min by
 * goal)]. NaN and ±Infinity are data: a bucket that holds any is drawn with that value (its last
 * value when that is not finite, else NaN, else the infinity logged), never dropped — beside its best
 * finite value when it has both (the finite one first when the bucket ends non-finite, as a
 * divergence does).
 */
function curveOf(runId: string, key: string, goal: Goal): Array<[number, number]> {
  let buckets: ReturnType<typeof getSeries>["buckets"];
  try {
    buckets = getSeries(runId, key, { points: CURVE_POINTS }).buckets;
  } catch {
    return []; // no such series (a trial that never logged it)
  }
  const out: Array<[number, number]> = [];
  for (const b of buckets) {
    const v = goal === "max" ? b.max : b.min;
    const x = v === null ? null : decodeValue(v as WireNumber);
    const finite = x !== null && Number.isFinite(x) ? x : null;
    const last = decodeValue(b.last);
    const bad =
      b.nan + b.posInf + b.negInf === 0
        ? null
        : !Number.isFinite(last)
          ? last
          : b.nan > 0
            ? Number.NaN
            : b.posInf > 0
              ? Number.POSITIVE_INFINITY
              : Number.NEGATIVE_INFINITY;
    if (bad === null) {
      if (finite !== null) out.push([b.lastStep, finite]);
    } else if (finite === null || b.step === b.lastStep) out.push([b.lastStep, bad]);
    else if (!Number.isFinite(last)) out.push([b.step, finite], [b.lastStep, bad]);
    else out.push([b.step, bad], [b.lastStep, finite]);
  }
  return out;
}

/** A curve as the API sends it: NaN and ±Infinity as the wire strings (lib/values.ts). */
export function wireCurve(curve: Array<[number, number]>): Array<[number, WireNumber]> {
  return curve.map(([s, v]) => [s, encodeValue(v)]);
}

/** The non-finite value a metric logged, as the wire sends it: its last value when not finite, else NaN, else the infinity logged. */
function nonFiniteOf(t: KeyTotals): WireNumber {
  if (!Number.isFinite(t.last)) return encodeValue(t.last);
  return t.nan > 0 ? "NaN" : t.posInf > 0 ? "Infinity" : "-Infinity";
}

/** A trial as the sweeps API reads it: the analysis' summary and the objective as logged. */
export interface TrialRecord extends TrialSummary {
  /** the objective as logged: the objective itself, or (a trial whose objective metric logged NaN or
   *  ±Infinity, whose objective is null) that non-finite value as a wire string */
  objectiveRaw: WireNumber | null;
}

export interface SweepTrials {
  objective: Objective & { declared: boolean };
  trials: TrialRecord[];
  /** per run: its last update (the sweep's alerts' updatedAt) */
  updatedAt: number;
}

/** The trials of a sweep (the newest sweepTrialsMax runs linked to it) with their objective; `curves` reads each trial's curve. */
export function sweepTrials(sweep: SweepRow, opts: { curves: boolean }): SweepTrials {
  const rows = sqlite()
    .prepare(
      `SELECT id, name, status, last_seen_at AS lastSeenAt, created_at AS createdAt, finished_at AS finishedAt, updated_at AS updatedAt,
         trial_index AS trialIndex, config
       FROM runs WHERE sweep_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`,
    )
    .all(sweep.id, LIMITS.sweepTrialsMax.value) as TrialRow[];
  rows.reverse(); // oldest first: trials in the order they started
  const ids = rows.map((r) => r.id);
  const declared = parseObjective(sweep);
  const candidates = declared ? [declared.metric] : DEFAULT_OBJECTIVE_KEYS;
  const totals = totalsOf(ids, [...new Set([...candidates, ...LOSS_KEYS])]);
  const logged = new Set<string>();
  for (const m of totals.values()) for (const k of candidates) if (m.has(k)) logged.add(k);
  const objective = resolveObjective(declared, logged);
  const alerts = activeAlerts(ids);
  const pruned = prunedOf(ids);
  const space = parseSpace(sweep);
  let updatedAt = sweep.updatedAt;
  const trials = rows.map((r): TrialRecord => {
    updatedAt = Math.max(updatedAt, r.updatedAt);
    const t = totals.get(r.id) ?? new Map<string, KeyTotals>();
    const o = t.get(objective.metric);
    const best = o ? (objective.goal === "max" ? o.max : o.min) : null;
    // an objective metric that logged NaN or ±Infinity has no value: the trial diverged (a failure, not a bad value)
    const objectiveBad = o !== undefined && o.nonFinite > 0;
    const value = !objectiveBad && best !== null && Number.isFinite(best) ? best : null;
    const codes = alerts.get(r.id) ?? [];
    const status = shownStatus(r.status, r.lastSeenAt);
    const nonFinite = [objective.metric, ...LOSS_KEYS].some((k) => (t.get(k)?.nonFinite ?? 0) > 0);
    const diverged = nonFinite || codes.some((c) => DIVERGED_ALERTS.has(c));
    const failure = diverged
      ? "diverged"
      : value === null && status === "crashed"
        ? "crashed"
        : value === null && status === "finished"
          ? "no_objective"
          : null;
    return {
      runId: r.id,
      name: r.name,
      index: r.trialIndex,
      status,
      params: paramsOf(parseConfig(r.config), space),
      objective: value,
      objectiveRaw: objectiveBad ? nonFiniteOf(o) : value,
      failed: failure === "diverged" || failure === "crashed",
      failure,
      alerts: codes,
      curve: opts.curves && o ? cachedCurve(r.id, objective.metric, objective.goal, o) : [],
      startedAt: r.createdAt,
      finishedAt: r.finishedAt,
      pruned: pruned.get(r.id) ?? null,
    };
  });
  return { objective, trials, updatedAt };
}
