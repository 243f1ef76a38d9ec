import { socketRefusal } from "../realtime/handshake";
import type { IOSocket } from "../realtime/hub";
import { handshakeShare } from "../shares/share-listener";
import { hashSecret } from "./tokens";
import { AMBIGUOUS_SESSION, isSecure, sessionOf } from "./front";
import type { Mode } from "./mode";
import { accountsReady, adminCount } from "./users";

// What server.ts asks of team mode besides the per-request front (lib/auth/front.ts).

/** The command that makes the first admin, as the refusal to start prints it. */
export const CREATE_ADMIN = "npm run admin -- create <name>";

/**
 * In team mode the server does not start until an admin exists: a server others can reach with no
 * account to log in to would be a server no one can use, or (worse) one without a lock. Returns
 * the message to print and exit with, or null to go on.
 */
export function startupProblem(mode: Mode): string | null {
  if (mode !== "team") return null;
  if (!accountsReady()) return "babysit: the database has no accounts table; run `npm run migrate` (npm start does it), then start again.";
  if (adminCount() > 0) return null;
  return [
    "babysit: team mode (HOST is not a loopback address, or BABYSIT_MODE=team) needs an admin account first.",
    "Make one with the same DATABASE_URL, then start again:",
    "",
    `    ${CREATE_ADMIN}`,
    "",
    "It prints a one-time password: log in with it at /login, then set your own password (the page asks for it). See docs/team-mode.md.",
  ].join("\n");
}

/**
 * socket.io middleware for team mode: a dashboard socket needs a logged-in session (its cookie comes
 * with the handshake); a shared page's socket names its link instead and stays bound to it
 * (attachRoomRules), as in local mode.
 */
export function teamSocketGate(mode: Mode) {
  return (socket: IOSocket, next: (err?: Error) => void) => {
    if (mode !== "team" || handshakeShare(socket) !== null) return next();
    const s = sessionOf(socket.handshake.headers.cookie, isSecure(socket.request));
    if (s === "ambiguous") return next(socketRefusal("unauthenticated", AMBIGUOUS_SESSION, "unauthenticated"));
    if (!s) return next(socketRefusal("unauthenticated", "log in to follow live updates", "unauthenticated"));
    const data = socket.data as { principal?: unknown; session?: { sessionHash: string; userId: number } };
    data.principal = s.principal;
    // it leaves when the session ends, whatever ends it (lib/auth/session-sockets.ts)
    if (s.principal.kind === "user") data.session = { sessionHash: hashSecret(s.id), userId: s.principal.id };
    next();
  };
}
