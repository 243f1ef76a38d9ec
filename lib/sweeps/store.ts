import crypto from "node:crypto";
import type Database from "better-sqlite3";
import { LIMITS } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { newRunId } from "../runs/create-run";
import { DEFAULT_EARLY_STOP, type CreateSweepBody, type SweepLink } from "../schemas/sweeps";
import { sampleTrial, validateSpace } from "./sampler";
import type { EarlyStop, Objective, Scalar, Space } from "./types";

// Where sweeps live: the sweeps table (one per project and name) and the runs linked to them
// (runs.sweep_id, runs.trial_index). Trials are handed out by claiming sweeps.next_index in one
// UPDATE ... RETURNING, so any number of workers, in any number of processes, get distinct indices.

export interface SweepRow {
  id: string;
  projectId: number;
  project: string;
  name: string;
  space: string | null;
  objective: string | null;
  seed: number;
  budget: number | null;
  stage: number;
  parentId: string | null;
  earlyStop: string;
  nextIndex: number;
  createdAt: number;
  updatedAt: number;
}

const SELECT = `SELECT s.id, s.project_id AS projectId, p.name AS project, s.name, s.space, s.objective, s.seed, s.budget, s.stage,
  s.parent_id AS parentId, s.early_stop AS earlyStop, s.next_index AS nextIndex, s.created_at AS createdAt, s.updated_at AS updatedAt
  FROM sweeps s JOIN projects p ON p.id = s.project_id`;

export function readSweep(id: string): SweepRow | null {
  return (stmt(sqlite(), `${SELECT} WHERE s.id = ?`).get(id) as SweepRow | undefined) ?? null;
}

/** A sweep by id, or 404. */
export function mustReadSweep(id: string): SweepRow {
  const s = readSweep(id);
  if (!s) throw new AppError("not_found", `sweep ${id} does not exist`);
  return s;
}

function sweepByName(projectId: number, name: string): SweepRow | null {
  return (stmt(sqlite(), `${SELECT} WHERE s.project_id = ? AND s.name = ?`).get(projectId, name) as SweepRow | undefined) ?? null;
}

/** The sweep a path names with its project, for access checks (lib/auth/route-access.ts); null: none. */
export function sweepRef(id: string): { id: string; project: string } | null {
  return (
    (stmt(sqlite(), "SELECT s.id, p.name AS project FROM sweeps s JOIN projects p ON p.id = s.project_id WHERE s.id = ?").get(id) as
      | { id: string; project: string }
      | undefined) ?? null
  );
}

export const parseSpace = (row: { space: string | null }): Space | null => (row.space === null ? null : nullProto(JSON.parse(row.space)));
export const parseObjective = (row: { objective: string | null }): Objective | null =>
  row.objective === null ? null : (JSON.parse(row.objective) as Objective);
export const parseEarlyStop = (row: { earlyStop: string }): EarlyStop => ({ ...DEFAULT_EARLY_STOP, ...(JSON.parse(row.earlyStop) as EarlyStop) });

/** A stored space back as a null-prototype record (its names are user data). */
function nullProto(v: Record<string, unknown>): Space {
  const out = Object.create(null) as Space;
  for (const k of Object.keys(v)) out[k] = v[k] as Space[string];
  return out;
}

/** A sweep as POST /api/v1/sweeps and refine answer it. */
export function sweepView(s: SweepRow) {
  return {
    id: s.id,
    name: s.name,
    project: s.project,
    space: parseSpace(s),
    objective: parseObjective(s),
    seed: s.seed,
    budget: s.budget,
    stage: s.stage,
    parentId: s.parentId,
    earlyStop: parseEarlyStop(s),
    trialsClaimed: s.nextIndex,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    url: `/sweeps/${s.id}`,
  };
}
export type SweepView = ReturnType<typeof sweepView>;

/** JSON with object keys in code unit order at every level: two spaces that say the same thing compare equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** A space as stored: validated, then written with its names in the order given. */
function spaceText(space: Space | null): string | null {
  if (space === null) return null;
  const entries: [string, unknown][] = Object.keys(space).map((k) => [k, space[k]]);
  // Object.fromEntries keeps a name "__proto__" as an own key; JSON.stringify writes it
  return JSON.stringify(Object.fromEntries(entries));
}

const newSeed = () => crypto.randomBytes(4).readUInt32BE(0);

function ensureProject(db: Database.Database, name: string, now: number): number {
  stmt(db, "INSERT INTO projects (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING").run(name, now);
  return (stmt(db, "SELECT id FROM projects WHERE name = ?").get(name) as { id: number }).id;
}

export interface CreateSweepResult {
  sweep: SweepRow;
  created: boolean;
}

/**
 * Creates a sweep, or answers the existing one of that project and name when what the request
 * declares agrees with it (N workers all "create" the sweep they share): a field left out agrees
 * with anything, a field given must equal the stored one (space compared whatever its key order),
 * else 409 sweep_conflict. One immediate transaction: two workers racing make one sweep.
 */
export function createSweep(input: CreateSweepBody): CreateSweepResult {
  // checked before the transaction: bad input writes nothing
  const space = input.space === undefined ? undefined : input.space === null ? null : validateSpace(input.space);
  const db = sqlite();
  const now = Date.now() / 1000;
  return db
    .transaction((): CreateSweepResult => {
      const projectId = ensureProject(db, input.project, now);
      const existing = sweepByName(projectId, input.name);
      if (existing) {
        // what the sweep left undeclared (made on the fly by a run's config.sweep, or by a worker that
        // only named it) takes what this request declares; what it declared must agree
        const differ: string[] = [];
        const adopt: [string, string | number | null][] = [];
        const storedSpace = parseSpace(existing);
        if (space != null && storedSpace === null) adopt.push(["space", spaceText(space)]);
        else if (space !== undefined && canonicalJson(storedSpace) !== canonicalJson(space)) differ.push("space");
        const storedObjective = parseObjective(existing);
        if (input.objective !== undefined && storedObjective === null) adopt.push(["objective", JSON.stringify(input.objective)]);
        else if (input.objective !== undefined && canonicalJson(storedObjective) !== canonicalJson(input.objective)) differ.push("objective");
        if (input.budget !== undefined && existing.budget === null) adopt.push(["budget", input.budget]);
        else if (input.budget !== undefined && existing.budget !== input.budget) differ.push("budget");
        // a seed nothing was sampled with yet may still change
        if (input.seed !== undefined && existing.seed !== input.seed) {
          if (existing.nextIndex === 0) adopt.push(["seed", input.seed]);
          else differ.push("seed");
        }
        if (input.parent !== undefined && existing.parentId !== input.parent) differ.push("parent");
        if (differ.length) {
          throw new AppError(
            "sweep_conflict",
            `the sweep ${JSON.stringify(input.name)} of project ${JSON.stringify(input.project)} exists with another ${differ.join(", ")}: use the same values, or another name`,
          );
        }
        if (adopt.length === 0) return { sweep: existing, created: false };
        // column names from the list above, never from the request
        const sets = adopt.map(([column]) => `${column} = ?`).join(", ");
        stmt(db, `UPDATE sweeps SET ${sets}, updated_at = ? WHERE id = ?`).run(...adopt.map(([, v]) => v), now, existing.id);
        return { sweep: mustReadSweep(existing.id), created: false };
      }
      let stage = 1;
      if (input.parent !== undefined) {
        const parent = readSweep(input.parent);
        if (!parent || parent.projectId !== projectId) {
          throw new AppError("invalid_body", `parent names no sweep of project ${JSON.stringify(input.project)}: ${input.parent}`);
        }
        stage = parent.stage + 1;
      }
      const id = newRunId();
      stmt(
        db,
        `INSERT INTO sweeps (id, project_id, name, space, objective, seed, budget, stage, parent_id, early_stop, next_index, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
      ).run(
        id,
        projectId,
        input.name,
        spaceText(space ?? null),
        input.objective === undefined ? null : JSON.stringify({ metric: input.objective.metric, goal: input.objective.goal }),
        input.seed ?? newSeed(),
        input.budget ?? null,
        stage,
        input.parent ?? null,
        JSON.stringify(input.earlyStop ?? DEFAULT_EARLY_STOP),
        now,
        now,
      );
      return { sweep: mustReadSweep(id), created: true };
    })
    .immediate();
}

export interface ClaimedTrial {
  index: number;
  config: Record<string, Scalar>;
  sweep: { id: string; name: string };
}

/**
 * Hands out the sweep's next trial: its index (claimed in one UPDATE ... RETURNING, so two workers
 * never get the same one) and its sampled config. 409 sweep_complete once `budget` trials were
 * handed out; 409 conflict for a sweep with no declared space (its trials are whatever runs join it).
 */
export function claimTrial(id: string): ClaimedTrial {
  const s = mustReadSweep(id);
  const space = parseSpace(s);
  if (space === null) {
    throw new AppError(
      "conflict",
      `the sweep ${JSON.stringify(s.name)} declares no space, so there is nothing to sample: runs join it through config.sweep = {"id": ${JSON.stringify(s.name)}}`,
    );
  }
  const claimed = stmt(
    sqlite(),
    `UPDATE sweeps SET next_index = next_index + 1, updated_at = ?
     WHERE id = ? AND (budget IS NULL OR next_index < budget) AND next_index < ? RETURNING next_index - 1 AS idx`,
  ).get(Date.now() / 1000, id, LIMITS.sweepBudgetMax.value) as { idx: number } | undefined;
  if (!claimed) {
    const budget = s.budget ?? LIMITS.sweepBudgetMax.value;
    throw new AppError("sweep_complete", `the sweep ${JSON.stringify(s.name)} handed out all its ${budget} trials`);
  }
  const sampled = sampleTrial(space, s.seed, claimed.idx);
  // a plain object (it is sent as JSON) in which a name "__proto__" stays an own key
  const config = Object.fromEntries(Object.keys(sampled).map((k) => [k, sampled[k]])) as Record<string, Scalar>;
  return { index: claimed.idx, config, sweep: { id: s.id, name: s.name } };
}

/**
 * Inside run creation's transaction: the sweep a run's config.sweep names in the run's project,
 * made on the fly (with config.sweep.space, when given) if missing. A space that contradicts the
 * sweep's declared one is a 409 sweep_conflict (the run is not created); a sweep without a
 * declared space takes the one a run brings.
 */
export function sweepForRun(db: Database.Database, projectId: number, link: SweepLink & { checkedSpace: Space | null }, now: number): string {
  const existing = sweepByName(projectId, link.name);
  if (!existing) {
    const id = newRunId();
    stmt(
      db,
      `INSERT INTO sweeps (id, project_id, name, space, objective, seed, budget, stage, parent_id, early_stop, next_index, created_at, updated_at)
       VALUES (?, ?, ?, ?, NULL, ?, NULL, 1, NULL, ?, 0, ?, ?)`,
    ).run(id, projectId, link.name, spaceText(link.checkedSpace), newSeed(), JSON.stringify(DEFAULT_EARLY_STOP), now, now);
    return id;
  }
  if (link.checkedSpace !== null) {
    const stored = parseSpace(existing);
    if (stored === null) stmt(db, "UPDATE sweeps SET space = ?, updated_at = ? WHERE id = ?").run(spaceText(link.checkedSpace), now, existing.id);
    else if (canonicalJson(stored) !== canonicalJson(link.checkedSpace)) {
      throw new AppError(
        "sweep_conflict",
        `config.sweep.space differs from the space of the sweep ${JSON.stringify(link.name)}: leave it out, or name another sweep`,
      );
    }
  }
  stmt(db, "UPDATE sweeps SET updated_at = ? WHERE id = ?").run(now, existing.id);
  return existing.id;
}

/** config.sweep's space checked before the run's transaction (bad input writes nothing). */
export function checkLinkSpace(link: SweepLink): SweepLink & { checkedSpace: Space | null } {
  return { ...link, checkedSpace: link.space === undefined || link.space === null ? null : validateSpace(link.space) };
}

/** The sweep of each run that has one (run id -> {id, name}). */
export function sweepsOfRuns(runIds: string[]): Map<string, { id: string; name: string }> {
  const out = new Map<string, { id: string; name: string }>();
  if (runIds.length === 0) return out;
  const rows = sqlite()
    .prepare(
      `SELECT r.id AS runId, s.id, s.name FROM runs r JOIN sweeps s ON s.id = r.sweep_id
       WHERE r.id IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(runIds)) as { runId: string; id: string; name: string }[];
  for (const r of rows) out.set(r.runId, { id: r.id, name: r.name });
  return out;
}

/** The sweep a run is a trial of, with its trial index; null when none. */
export function sweepOfRun(runId: string): { sweepId: string; index: number | null } | null {
  const r = stmt(sqlite(), "SELECT sweep_id AS sweepId, trial_index AS idx FROM runs WHERE id = ?").get(runId) as
    | { sweepId: string | null; idx: number | null }
    | undefined;
  return r?.sweepId ? { sweepId: r.sweepId, index: r.idx } : null;
}
