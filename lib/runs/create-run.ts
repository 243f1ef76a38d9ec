import crypto from "node:crypto";
import { sqlite, stmt } from "../db";
import { AppError } from "../errors";
import { emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { configProblem } from "../schemas/config";
import { sweepLinkOf } from "../schemas/sweeps";
import { checkLinkSpace, sweepForRun } from "../sweeps/store";
import { runSeries } from "../series/series-meta";
import { writeConfigValues } from "./config-values";
import { deletedRunError, isDeletedRun } from "./delete-run";
import { runResumed } from "./lifecycle";
import { forgetRunSweep, sweepChanged } from "../sweeps/live";
import { clientTime } from "./run-times";
import { type RunRecord, parseConfig, runListViewOf, runView } from "./run-view";

export interface CreateRunInput {
  project: string;
  name?: string;
  /** Already checked against the contract (lib/schemas/runs.ts): depth, size, well-formed strings. */
  config?: Record<string, unknown>;
  id?: string;
  /** When the SDK's init() ran (unix seconds); a new run starts then when sane (lib/runs/run-times.ts). */
  startedAt?: number;
}

export interface CreateRunResult {
  id: string;
  url: string;
  resumed: boolean;
  /** The run's project as stored: a resume keeps the run in its project whatever `project` it was given. */
  project: string;
  /** The run's name as stored (generated when none was given). */
  name: string;
  /** The largest step stored for the run in any metric series; null when none (always for a new run). */
  lastStep: number | null;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export function newRunId(): string {
  const bytes = crypto.randomBytes(12);
  let id = "";
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

/**
 * Creates a run, or resumes it when `id` names an existing one (status back to running, config
 * merged). One immediate transaction on the one connection: the project and the run are written
 * together or not at all, and no other create can slip in between the lookup and the write.
 * `ownerId` (lib/auth/permissions.ts ownerOfNewRun) owns a new run; a resumed run keeps its owner.
 */
export async function createRun(input: CreateRunInput, opts: { ownerId?: number | null } = {}): Promise<CreateRunResult> {
  const db = sqlite();
  const now = Date.now() / 1000;
  // config.sweep links the run to a sweep of its project (lib/sweeps): checked before anything is written
  const sweep = sweepLinkOf(input.config);
  const link = sweep && checkLinkSpace(sweep);
  const linkSweep = (runId: string) => {
    if (!link) return;
    const projectId = (stmt(db, "SELECT project_id AS p FROM runs WHERE id = ?").get(runId) as { p: number }).p;
    const sweepId = sweepForRun(db, projectId, link, now);
    stmt(db, "UPDATE runs SET sweep_id = ?, trial_index = ? WHERE id = ?").run(sweepId, link.trial, runId);
  };
  const outcome = db
    .transaction(() => {
      const existing = input.id ? readRun(input.id) : undefined;
      if (existing) {
        const resumed = resume(existing, input, now);
        if (!link) return { resumed: true, run: resumed };
        linkSweep(existing.id);
        return { resumed: true, run: mustReadRun(existing.id) };
      }
      // an SDK that outlived its run (deleted from the dashboard) must not bring it back
      if (input.id && isDeletedRun(input.id)) throw deletedRunError(input.id);
      const id = input.id ?? newRunId();
      stmt(db, "INSERT INTO projects (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING").run(input.project, now);
      const project = stmt(db, "SELECT id FROM projects WHERE name = ?").get(input.project) as { id: number };
      const name = input.name ?? generatedName(id, project.id);
      stmt(
        db,
        `INSERT INTO runs (id, project_id, name, config, status, created_at, updated_at, last_seen_at, owner_id)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      ).run(id, project.id, name, JSON.stringify(input.config ?? {}), clientTime(input.startedAt, now) ?? now, now, now, opts.ownerId ?? null);
      writeConfigValues(db, id, input.config ?? {});
      linkSweep(id);
      return { resumed: false, run: mustReadRun(id) };
    })
    .immediate();
  const { run } = outcome;
  if (link) forgetRunSweep(run.id);
  if (run.sweep) sweepChanged(run.sweep.id);
  emitTo(RUNS_ROOM, "run", runListViewOf(run));
  const base = { id: run.id, url: `/runs/${run.id}`, project: run.project.name, name: run.name };
  if (!outcome.resumed) return { ...base, resumed: false, lastStep: null };
  runResumed(run.id); // its config (thresholds, key names) may have changed
  // its page (a shared one joins this room only, so neither owner nor sweep)
  emitTo(runRoom(run.id), "run", runView({ ...run, sweep: undefined }));
  return { ...base, resumed: true, lastStep: lastStep(run.id) };
}

// Words for generated run names: short, plain, none offensive in combination.
const ADJECTIVES = [
  "amber",
  "bold",
  "brave",
  "bright",
  "brisk",
  "calm",
  "clever",
  "cosmic",
  "crisp",
  "dapper",
  "daring",
  "deft",
  "eager",
  "early",
  "fancy",
  "fine",
  "fresh",
  "gentle",
  "glad",
  "golden",
  "grand",
  "happy",
  "hardy",
  "honest",
  "jolly",
  "keen",
  "kind",
  "lively",
  "lucky",
  "lunar",
  "merry",
  "misty",
  "noble",
  "polar",
  "proud",
  "quick",
  "quiet",
  "rapid",
  "royal",
  "rustic",
  "shiny",
  "silent",
  "silver",
  "sleek",
  "smooth",
  "solar",
  "steady",
  "stellar",
  "stoic",
  "sunny",
  "swift",
  "tidy",
  "vivid",
  "warm",
  "wild",
  "wise",
  "witty",
  "young",
  "zesty",
  "azure",
  "breezy",
  "cheery",
  "dusty",
  "fuzzy",
];
const NOUNS = [
  "badger",
  "beacon",
  "bird",
  "breeze",
  "brook",
  "canyon",
  "cedar",
  "cloud",
  "comet",
  "coral",
  "crane",
  "creek",
  "dawn",
  "delta",
  "dune",
  "eagle",
  "ember",
  "falcon",
  "fern",
  "field",
  "finch",
  "forest",
  "fox",
  "glade",
  "glacier",
  "grove",
  "harbor",
  "hawk",
  "heron",
  "hill",
  "island",
  "lake",
  "lark",
  "leaf",
  "lion",
  "maple",
  "meadow",
  "moon",
  "moss",
  "mountain",
  "night",
  "oak",
  "ocean",
  "otter",
  "owl",
  "pine",
  "planet",
  "pond",
  "rain",
  "river",
  "robin",
  "sea",
  "shadow",
  "sky",
  "snow",
  "sparrow",
  "star",
  "stone",
  "storm",
  "sun",
  "thunder",
  "tree",
  "valley",
  "wave",
];

/**
 * A readable name for a run created without one, like `brisk-otter-7`: two words drawn from a
 * hash of the id (the id's start is often a date shared by every run of the month) and the run's
 * number in its project, so unnamed runs of one project never share a name. Runs in the same
 * transaction as the insert, so the number cannot be taken twice.
 */
function generatedName(id: string, projectId: number): string {
  const hash = crypto.createHash("sha256").update(id).digest();
  const count = stmt(sqlite(), "SELECT COUNT(*) AS n FROM runs WHERE project_id = ?").get(projectId) as { n: number };
  return `${ADJECTIVES[hash[0] % ADJECTIVES.length]}-${NOUNS[hash[1] % NOUNS.length]}-${count.n + 1}`;
}

function resume(existing: RunRecord, input: CreateRunInput, now: number): RunRecord {
  let config: string | undefined;
  if (input.config) {
    const merged = { ...parseConfig(existing.config), ...input.config };
    const problem = configProblem(merged);
    if (problem) throw new AppError("invalid_body", `config merged over the run's stored config ${problem.message}`);
    config = JSON.stringify(merged);
    writeConfigValues(sqlite(), existing.id, merged);
  }
  stmt(
    sqlite(),
    `UPDATE runs SET status = 'running', finished_at = NULL, updated_at = ?, last_seen_at = ?,
       config = COALESCE(?, config), name = COALESCE(?, name) WHERE id = ?`,
  ).run(now, now, config ?? null, input.name ?? null, existing.id);
  return mustReadRun(existing.id);
}

/** A run just written in this transaction. */
function mustReadRun(id: string): RunRecord {
  const run = readRun(id);
  if (!run) throw new Error(`run ${id} vanished inside its own transaction`);
  return run;
}

function readRun(id: string): RunRecord | undefined {
  const r = stmt(
    sqlite(),
    `SELECT r.id, r.name, r.config, r.status, r.created_at AS createdAt, r.updated_at AS updatedAt,
       r.last_seen_at AS lastSeenAt, r.finished_at AS finishedAt, r.archived, p.name AS projectName,
       (SELECT u.name FROM users u WHERE u.id = r.owner_id) AS owner, s.id AS sweepId, s.name AS sweepName
     FROM runs r JOIN projects p ON p.id = r.project_id LEFT JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?`,
  ).get(id) as (Omit<RunRecord, "project"> & { projectName: string; sweepId: string | null; sweepName: string | null }) | undefined;
  if (!r) return undefined;
  const { projectName, sweepId, sweepName, ...rest } = r;
  return { ...rest, project: { name: projectName }, sweep: sweepId === null ? null : { id: sweepId, name: sweepName ?? "" } };
}

/** Largest step of any of the run's metric series, from their totals (no point is read). */
export function lastStep(runId: string): number | null {
  let last: number | null = null;
  for (const m of runSeries(runId).values()) {
    if (m.count > 0 && (last === null || m.lastStep > last)) last = m.lastStep;
    if (m.sealed.count > 0 && (last === null || m.sealed.lastStep > last)) last = m.sealed.lastStep;
  }
  return last;
}
