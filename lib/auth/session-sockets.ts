import { io } from "../realtime/hub";

// Live updates stop with the session that opened them: a dashboard socket remembers its session
// (lib/auth/server-hooks.ts), and logging out or changing the password disconnects the sockets of
// the sessions that ended. (The socket.io server lives in server.ts; route handlers reach it
// through globalThis, as every emit does.)

export interface SocketSession {
  sessionHash: string;
  userId: number;
}

/** Disconnects the dashboard sockets of one session (by its hash) or of every session of a user. */
export function disconnectSessions(which: { sessionHash: string } | { userId: number }): number {
  const server = io();
  if (!server) return 0;
  let n = 0;
  for (const socket of server.sockets.sockets.values()) {
    const s = (socket.data as { session?: SocketSession }).session;
    if (!s) continue;
    if ("sessionHash" in which ? s.sessionHash === which.sessionHash : s.userId === which.userId) {
      socket.disconnect(true);
      n++;
    }
  }
  return n;
}
