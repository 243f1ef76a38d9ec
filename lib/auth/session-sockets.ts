import type { SessionEndReason } from "../contract/socket";
import { stmt, sqlite } from "../db";
import { type IOSocket, io } from "../realtime/hub";
import { SESSION_SOCKET_CHECK_S } from "./config";

// Live updates stop with the session that opened them: a dashboard socket remembers its session
// (lib/auth/server-hooks.ts). What ends a session in this process (logout, a new password, an
// account disabled or deleted) disconnects its sockets at once; what ends one elsewhere or by
// itself (expiry, the admin CLI in another process) is found by a check of every session socket
// each SESSION_SOCKET_CHECK_S. Either way the socket hears `session-ended` first, so the page can
// say so and lead to /login. (The socket.io server lives in server.ts; route handlers reach it
// through globalThis, as every emit does.)

export interface SocketSession {
  sessionHash: string;
  userId: number;
}

type SessionSocket = { socket: IOSocket; session: SocketSession };

function sessionSockets(): SessionSocket[] {
  const server = io();
  if (!server) return [];
  const out: SessionSocket[] = [];
  for (const socket of server.sockets.sockets.values()) {
    const session = (socket.data as { session?: SocketSession }).session;
    if (session) out.push({ socket, session });
  }
  return out;
}

function end(s: SessionSocket, reason: SessionEndReason): void {
  s.socket.emit("session-ended", { reason });
  s.socket.disconnect(true);
}

/** Disconnects the dashboard sockets of one session (by its hash) or of every session of a user. */
export function disconnectSessions(which: { sessionHash: string } | { userId: number }, reason: SessionEndReason): number {
  let n = 0;
  for (const s of sessionSockets()) {
    if ("sessionHash" in which ? s.session.sessionHash === which.sessionHash : s.session.userId === which.userId) {
      end(s, reason);
      n++;
    }
  }
  return n;
}

/**
 * Disconnects every socket whose session no longer lets it in: expired, deleted (a logout or new
 * password in another process), or of a disabled or deleted account. One query whatever the count.
 */
export function sweepSessionSockets(): number {
  const all = sessionSockets();
  if (all.length === 0) return 0;
  const hashes = [...new Set(all.map((s) => s.session.sessionHash))];
  const expiry = new Map(
    (
      stmt(sqlite(), "SELECT token_hash AS hash, expires_at AS expires FROM sessions WHERE token_hash IN (SELECT value FROM json_each(?))").all(
        JSON.stringify(hashes),
      ) as { hash: string; expires: number }[]
    ).map((r) => [r.hash, r.expires]),
  );
  const disabled = new Map(
    (
      stmt(sqlite(), "SELECT id, disabled_at FROM users WHERE id IN (SELECT value FROM json_each(?))").all(
        JSON.stringify([...new Set(all.map((s) => s.session.userId))]),
      ) as { id: number; disabled_at: number | null }[]
    ).map((r) => [r.id, r.disabled_at !== null]),
  );
  const t = Date.now() / 1000;
  let n = 0;
  for (const s of all) {
    const expires = expiry.get(s.session.sessionHash);
    // the account's state first: disabling and deleting also delete the sessions
    const reason: SessionEndReason | null = !disabled.has(s.session.userId)
      ? "account_deleted"
      : disabled.get(s.session.userId)
        ? "account_disabled"
        : expires === undefined
          ? "ended"
          : expires <= t
            ? "expired"
            : null;
    if (reason) {
      end(s, reason);
      n++;
    }
  }
  return n;
}

/** Starts the periodic check (team mode); returns its stop. */
export function watchSessionSockets(): () => void {
  const timer = setInterval(() => {
    try {
      sweepSessionSockets();
    } catch (e) {
      console.error("babysit: checking live sockets' sessions failed", e);
    }
  }, SESSION_SOCKET_CHECK_S * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
