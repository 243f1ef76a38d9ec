import type { FollowRequest, IOSocket } from "../realtime/hub";
import { isSecure, sessionOf } from "./front";
import type { Mode } from "./mode";
import { type Principal, canListRuns, canReadRun } from "./permissions";
import { runRef } from "./route-access";

// What a dashboard socket may follow by id (a run's room, the runs list), decided by the same
// permission functions as the routes. Sockets opened by a shared page are bound to their link
// instead (lib/realtime/hub.ts attachRoomRules), and never reach this.

/**
 * Who a socket acts for, read again at each subscription from its handshake's session cookie: a
 * session that has ended since the socket opened (expired, deleted) follows nothing new.
 */
export function socketPrincipal(socket: IOSocket, mode: Mode): Principal | null {
  if (mode === "local") return { kind: "local" };
  const s = sessionOf(socket.handshake.headers.cookie, isSecure(socket.request));
  return s === null || s === "ambiguous" ? null : s.principal;
}

/**
 * May this principal follow the run (its room), the runs list, or a sweep (whoever may read the runs
 * list: sweeps follow the rules of runs, and a shared link's socket never gets here)? A run that
 * does not exist is the runs list's to know.
 */
export function mayFollow(p: Principal | null, r: FollowRequest): boolean {
  // a session still on its one-time password reads nothing until the password is its own
  if (p === null || (p.kind === "user" && p.passwordChangeRequired === true)) return false;
  if ("runs" in r || "sweep" in r) return canListRuns(p);
  const run = runRef(r.run);
  return run === null ? canListRuns(p) : canReadRun(p, run);
}

export function socketMayFollow(socket: IOSocket, mode: Mode, r: FollowRequest): boolean {
  return mayFollow(socketPrincipal(socket, mode), r);
}
