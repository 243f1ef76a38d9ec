import type { IncomingMessage, ServerResponse } from "node:http";
import { keepNoStore } from "../http/headers";
import { sendError } from "../http/node";
import { isShareToken } from "../contract/socket";
import { AppError } from "../errors";
import { socketRefusal } from "../realtime/handshake";
import type { IOSocket, SharedRun } from "../realtime/hub";
import { openShare } from "./shares";

// What a shared link needs from the server, and nothing more. The share-only listener
// (BABYSIT_SHARE_PORT, server.ts) serves these paths and answers 404 to everything else (the
// dashboard, /api/v1/runs/..., a socket without a link), so a team can publish links to the
// internet without the dashboard. On either listener, share pages and their API say
// `Referrer-Policy: no-referrer`, so the token in their URL never travels in a Referer header.

/**
 * BABYSIT_SHARE_PORT as a port number, null when unset; a value that is not a port (or is the main
 * port) stops the server with a message instead of a listener somewhere unexpected.
 */
export function sharePortFrom(value: string | undefined, mainPort: number): number | null {
  if (value === undefined || value === "") return null;
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= 65535)) throw new Error(`BABYSIT_SHARE_PORT must be a port number (1-65535), got ${JSON.stringify(value.slice(0, 40))}`);
  if (n === mainPort) throw new Error(`BABYSIT_SHARE_PORT must differ from PORT (${mainPort}): the share-only listener is a second one`);
  return n;
}

/** The shared page, its API, and the built assets pages load (icons, scripts, styles, fonts). */
export function isSharePath(path: string): boolean {
  return (
    /^\/share\/[^/]+$/.test(path) ||
    // a link's API only: a non-empty token segment (`/api/v1/shares/` is the path of no link)
    /^\/api\/v1\/shares\/[^/]+(\/|$)/.test(path) ||
    path.startsWith("/_next/static/") ||
    path === "/icon.svg" ||
    path === "/favicon.ico"
  );
}

const pathOf = (req: IncomingMessage) => (req.url ?? "").split("?", 1)[0];

/**
 * Every listener: a share page or share API answer carries Referrer-Policy: no-referrer, a share
 * page Cache-Control: no-store, and an expired link's page answers 410.
 */
export function markSharePath(req: IncomingMessage, res: ServerResponse): void {
  const path = pathOf(req);
  if (path.startsWith("/share/") || path.startsWith("/api/v1/shares/")) res.setHeader("Referrer-Policy", "no-referrer");
  if (path.startsWith("/share/")) {
    keepNoStore(res); // the page's URL is the token: no cache keeps it
    expiredSharePage(req, res);
  }
}

/**
 * The share-only listener's filter, before anything else reads the request: true when it may go on
 * (to the front gate, which still refuses a malformed path such as /share/..); otherwise answered
 * here with a 404 in the envelope, the same for every path and method that is not a share's, so the
 * listener tells nothing about what else the server holds.
 */
export function shareListenerAllows(req: IncomingMessage, res: ServerResponse): boolean {
  const ok = isSharePath(pathOf(req));
  if (!ok) sendError(res, "not_found", "this address serves shared links only");
  return ok;
}

const SHARE_PAGE = /^\/share\/([^/]+)$/;

/**
 * An expired link's page answers 410, as its API does (Next.js renders it, with a 200 of its own):
 * the status is set where Node writes the head, which every answer passes through.
 */
function expiredSharePage(req: IncomingMessage, res: ServerResponse): void {
  const token = SHARE_PAGE.exec(pathOf(req))?.[1];
  if (token === undefined || sharedRun(token) !== "expired") return;
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => writeHead(status === 200 ? 410 : status, ...rest)) as typeof res.writeHead;
}

/** The shared-link token a socket gave in its handshake (`auth: { share }`), or null. */
export function handshakeShare(socket: IOSocket): string | null {
  const auth = socket.handshake.auth as { share?: unknown } | undefined;
  return isShareToken(auth?.share) ? auth.share : null;
}

/** What a token opens for the socket server (lib/realtime/hub.ts): never throws. */
export function sharedRun(token: string): ReturnType<SharedRun> {
  try {
    const { runId, shareId, expiresAt } = openShare(token);
    return { runId, shareId, expiresAt };
  } catch (e) {
    if (e instanceof AppError && e.code === "share_expired") return "expired";
    return null; // revoked or unknown: no room
  }
}

/** The requests that came in on the share-only listener (server.ts marks them as they arrive). */
const viaShareListener = new WeakSet<IncomingMessage>();

/**
 * Marks a request as the share-only listener's. server.ts calls it first thing for every request and
 * upgrade that listener receives, so that the socket gate can tell where a socket was opened: not
 * by its TCP connection, which a long-polling socket outlives (its handshake's connection may be
 * closed, and its localPort then undefined, by the time socket.io runs the gate).
 */
export function markShareListener(req: IncomingMessage): void {
  viaShareListener.add(req);
}

const SHARES_ONLY = "this address serves shared links only: give a live link's token";
const NO_SUCH_LINK = "this shared link was revoked or never existed";
const LINK_EXPIRED = "this shared link has expired";

/**
 * socket.io middleware, on every listener: a socket that names a link in its handshake (`auth:
 * { share }`) is let in only while that link is live (not expired, not revoked); it then follows
 * that link only (attachRoomRules' `bound`). A socket opened on the share-only listener (its
 * handshake request was marked by markShareListener) must name one. A token is checked here, at
 * connect, and not only at subscribe: in team mode a link is what lets a socket in without a
 * session, so a made-up token must not. A refusal's `err.data` is the error envelope.
 */
export function shareSocketGate() {
  return (socket: IOSocket, next: (err?: Error) => void) => {
    const token = handshakeShare(socket);
    const onShareListener = viaShareListener.has(socket.request);
    if (token === null) return next(onShareListener ? socketRefusal("not_found", SHARES_ONLY) : undefined);
    const link = sharedRun(token);
    if (link === "expired") return next(socketRefusal("share_expired", onShareListener ? SHARES_ONLY : LINK_EXPIRED));
    if (link === null) return next(socketRefusal("not_found", onShareListener ? SHARES_ONLY : NO_SUCH_LINK));
    next();
  };
}

/**
 * Every listener: a path under /share/ that is not a link's page (/share/<token>/, /share/<token>/x)
 * is answered 404 here, before the login check, so that it never becomes a redirect to /login that
 * carries the token in `next` (into the login page's URL, the history and logs). True when answered.
 */
export function refuseOtherSharePath(req: IncomingMessage, res: ServerResponse): boolean {
  const path = pathOf(req);
  if (!(path === "/share" || path.startsWith("/share/")) || SHARE_PAGE.test(path)) return false;
  res.setHeader("Referrer-Policy", "no-referrer");
  sendError(res, "not_found", "no shared link here: a link's page is /share/<token>");
  return true;
}
