import { stmt, sqlite } from "../db";
import { SESSION_SLIDE_EVERY_S, SESSION_TTL_S } from "./config";
import { hashSecret, newSecret } from "./tokens";
import { type User, userById } from "./users";

// Login sessions: the browser holds a random id in an HttpOnly cookie, the database its SHA-256.
// A session lasts SESSION_TTL_S after its last use; logout deletes the row.

const now = () => Date.now() / 1000;

export function createSession(userId: number): { id: string; expiresAt: number } {
  const id = newSecret();
  const t = now();
  // sessions nobody came back to are otherwise only deleted when used: sweep them at each login
  stmt(sqlite(), "DELETE FROM sessions WHERE expires_at <= ?").run(t);
  stmt(sqlite(), "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)").run(
    hashSecret(id),
    userId,
    t,
    t + SESSION_TTL_S,
  );
  return { id, expiresAt: t + SESSION_TTL_S };
}

/**
 * The user a session id belongs to, or null (unknown, expired: an expired row is deleted). Slides
 * the expiry; `onSlide` hears when it did, so the cookie's lifetime can follow (lib/auth/front.ts).
 */
export function sessionUser(id: string, onSlide?: () => void): User | null {
  const db = sqlite();
  const hash = hashSecret(id);
  const row = stmt(db, "SELECT id, user_id, expires_at FROM sessions WHERE token_hash = ?").get(hash) as
    | { id: number; user_id: number; expires_at: number }
    | undefined;
  if (!row) return null;
  const t = now();
  if (row.expires_at <= t) {
    stmt(db, "DELETE FROM sessions WHERE id = ?").run(row.id);
    return null;
  }
  if (row.expires_at - t < SESSION_TTL_S - SESSION_SLIDE_EVERY_S) {
    stmt(db, "UPDATE sessions SET expires_at = ? WHERE id = ?").run(t + SESSION_TTL_S, row.id);
    onSlide?.();
  }
  const u = userById(row.user_id);
  // disabling deletes the sessions too; this holds even for a row written in between
  return u && u.disabledAt === null ? u : null;
}

export function deleteSession(id: string): void {
  stmt(sqlite(), "DELETE FROM sessions WHERE token_hash = ?").run(hashSecret(id));
}
