import type Database from "better-sqlite3";
import { LIMITS } from "../contract/limits";
import { sqlite, stmt } from "../db";
import { findUser } from "../auth/users";
import { AppError } from "../errors";
import { emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { deleteRun } from "./delete-run";
import { type RunRecord, runListViewOf, runView } from "./run-view";

// Renaming, archiving, tagging and writing notes on runs (PATCH /api/v1/runs/{id}) and doing one
// of these (or deleting) to many runs at once (POST /api/v1/runs/bulk). Every change reaches the
// pages open on the run and on the runs list as a `run` event.

export interface RunPatch {
  name?: string;
  archived?: boolean;
  /** The whole set of tags (replaces the run's). */
  tags?: string[];
  notes?: string;
  /** A user's name: the run's new owner (the caller checked canAdministerRun). */
  owner?: string;
}

/** The tags of each run, in code point order. */
export function tagsOf(ids: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of ids) out.set(id, []);
  if (!ids.length) return out;
  const rows = stmt(sqlite(), "SELECT run_id AS runId, tag FROM run_tags WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, tag").all(
    JSON.stringify(ids),
  ) as { runId: string; tag: string }[];
  for (const r of rows) out.get(r.runId)?.push(r.tag);
  return out;
}

/** A run as its views need it, with its tags and notes; undefined when there is none. */
export function readRunRecord(db: Database.Database, id: string): RunRecord | undefined {
  const r = stmt(
    db,
    `SELECT r.id, r.name, r.config, r.status, r.created_at AS createdAt, r.updated_at AS updatedAt, r.last_seen_at AS lastSeenAt,
       r.finished_at AS finishedAt, r.archived, r.notes, p.name AS projectName,
       (SELECT u.name FROM users u WHERE u.id = r.owner_id) AS owner
     FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = ?`,
  ).get(id) as (Omit<RunRecord, "project"> & { projectName: string }) | undefined;
  if (!r) return undefined;
  const { projectName, ...rest } = r;
  return { ...rest, project: { name: projectName }, tags: tagsOf([id]).get(id) ?? [] };
}

function setTags(db: Database.Database, id: string, tags: string[]): void {
  stmt(db, "DELETE FROM run_tags WHERE run_id = ?").run(id);
  const put = stmt(db, "INSERT INTO run_tags (run_id, tag) VALUES (?, ?)");
  for (const t of tags) put.run(id, t);
}

function announce(run: RunRecord): void {
  emitTo(RUNS_ROOM, "run", runListViewOf(run));
  emitTo(runRoom(run.id), "run", runView(run));
}

/** Applies a checked patch in one transaction; answers the run's view. */
export function updateRun(id: string, patch: RunPatch) {
  const db = sqlite();
  const run = db
    .transaction(() => {
      if (!stmt(db, "SELECT 1 FROM runs WHERE id = ?").get(id)) throw new AppError("not_found", `run ${id} does not exist`);
      // updated_at is the run's data, not its bookkeeping: renaming or tagging leaves it alone
      if (patch.name !== undefined) stmt(db, "UPDATE runs SET name = ? WHERE id = ?").run(patch.name, id);
      if (patch.archived !== undefined) stmt(db, "UPDATE runs SET archived = ? WHERE id = ?").run(patch.archived ? 1 : 0, id);
      if (patch.notes !== undefined) stmt(db, "UPDATE runs SET notes = ? WHERE id = ?").run(patch.notes, id);
      if (patch.tags !== undefined) setTags(db, id, patch.tags);
      if (patch.owner !== undefined) {
        const user = findUser(patch.owner); // the same folded match as logging in
        // a disabled account takes no runs; the same words as for no account, so a member learns nothing of who is disabled
        if (!user || user.disabledAt !== null)
          throw new AppError("invalid_body", `owner: no enabled account is named ${JSON.stringify(patch.owner)}`);
        stmt(db, "UPDATE runs SET owner_id = ? WHERE id = ?").run(user.id, id);
      }
      return readRunRecord(db, id)!;
    })
    .immediate();
  announce(run);
  // the answer is the dashboard's (never a shared link's): it names the owner
  return { ...runView(run), owner: run.owner ?? null };
}

export type BulkAction = "delete" | "archive" | "unarchive" | "tag" | "untag";

export type BulkResult = { id: string; ok: true } | { id: string; ok: false; error: { code: string; message: string } };

/**
 * One action on each run named, each run on its own (one transaction per run: a run that fails
 * leaves the others done); answered per id in the order given.
 */
export function bulkRuns(ids: string[], action: BulkAction, tag?: string): { results: BulkResult[] } {
  const results: BulkResult[] = [];
  for (const id of ids) {
    try {
      if (action === "delete") deleteRun(id, { purgeNow: false });
      else if (action === "archive" || action === "unarchive") updateRun(id, { archived: action === "archive" });
      else changeTag(id, action, tag!);
      results.push({ id, ok: true });
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      results.push({ id, ok: false, error: { code: e.code, message: e.message } });
    }
  }
  return { results };
}

function changeTag(id: string, action: "tag" | "untag", tag: string): void {
  const db = sqlite();
  const run = db
    .transaction(() => {
      if (!stmt(db, "SELECT 1 FROM runs WHERE id = ?").get(id)) throw new AppError("not_found", `run ${id} does not exist`);
      if (action === "untag") stmt(db, "DELETE FROM run_tags WHERE run_id = ? AND tag = ?").run(id, tag);
      else if (!stmt(db, "SELECT 1 FROM run_tags WHERE run_id = ? AND tag = ?").get(id, tag)) {
        const n = (stmt(db, "SELECT COUNT(*) AS n FROM run_tags WHERE run_id = ?").get(id) as { n: number }).n;
        const max = LIMITS.tagsPerRun;
        if (n >= max.value) throw new AppError("conflict", `run ${id} has ${max.value} ${max.unit} already (the most a run may have)`);
        stmt(db, "INSERT INTO run_tags (run_id, tag) VALUES (?, ?)").run(id, tag);
      }
      return readRunRecord(db, id)!;
    })
    .immediate();
  announce(run);
}
