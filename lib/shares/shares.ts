import crypto from "node:crypto";
import { SHARE_EXPIRIES, SHARE_PREFIX_LENGTH } from "../contract/shares";
import { isShareToken } from "../contract/socket";
import { prisma, sqlite, stmt } from "../db";
import { shareLink } from "./share-url";
import { AppError } from "../errors";
import { closeShareRoom } from "../realtime/hub";
import { singleton } from "../singleton";

// Shared run links: a random token that opens one run's page, read-only, at /share/<token>, and
// reads that run's data through /api/v1/shares/<token>/... only, so that a proxy (or the share-only
// listener, BABYSIT_SHARE_PORT) can expose those paths without the rest of the dashboard.
//
// The token is shown once, when the link is made; the database keeps only its SHA-256. A token is
// 128 random bits, so nobody can guess one whose hash matches, and a slow password hash (argon2,
// scrypt) would add nothing but cost to every request: those are for low-entropy secrets.
// Lists show the token's first characters, to tell links apart. Only the run's owner, an admin or
// the link's maker revokes a link (DELETE /api/v1/runs/{id}/shares/{shareId}), never its holder;
// an expired link answers 410.

export interface ShareView {
  id: number;
  runId: string;
  /** The token's first characters (the rest is never stored). */
  prefix: string;
  createdAt: number;
  /** Unix seconds, or null for a link that never expires. */
  expiresAt: number | null;
  expired: boolean;
  lastOpenedAt: number | null;
  /** Who made it: the user's name in team mode, null for the local user (local mode). */
  createdBy: string | null;
}

/** What making a link answers, the only time the token and the full path are given. */
export interface ShareCreated extends ShareView {
  token: string;
  /** Path of the shared page on this server. */
  url: string;
}

interface ShareRow {
  id: number;
  runId: string;
  prefix: string;
  createdAt: number;
  expiresAt: number | null;
  lastOpenedAt: number | null;
  createdBy: string | null;
}

/** SHA-256 of a token, hex: what the database keeps. */
export const hashToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

const now = () => Date.now() / 1000;

const view = (s: ShareRow, at = now()): ShareView => ({
  id: s.id,
  runId: s.runId,
  prefix: s.prefix,
  createdAt: s.createdAt,
  expiresAt: s.expiresAt,
  expired: s.expiresAt !== null && s.expiresAt <= at,
  lastOpenedAt: s.lastOpenedAt,
  createdBy: s.createdBy,
});

async function requireRun(runId: string): Promise<void> {
  const run = await prisma().run.findUnique({ where: { id: runId }, select: { id: true } });
  if (!run) throw new AppError("not_found", `run ${runId} does not exist`);
}

/** A new link to the run (128 random bits); a run may have several, each revoked on its own. */
export async function createShare(
  runId: string,
  opts: { expiresIn: string; createdBy?: string | null; host?: string | null },
): Promise<ShareCreated> {
  await requireRun(runId);
  const ttl = SHARE_EXPIRIES.get(opts.expiresIn);
  if (ttl === undefined) throw new AppError("invalid_body", `expiresIn must be one of ${[...SHARE_EXPIRIES.keys()].join(", ")}`);
  const token = crypto.randomBytes(16).toString("base64url");
  const createdAt = now();
  const share = await prisma().share.create({
    data: {
      tokenHash: hashToken(token),
      prefix: token.slice(0, SHARE_PREFIX_LENGTH),
      runId,
      createdAt,
      expiresAt: ttl === null ? null : createdAt + ttl,
      createdBy: opts.createdBy ?? null,
    },
  });
  return { ...view(share), token, url: shareLink(token, opts.host ?? null) };
}

/** The run's links, oldest first, expired ones included (marked) until their owner revokes them. */
export async function listShares(runId: string): Promise<ShareView[]> {
  await requireRun(runId);
  const shares = await prisma().share.findMany({ where: { runId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  const at = now();
  return shares.map((s) => view(s, at));
}

/** Deletes one of the run's links; one that is not the run's (or is gone) is a 404, so a typo does not look done. */
export async function revokeShare(runId: string, shareId: string, opts: { mayRevoke?: (createdBy: string | null) => boolean } = {}): Promise<void> {
  await requireRun(runId);
  const id = /^[1-9][0-9]{0,14}$/.test(shareId) ? Number(shareId) : null;
  const share = id === null ? null : await prisma().share.findFirst({ where: { id, runId } });
  if (!share) throw new AppError("not_found", `run ${runId} has no share link ${shareId.slice(0, 40)}`);
  // team mode: the run's owner, an admin or the link's maker (lib/auth/permissions.ts canRevokeShare)
  if (opts.mayRevoke && !opts.mayRevoke(share.createdBy))
    throw new AppError("forbidden", "only the run's owner, an admin or whoever made this link may revoke it");
  await prisma().share.delete({ where: { id: share.id } });
  closeShareRoom(share.id, "revoked");
}

export interface OpenShare {
  shareId: number;
  runId: string;
  expiresAt: number | null;
}

/** Last-opened times are written at most this often per link (seconds), not on every request. */
const TOUCH_EVERY_S = 60;
/** When each link was last recorded as opened: on globalThis, shared by the page and the API's bundles. */
const touches = () => singleton("babysit.shareTouches", () => new Map<number, number>());

/**
 * The link a token opens. Throws not_found (404) for an unknown or revoked token and share_expired
 * (410) for an expired one. Synchronous: the socket server calls it. `touch` records the link as
 * opened (throttled).
 */
export function openShare(token: unknown, opts: { touch?: boolean } = {}): OpenShare {
  if (!isShareToken(token)) throw notShared();
  const row = stmt(sqlite(), "SELECT id, run_id AS runId, expires_at AS expiresAt FROM shares WHERE token_hash = ?").get(hashToken(token)) as
    | { id: number; runId: string; expiresAt: number | null }
    | undefined;
  if (!row) throw notShared();
  const at = now();
  if (row.expiresAt !== null && row.expiresAt <= at) {
    throw new AppError("share_expired", `this share link expired on ${new Date(row.expiresAt * 1000).toISOString()}`);
  }
  const touched = touches();
  if (opts.touch && (touched.get(row.id) ?? 0) <= at - TOUCH_EVERY_S) {
    if (touched.size > 10_000) touched.clear(); // bounded: forgetting only means one more write
    touched.set(row.id, at);
    stmt(sqlite(), "UPDATE shares SET last_opened_at = ? WHERE id = ?").run(at, row.id);
  }
  return { shareId: row.id, runId: row.runId, expiresAt: row.expiresAt };
}

/** The run a token opens (see openShare). */
export function runIdForToken(token: unknown, opts: { touch?: boolean } = {}): string {
  return openShare(token, opts).runId;
}

/**
 * Links made before tokens were hashed: migration 0003 kept their token as "plain:<token>" (SQLite
 * has no SHA-256); the server hashes them when it starts, before it answers. Returns how many.
 */
export function hashLegacyShares(): number {
  const db = sqlite();
  const rows = db.prepare("SELECT id, token_hash AS t FROM shares WHERE token_hash LIKE 'plain:%'").all() as { id: number; t: string }[];
  const update = db.prepare("UPDATE shares SET token_hash = ? WHERE id = ?");
  db.transaction(() => {
    for (const r of rows) update.run(hashToken(r.t.slice("plain:".length)), r.id);
  })();
  return rows.length;
}

const notShared = () => new AppError("not_found", "this share link does not exist or was revoked");
