import crypto from "node:crypto";
import { prisma, sqlite } from "../db";
import { AppError } from "../errors";
import { closeShareRoom } from "../realtime/hub";

// Shared run links: a random token that opens one run's page, read-only, at /share/<token>, and
// reads that run's data through /api/v1/shares/<token>/... only, so that a proxy can expose those
// two paths (and socket.io) without the rest of the dashboard. Revoking deletes the token.

export interface ShareView {
  token: string;
  runId: string;
  /** Path of the shared page on this server. */
  url: string;
  createdAt: number;
}

const TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;

const view = (s: { token: string; runId: string; createdAt: number }): ShareView => ({
  token: s.token,
  runId: s.runId,
  url: `/share/${s.token}`,
  createdAt: s.createdAt,
});

/** A new link to the run (128 random bits); a run may have several, each revoked on its own. */
export async function createShare(runId: string): Promise<ShareView> {
  const run = await prisma().run.findUnique({ where: { id: runId }, select: { id: true } });
  if (!run) throw new AppError("not_found", `run ${runId} does not exist`);
  const share = await prisma().share.create({
    data: { token: crypto.randomBytes(16).toString("base64url"), runId, createdAt: Date.now() / 1000 },
  });
  return view(share);
}

export async function listShares(runId: string): Promise<ShareView[]> {
  const run = await prisma().run.findUnique({ where: { id: runId }, select: { id: true } });
  if (!run) throw new AppError("not_found", `run ${runId} does not exist`);
  const shares = await prisma().share.findMany({ where: { runId }, orderBy: { createdAt: "asc" } });
  return shares.map(view);
}

/** Deletes the link; an unknown (or already revoked) token is a 404, so a typo does not look done. */
export async function revokeShare(token: string): Promise<void> {
  const share = TOKEN_RE.test(token) ? await prisma().share.findUnique({ where: { token } }) : null;
  if (!share) throw notShared();
  await prisma().share.deleteMany({ where: { token } });
  closeShareRoom(token, share.runId);
}

/** The run a token opens; throws not_found for a revoked or unknown token. Synchronous: the socket server calls it. */
export function runIdForToken(token: unknown): string {
  if (typeof token !== "string" || !TOKEN_RE.test(token)) throw notShared();
  const row = sqlite().prepare("SELECT run_id AS runId FROM shares WHERE token = ?").get(token) as { runId: string } | undefined;
  if (!row) throw notShared();
  return row.runId;
}

const notShared = () => new AppError("not_found", "this share link does not exist or was revoked");
