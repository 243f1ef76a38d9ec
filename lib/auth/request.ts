import { AppError } from "../errors";
import { AUTH_HEADER, NO_CREDENTIALS, type RequestAuth } from "./front";
import type { Principal } from "./permissions";

// The route handlers' side of lib/auth/front.ts: what the custom server's front learnt about a
// request (mode, principal, client address, https), read from the one header it sets.

export function authOf(req: Request): RequestAuth {
  return authFromHeader(req.headers.get(AUTH_HEADER));
}

/** The front's header as a page reads it (next/headers), or a route from its request. */
export function authFromHeader(raw: string | null): RequestAuth {
  // every request passes the front in server.ts; one that did not is nobody
  if (!raw) return { mode: "team", principal: null, ip: "unknown", secure: false };
  return JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as RequestAuth;
}

export function principalOf(req: Request): Principal {
  const p = authOf(req).principal;
  if (!p) throw new AppError("unauthenticated", NO_CREDENTIALS);
  return p;
}

/** The logged-in person of a team-mode request (key, link and local user refused). */
export function userOf(req: Request): Extract<Principal, { kind: "user" }> {
  const a = authOf(req);
  if (a.mode === "local") throw new AppError("not_found", "accounts exist only in team mode (docs/team-mode.md)");
  const p = principalOf(req);
  if (p.kind !== "user") throw new AppError("forbidden", "this needs a logged-in person, not an API key");
  return p;
}
