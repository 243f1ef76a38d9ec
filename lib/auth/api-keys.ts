import { stmt, sqlite } from "../db";
import { AppError } from "../errors";
import { whileAccountExistsSync } from "./account-gone";
import { KEY_TOUCH_EVERY_S } from "./config";
import { API_KEY_PREFIX, KEY_PREFIX_CHARS, hashSecret, newSecret } from "./tokens";

// API keys for training scripts and tools: `bsk_` + 256 random bits, shown once at creation and
// stored as their SHA-256. A key acts for the user who made it, narrowed by its scope: `read`
// (read everything a member reads, write nothing) or `write` (also create runs and log to them, in
// every project or only the listed ones). Keys never make keys, manage users or make share links.

export type KeyAccess = "read" | "write";

export interface ApiKeyInfo {
  id: number;
  name: string;
  prefix: string;
  user: string;
  access: KeyAccess;
  /** Projects a write key may write to; null: every project. */
  projects: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** What a request's key lets it do (lib/auth/permissions.ts reads it). */
export interface KeyScope {
  keyId: number;
  userId: number;
  userName: string;
  access: KeyAccess;
  projects: string[] | null;
}

interface KeyRow {
  id: number;
  name: string;
  prefix: string;
  user_id: number;
  user_name: string;
  access: string;
  projects: string | null;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  user_disabled_at: number | null;
}

const now = () => Date.now() / 1000;
const projectsOf = (s: string | null): string[] | null => (s === null ? null : (JSON.parse(s) as string[]));
const toInfo = (r: KeyRow): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  user: r.user_name,
  access: r.access === "write" ? "write" : "read",
  projects: projectsOf(r.projects),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

const SELECT = "SELECT k.*, u.name AS user_name, u.disabled_at AS user_disabled_at FROM api_keys k JOIN users u ON u.id = k.user_id";

export function createApiKey(
  userId: number,
  opts: { name: string; access: KeyAccess; projects: string[] | null; expiresInDays: number | null },
): { key: ApiKeyInfo; token: string } {
  const token = API_KEY_PREFIX + newSecret();
  const t = now();
  // its user deleted since the request was let in: 401, not a foreign-key 500
  const { id } = whileAccountExistsSync(
    () =>
      stmt(
        sqlite(),
        "INSERT INTO api_keys (token_hash, prefix, name, user_id, access, projects, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      ).get(
        hashSecret(token),
        token.slice(0, KEY_PREFIX_CHARS),
        opts.name,
        userId,
        opts.access,
        opts.projects === null ? null : JSON.stringify(opts.projects),
        t,
        opts.expiresInDays === null ? null : t + opts.expiresInDays * 86400,
      ) as { id: number },
  );
  return { key: keyById(id)!, token };
}

export function keyById(id: number): ApiKeyInfo | null {
  const r = stmt(sqlite(), `${SELECT} WHERE k.id = ?`).get(id) as KeyRow | undefined;
  return r ? toInfo(r) : null;
}

/** Keys newest first: one user's, or everyone's (userId null, for an admin). */
export function listApiKeys(userId: number | null): ApiKeyInfo[] {
  const rows =
    userId === null
      ? (stmt(sqlite(), `${SELECT} ORDER BY k.id DESC`).all() as KeyRow[])
      : (stmt(sqlite(), `${SELECT} WHERE k.user_id = ? ORDER BY k.id DESC`).all(userId) as KeyRow[]);
  return rows.map(toInfo);
}

/** Revokes a key (kept, marked, so that lists show when); revoking it again changes nothing. */
export function revokeApiKey(id: number): ApiKeyInfo {
  stmt(sqlite(), "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now(), id);
  const k = keyById(id);
  if (!k) throw new AppError("not_found", `no API key ${id}`);
  return k;
}

/**
 * What a bearer token opens: its scope, "revoked", "expired", "disabled" (its user's account is),
 * or null (no such key). Records the key's last use (at most once a KEY_TOUCH_EVERY_S).
 */
export function keyScope(token: string): KeyScope | "revoked" | "expired" | "disabled" | null {
  const r = stmt(sqlite(), `${SELECT} WHERE k.token_hash = ?`).get(hashSecret(token)) as KeyRow | undefined;
  if (!r) return null;
  if (r.revoked_at !== null) return "revoked";
  // kept, not revoked: enabling the account again brings its keys back
  if (r.user_disabled_at !== null) return "disabled";
  const t = now();
  if (r.expires_at !== null && r.expires_at <= t) return "expired";
  if (r.last_used_at === null || t - r.last_used_at >= KEY_TOUCH_EVERY_S)
    stmt(sqlite(), "UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(t, r.id);
  return { keyId: r.id, userId: r.user_id, userName: r.user_name, access: toInfo(r).access, projects: projectsOf(r.projects) };
}
