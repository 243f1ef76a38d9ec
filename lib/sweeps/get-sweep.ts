import { LIMITS, codePointLength } from "../contract/limits";
import { sqlite } from "../db";
import { AppError } from "../errors";
import { analyzeSweep, refineSpace, shouldStop } from "./analysis";
import { type SweepRow, createSweep, mustReadSweep, parseEarlyStop, parseSpace, readSweep, sweepOfRun, sweepView } from "./store";
import { sweepTrials, wireCurve } from "./trials";
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

/** GET /api/v1/sweeps: every sweep (of a project), newest first, with its trial counts and best trial. */
export function listSweeps(project: string | undefined) {
  const where = project === undefined ? "" : "WHERE p.name = ?";
  const ids = sqlite()
    .prepare(`SELECT s.id FROM sweeps s JOIN projects p ON p.id = s.project_id ${where} ORDER BY s.created_at DESC, s.rowid DESC`)
    .all(...(project === undefined ? [] : [project])) as { id: string }[];
  const sweeps = ids.map(({ id }) => {
    const s = mustReadSweep(id);
    const { objective, trials } = sweepTrials(s, { curves: false });
    return {
      id: s.id,
      name: s.name,
      project: s.project,
      stage: s.stage,
      parentId: s.parentId,
      trials: trials.length,
      running: trials.filter((t) => t.status === "running").length,
      failed: trials.filter((t) => t.failed).length,
      best: bestOf(trials, objective.goal),
      objective,
      budget: s.budget,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      url: `/sweeps/${s.id}`,
    };
  });
  return { sweeps };
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
      trials: trials.map((t) => ({
        ...t,
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
  const space = refineSpace(analysis.space, trials, objective.goal, body.top);
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

/** GET /api/v1/runs/{id}/should-stop: whether a trial should stop now (false for a run in no sweep). */
export function runShouldStop(runId: string) {
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
    return {
      stop: true,
      reason: "diverged: the trial logged a NaN or infinite objective or loss, or raised a divergence alert",
      evidence: { rule: "diverged", sweep: sweep.id, metric: objective.metric, alerts: me.alerts },
    };
  }
  const others = trials.filter((t) => t.runId !== runId && !t.failed).map((t) => t.curve);
  const answer = shouldStop(me.curve, others, objective.goal, opts);
  return { stop: answer.stop, reason: answer.reason, evidence: { sweep: sweep.id, metric: objective.metric, ...answer.evidence } };
}
