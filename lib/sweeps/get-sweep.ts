import { LIMITS, codePointLength } from "../contract/limits";
import { sqlite } from "../db";
import { AppError } from "../errors";
import { type SweepCursor, SWEEP_LIST_DEFAULT, encodeSweepCursor } from "../schemas/sweeps";
import { analyzeSweep, nextSpace, resolveObjective, shouldStop } from "./analysis";
import { type SweepRow, createSweep, mustReadSweep, parseEarlyStop, parseObjective, parseSpace, readSweep, sweepOfRun, sweepView } from "./store";
import { PRUNED_EVENT, sweepTrials, wireCurve } from "./trials";
import type { Goal, TrialSummary } from "./types";

// What the sweeps API answers beyond storage: the list with counts and the best trial, the detail
// with the analysis (lib/sweeps/analysis.ts), the sweep's alerts in the shape of a run's, the next
// stage (refine) and a trial's early-stopping answer.

const better = (goal: Goal) => (a: number, b: number) => (goal === "max" ? a > b : a < b);

function bestOf(trials: TrialSummary[], goal: Goal): { runId: string; value: number } | null {
  let best: { runId: string; value: number } | null = null;
  for (const t of trials) {
    if (t.failed || t.objective === null) continue;
    if (best === null || better(goal)(t.objective, best.value)) best = { runId: t.runId, value: t.objective };
  }
  return best;
}

interface ListRow extends SweepRow {
  rowid: number;
  trials: number;
}

/**
 * GET /api/v1/sweeps: the sweeps (of a project), newest first, a page of `limit` at a time, with
 * their trial counts and best trial. Counts come from one aggregate query over the page; only a
 * sweep that has trials reads them (for its failed count and its best), so empty sweeps cost a row.
 */
export function listSweeps(q: { project?: string; limit?: number; cursor?: SweepCursor }) {
  const limit = q.limit ?? SWEEP_LIST_DEFAULT;
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.project !== undefined) {
    where.push("p.name = ?");
    args.push(q.project);
  }
  if (q.cursor) {
    where.push("(s.created_at < ? OR (s.created_at = ? AND s.rowid < ?))");
    args.push(q.cursor.createdAt, q.cursor.createdAt, q.cursor.rowid);
  }
  const rows = sqlite()
    .prepare(
      `SELECT s.id, s.project_id AS projectId, p.name AS project, s.name, s.space, s.objective, s.seed, s.budget, s.stage,
         s.parent_id AS parentId, s.early_stop AS earlyStop, s.next_index AS nextIndex, s.created_at AS createdAt, s.updated_at AS updatedAt,
         s.rowid AS rowid,
         (SELECT COUNT(*) FROM runs r WHERE r.sweep_id = s.id) AS trials
       FROM sweeps s JOIN projects p ON p.id = s.project_id ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY s.created_at DESC, s.rowid DESC LIMIT ?`,
    )
    .all(...args, limit + 1) as ListRow[];
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const sweeps = page.map((s) => {
    // a sweep without trials: nothing to read beyond its row
    const { objective, trials } =
      s.trials === 0 ? { objective: resolveObjective(parseObjective(s), new Set()), trials: [] } : sweepTrials(s, { curves: false });
    return {
      id: s.id,
      name: s.name,
      project: s.project,
      stage: s.stage,
      parentId: s.parentId,
      trials: s.trials,
      running: s.trials === 0 ? 0 : trials.filter((t) => t.status === "running").length,
      failed: trials.filter((t) => t.failed).length,
      pruned: trials.filter((t) => t.pruned).length,
      best: bestOf(trials, objective.goal),
      objective,
      budget: s.budget,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      url: `/sweeps/${s.id}`,
    };
  });
  const lastRow = page[page.length - 1];
  return { sweeps, nextCursor: more && lastRow ? encodeSweepCursor({ createdAt: lastRow.createdAt, rowid: lastRow.rowid }) : null };
}

function analyzed(s: SweepRow, curves: boolean) {
  const t = sweepTrials(s, { curves });
  const a = analyzeSweep({ space: parseSpace(s), objective: t.objective, trials: t.trials });
  return { ...t, analysis: a };
}

/** GET /api/v1/sweeps/{id}: the sweep, its trials, the analysis (best, importance, next stage's space). */
export function getSweep(id: string) {
  const s = mustReadSweep(id);
  const { objective, trials, analysis } = analyzed(s, true);
  const children = sqlite().prepare("SELECT id, name, stage FROM sweeps WHERE parent_id = ? ORDER BY created_at, rowid").all(s.id) as {
    id: string;
    name: string;
    stage: number;
  }[];
  const now = Date.now() / 1000;
  return {
    sweep: {
      ...sweepView(s),
      space: analysis.space,
      inferred: analysis.inferred,
      objective,
      children,
      trials: trials.map(({ pruned, ...t }) => ({
        ...t,
        // stopped early by should-stop (the median rule, or diverged): its objective is its best so far
        pruned: pruned != null,
        prune: pruned ?? null,
        // NaN and ±Infinity as logged, as the wire strings (JSON would make them null)
        curve: wireCurve(t.curve),
        // a run still going (or gone quiet) counts to now
        durationS:
          t.startedAt === null
            ? null
            : t.finishedAt !== null
              ? Math.max(0, t.finishedAt - t.startedAt)
              : t.status === "running" || t.status === "stale"
                ? Math.max(0, now - t.startedAt)
                : null,
      })),
      best: analysis.best.map((t) => t.runId),
      importance: analysis.importance,
      suggestion: analysis.suggestion,
      alerts: analysis.alerts.map((a) => alertOf(a, s, now)),
    },
  };
}

function alertOf(
  a: { code: string; severity: string; title: string; message: string; evidence: Record<string, unknown> },
  s: SweepRow,
  updatedAt: number,
) {
  return {
    code: a.code,
    severity: a.severity,
    status: "active",
    step: 0,
    firstStep: 0,
    title: a.title,
    message: a.message,
    evidence: a.evidence,
    createdAt: s.createdAt,
    updatedAt,
  };
}

const SEVERITY: Record<string, number> = { critical: 2, warning: 1, info: 0 };

/** GET /api/v1/sweeps/{id}/alerts: the sweep-level alerts, as a run's alerts look (most severe first). */
export function sweepAlerts(id: string) {
  const s = mustReadSweep(id);
  const { analysis, updatedAt } = analyzed(s, false);
  const alerts = analysis.alerts.map((a) => alertOf(a, s, updatedAt)).sort((a, b) => (SEVERITY[b.severity] ?? 0) - (SEVERITY[a.severity] ?? 0));
  return { alerts };
}

/** `<name>-s<stage>`, the name cut (by code points) to leave room: a run's config.sweep.id must take it. */
function stageName(name: string, stage: number): string {
  const suffix = `-s${stage}`;
  const room = LIMITS.sweepNameMaxLength.value - codePointLength(suffix);
  return `${codePointLength(name) > room ? Array.from(name).slice(0, room).join("") : name}${suffix}`;
}

/**
 * POST /api/v1/sweeps/{id}/refine: the next stage, a child sweep with the space narrowed around the
 * best `top` trials (widened past an edge they sit on), the same objective, stage + 1.
 */
export function refineSweep(id: string, body: { top: number; name?: string; budget?: number }) {
  const s = mustReadSweep(id);
  const { objective, trials, analysis } = analyzed(s, false);
  const scored = trials.filter((t) => !t.failed && t.objective !== null);
  if (scored.length < 2) {
    throw new AppError(
      "too_few_trials",
      `the sweep ${JSON.stringify(s.name)} has ${scored.length} trial(s) with an objective; refining needs at least 2`,
    );
  }
  if (Object.keys(analysis.space).length === 0) {
    // a space with no parameter is not a sweep: say why instead of answering invalid_space for a body the client never sent
    throw new AppError(
      "conflict",
      `the sweep ${JSON.stringify(s.name)} declares no space and its trials' configs hold no value that varies between them, so there is no range to narrow: declare a space (POST /api/v1/sweeps with "space"), or log each trial's hyperparameters in its config`,
    );
  }
  const space = nextSpace(analysis.space, trials, objective.goal, body.top, analysis.flat);
  const name = body.name ?? stageName(s.name, s.stage + 1);
  const budget = body.budget ?? s.budget ?? undefined;
  return createSweep({
    project: s.project,
    name,
    space,
    objective: { metric: objective.metric, goal: objective.goal },
    budget,
    earlyStop: parseEarlyStop(s),
    parent: s.id,
  });
}

/** GET /api/v1/runs/{id}/should-stop: whether a trial should stop now (false for a run in no sweep); `record`: remember a stop on the run (the trial is pruned). */
export function runShouldStop(runId: string, ask: { record: boolean } = { record: true }) {
  const exists = sqlite().prepare("SELECT 1 FROM runs WHERE id = ?").get(runId);
  if (!exists) throw new AppError("not_found", `run ${runId} does not exist`);
  const link = sweepOfRun(runId);
  const sweep = link ? readSweep(link.sweepId) : null;
  if (!sweep) return { stop: false, reason: null, evidence: {} };
  const { objective, trials } = sweepTrials(sweep, { curves: true });
  const me = trials.find((t) => t.runId === runId);
  if (!me) return { stop: false, reason: null, evidence: {} }; // older than the newest sweepTrialsMax
  const opts = parseEarlyStop(sweep);
  // what the curve cannot show (a NaN loss, a divergence alert) decides first: the curve keeps finite values only
  if (me.failure === "diverged") {
    const reason = "diverged: the trial logged a NaN or infinite objective or loss, or raised a divergence alert";
    const lastStep = me.curve.length ? me.curve[me.curve.length - 1][0] : null;
    if (ask.record) recordPruned(runId, "diverged", reason, lastStep);
    return { stop: true, reason, evidence: { rule: "diverged", sweep: sweep.id, metric: objective.metric, alerts: me.alerts } };
  }
  const others = trials.filter((t) => t.runId !== runId && !t.failed).map((t) => t.curve);
  const answer = shouldStop(me.curve, others, objective.goal, opts);
  if (answer.stop && ask.record) {
    const step = answer.evidence.step;
    recordPruned(runId, String(answer.evidence.rule ?? opts.rule), answer.reason ?? "", typeof step === "number" ? step : null);
  }
  return { stop: answer.stop, reason: answer.reason, evidence: { sweep: sweep.id, metric: objective.metric, ...answer.evidence } };
}

/**
 * Remembers on the run that should-stop told it to stop, once (the first answer; later ones, asked
 * again before the trial ends, add nothing): the sweep then shows the trial as pruned however it
 * ends, while the run's own status keeps the product's vocabulary. One statement: two workers asking
 * at once record it once.
 */
function recordPruned(runId: string, rule: string, reason: string, step: number | null) {
  const safeStep = step !== null && Number.isSafeInteger(step) && step >= 0 ? step : null;
  sqlite()
    .prepare(
      `INSERT INTO events (run_id, type, step, time, data)
       SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM events WHERE run_id = ? AND type = ?)`,
    )
    .run(runId, PRUNED_EVENT, safeStep, Date.now() / 1000, JSON.stringify({ rule, reason }), runId, PRUNED_EVENT);
}
