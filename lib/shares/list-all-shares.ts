import { LIMITS } from "../contract/limits";
import { sqlite } from "../db";
import type { ShareView } from "./shares";

// Every shared link on the server (an admin's view, /account) or one person's, across runs: what
// each opens (run id, name, project), who made it, when, its expiry and last opening. Never the
// token: the database has only its hash.

export interface ShareListItem extends ShareView {
  runName: string;
  project: string;
}

interface Row {
  id: number;
  runId: string;
  runName: string;
  project: string;
  prefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastOpenedAt: number | null;
  createdBy: string | null;
}

/** Newest first, at most shareListMax; total counts every link in scope. */
export function listAllShares(scope: { createdBy: string } | "all"): { shares: ShareListItem[]; total: number } {
  const db = sqlite();
  const where = scope === "all" ? "" : "WHERE s.created_by = ?";
  const args = scope === "all" ? [] : [scope.createdBy];
  const rows = db
    .prepare(
      `SELECT s.id, s.run_id AS runId, r.name AS runName, p.name AS project, s.prefix, s.created_at AS createdAt,
         s.expires_at AS expiresAt, s.last_opened_at AS lastOpenedAt, s.created_by AS createdBy
       FROM shares s JOIN runs r ON r.id = s.run_id JOIN projects p ON p.id = r.project_id
       ${where} ORDER BY s.created_at DESC, s.id DESC LIMIT ?`,
    )
    .all(...args, LIMITS.shareListMax.value) as Row[];
  const { n } = db.prepare(`SELECT COUNT(*) AS n FROM shares s ${where}`).get(...args) as { n: number };
  const at = Date.now() / 1000;
  return { shares: rows.map((r) => ({ ...r, expired: r.expiresAt !== null && r.expiresAt <= at })), total: n };
}
