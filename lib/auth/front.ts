import type { IncomingMessage, ServerResponse } from "node:http";
import type { GateResult } from "../http/gate";
import { sendError } from "../http/node";
import { keyScope } from "./api-keys";
import { type Mode, trustProxy } from "./mode";
import type { Principal } from "./permissions";
import { sessionCookie } from "./login";
import { type Access, PASSWORD_CHANGE_REQUIRED, allowedBeforePasswordChange, routeAccess } from "./route-access";
import { sessionUser } from "./sessions";
import { API_KEY_PREFIX, SECURE_SESSION_COOKIE, SESSION_COOKIE, hashSecret, looksLikeSecret } from "./tokens";

// The custom server's one place for "who is asking, and may they?" (server.ts calls `authorize`
// right after the front gate). In team mode every API route's required access comes from
// lib/auth/route-access.ts, pages need a login, and the answer is 401 `unauthenticated` (who are
// you?) or 403 `forbidden` (you may not). In local mode everyone is the local user, as before
// accounts. Either way the route handlers behind learn the principal, the client's address and
// whether the request came over https from one header set here (`x-babysit-auth`); a client's own
// copy of that header is dropped first.

export const AUTH_HEADER = "x-babysit-auth";

export interface RequestAuth {
  mode: Mode;
  principal: Principal | null;
  ip: string;
  secure: boolean;
  /** The SHA-256 of the session id a logged-in person's request came with (limits counted per session); absent otherwise. */
  session?: string;
}

/** Paths anyone may load in team mode: the login page, shared pages, and what pages are built from. */
function publicPage(path: string): boolean {
  return path === "/login" || /^\/share\/[^/]+$/.test(path) || path.startsWith("/_next/static/") || path === "/icon.svg" || path === "/favicon.ico";
}

export function cookieValue(header: string | undefined, name: string): string | null {
  return cookieValues(header, name)[0] ?? null;
}

/** Every value of cookie `name` in a Cookie header: a browser sends several when cookies set for other paths or domains share it. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const out: string[] = [];
  if (!header) return out;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) out.push(part.slice(eq + 1).trim());
  }
  return out;
}

/** The client's address: the socket's, or the proxy's last X-Forwarded-For entry when the proxy is trusted. */
export function clientIp(req: IncomingMessage): string {
  const forwarded = trustProxy()
    ? String(req.headers["x-forwarded-for"] ?? "")
        .split(",")
        .at(-1)
        ?.trim()
    : "";
  return forwarded || req.socket.remoteAddress || "unknown";
}

export function isSecure(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  return (
    trustProxy() &&
    String(req.headers["x-forwarded-proto"] ?? "")
      .split(",")[0]
      .trim()
      .toLowerCase() === "https"
  );
}

/** The session cookie's name for a request: `__Host-babysit_session` over https, else `babysit_session`. */
export const sessionCookieName = (secure: boolean) => (secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE);

/** Session cookies looked at per request: a browser sends one or two; more is someone's doing. */
const SESSION_COOKIES_TRIED = 4;

/** A 401 for a request with neither a bearer key nor a session: a training script reads it too, so the key comes first. */
export const NO_CREDENTIALS = "send an API key (Authorization: Bearer <key>, BABYSIT_API_KEY in the SDKs) or log in (POST /api/v1/auth/login)";

export const AMBIGUOUS_SESSION =
  "several session cookies of different accounts arrived (one may have been planted by another site); clear this site's cookies and log in again";

/**
 * The session a Cookie header names: its id and user, null for none, or "ambiguous". A browser may
 * send several cookies of the session's name (another path, a parent domain's); each live one is
 * tried, and when they belong to different people none is believed, so a cookie planted by another
 * site cannot make someone work in the planter's account. `onSlide(id)`: its expiry moved on.
 */
export function sessionOf(
  cookieHeader: string | undefined,
  secure: boolean,
  onSlide?: (id: string) => void,
): { id: string; principal: Principal } | "ambiguous" | null {
  const ids = [...new Set(cookieValues(cookieHeader, sessionCookieName(secure)).filter(looksLikeSecret))].slice(0, SESSION_COOKIES_TRIED);
  let found: { id: string; principal: Extract<Principal, { kind: "user" }> } | null = null;
  for (const id of ids) {
    const u = sessionUser(id, onSlide && (() => onSlide(id)));
    if (!u) continue;
    if (found && found.principal.id !== u.id) return "ambiguous";
    found ??= {
      id,
      principal: { kind: "user", id: u.id, name: u.name, role: u.role, ...(u.passwordChangeRequired ? { passwordChangeRequired: true } : {}) },
    };
  }
  return found;
}

type Authenticated = { ok: true; principal: Principal | null; session?: string } | { ok: false; message: string };

/** Who a team-mode request is: a bearer API key if it sends one (and then only that), else its session, else nobody. */
function authenticate(req: IncomingMessage, res: ServerResponse): Authenticated {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer +(\S+)$/i.exec(header);
    const token = m?.[1] ?? "";
    if (!token.startsWith(API_KEY_PREFIX) || !looksLikeSecret(token.slice(API_KEY_PREFIX.length))) {
      return { ok: false, message: "the Authorization header must be `Bearer <API key>` (a key starts with bsk_)" };
    }
    const scope = keyScope(token);
    if (scope === null) return { ok: false, message: "this API key is not known to the server" };
    if (scope === "revoked") return { ok: false, message: "this API key was revoked; make a new one" };
    if (scope === "expired") return { ok: false, message: "this API key expired; make a new one" };
    if (scope === "disabled") return { ok: false, message: "the account this API key belongs to is disabled; an admin can enable it" };
    return { ok: true, principal: { kind: "key", scope } };
  }
  // a session slid forward: so does the cookie (its Max-Age is the session's lifetime, not longer),
  // unless the answer sets one of its own (login, logout), which then comes after this one
  const slide = (id: string) => res.setHeader("set-cookie", sessionCookie(id, isSecure(req)));
  const s = sessionOf(req.headers.cookie, isSecure(req), slide);
  if (s === "ambiguous") return { ok: false, message: AMBIGUOUS_SESSION };
  return s ? { ok: true, principal: s.principal, session: hashSecret(s.id) } : { ok: true, principal: null };
}

function pass(req: IncomingMessage, auth: RequestAuth): true {
  req.headers[AUTH_HEADER] = Buffer.from(JSON.stringify(auth)).toString("base64url");
  return true;
}

/**
 * Decides whether a request that passed the front gate goes on. Returns false when it was answered
 * here (401, 403, or a redirect of a page to /login).
 */
export function authorize(req: IncomingMessage, res: ServerResponse, front: GateResult, mode: Mode): boolean {
  delete req.headers[AUTH_HEADER];
  const base = { mode, ip: clientIp(req), secure: isSecure(req) };
  if (mode === "local") return pass(req, { ...base, principal: { kind: "local" } });
  if (front.kind === "answered") return false;

  const who = authenticate(req, res);
  const path = (req.url ?? "").split("?", 1)[0];
  // a one-time password was used to log in: until the user sets their own, the session only reaches
  // the password form (/account) and the routes it needs (lib/auth/route-access.ts)
  const oneTime = who.ok && who.principal?.kind === "user" && who.principal.passwordChangeRequired === true;
  if (front.kind === "page") {
    if (publicPage(path)) return pass(req, { ...base, principal: who.ok ? who.principal : null });
    if (oneTime && path !== "/account") {
      res.writeHead(303, { location: "/account?password=required", "cache-control": "no-store" }).end();
      return false;
    }
    if (who.ok && who.principal?.kind === "user") return pass(req, { ...base, principal: who.principal, session: who.session });
    res.writeHead(303, { location: `/login?next=${encodeURIComponent(req.url ?? "/")}`, "cache-control": "no-store" }).end();
    return false;
  }

  if (oneTime && !allowedBeforePasswordChange(front.match.route.path, req.method ?? "GET")) {
    sendError(res, "password_change_required", PASSWORD_CHANGE_REQUIRED);
    return false;
  }
  const access: Access = routeAccess(front.match, req.method ?? "GET");
  if (access.kind === "public") return pass(req, who.ok ? { ...base, principal: who.principal, session: who.session } : { ...base, principal: null });
  if (!who.ok) {
    sendError(res, "unauthenticated", who.message, { "www-authenticate": 'Bearer realm="babysit"' });
    return false;
  }
  if (who.principal === null) {
    sendError(res, "unauthenticated", NO_CREDENTIALS, {
      "www-authenticate": 'Bearer realm="babysit"',
    });
    return false;
  }
  if (!access.allows(who.principal)) {
    sendError(res, "forbidden", access.refusal(who.principal));
    return false;
  }
  return pass(req, { ...base, principal: who.principal, session: who.session });
}
