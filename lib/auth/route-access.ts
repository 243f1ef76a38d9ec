import { stmt, sqlite } from "../db";
import type { RouteMatch } from "../http/routes";
import {
  type Principal,
  type RunRef,
  canAdminister,
  canAdministerRun,
  canListRuns,
  canManageOwnKeys,
  canReadRun,
  canShareRun,
  canWriteRun,
} from "./permissions";
import { canListShares } from "./share-list-access";
import { canReadSweeps, canWriteSweep } from "./sweep-access";
import { sweepRef } from "../sweeps/store";

// The permission each API route needs in team mode, by route path and method: the table the
// custom server's front (lib/auth/front.ts) reads before any route handler runs. A route missing
// here gets the rule of its kind: under /api/v1/runs/[id], GET reads the run and anything else
// writes it; elsewhere GET reads the runs list and anything else needs a person (a session), so a
// new route is never left open by omission.

export type Access = { kind: "public" } | { kind: "check"; allows: (p: Principal) => boolean; refusal: (p: Principal) => string };

const PUBLIC: Access = { kind: "public" };

const who = (p: Principal) =>
  p.kind === "key"
    ? `this API key (${p.scope.access}${p.scope.projects ? ` to ${p.scope.projects.length} project(s)` : ""})`
    : p.kind === "user"
      ? p.name
      : "this link";

const check = (allows: (p: Principal) => boolean, what: string): Access => ({
  kind: "check",
  allows,
  refusal: (p) => `${who(p)} may not ${what}`,
});

const person = (p: Principal) => p.kind === "user" || p.kind === "local";

/** Rules by "METHOD path"; `*` stands for any method. */
const TABLE = new Map<string, Access>([
  ["* /api/v1/auth/login", PUBLIC],
  ["* /api/v1/auth/logout", PUBLIC],
  ["* /api/v1/auth/me", PUBLIC],
  ["POST /api/v1/auth/password", check(person, "change a password (log in as the user)")],
  ["GET /api/v1/keys", check(canManageOwnKeys, "list API keys (log in to the dashboard)")],
  ["POST /api/v1/keys", check(canManageOwnKeys, "make API keys (log in to the dashboard)")],
  ["DELETE /api/v1/keys/[id]", check(canManageOwnKeys, "revoke API keys (log in to the dashboard)")],
  ["GET /api/v1/users", check(canAdminister, "list accounts (admins only)")],
  ["POST /api/v1/users", check(canAdminister, "make accounts (admins only)")],
  // the names a run can be given to: any logged-in person (no roles or dates, which stay admins')
  ["GET /api/v1/users/names", check((p) => p.kind === "user", "list account names (log in to the dashboard)")],
  ["PATCH /api/v1/users/[id]", check(canAdminister, "change accounts (admins only)")],
  ["DELETE /api/v1/users/[id]", check(canAdminister, "delete accounts (admins only)")],
  ["GET /api/v1/shares", check(canListShares, "list shared links (log in to the dashboard)")],
  ["GET /api/v1/runs", check(canListRuns, "read runs")],
  ["GET /api/v1/sweeps", check(canReadSweeps, "read sweeps")],
  // the project comes in the body: the route handler asks canWriteSweep for it (as for runs below)
  [
    "POST /api/v1/sweeps",
    check((p) => p.kind === "user" || p.kind === "local" || (p.kind === "key" && p.scope.access === "write"), "create sweeps (a read-only key)"),
  ],
  // the project comes in the body: the route handler asks canWriteProject for it
  [
    "POST /api/v1/runs",
    check((p) => p.kind === "user" || p.kind === "local" || (p.kind === "key" && p.scope.access === "write"), "create runs (a read-only key)"),
  ],
  // an import creates or resumes a run: the same rule, and the handler asks canWriteProject too
  [
    "POST /api/v1/import",
    check((p) => p.kind === "user" || p.kind === "local" || (p.kind === "key" && p.scope.access === "write"), "import runs (a read-only key)"),
  ],
]);

/** What a session logged in with a one-time password hears from every other route (403 `password_change_required`). */
export const PASSWORD_CHANGE_REQUIRED =
  "this account logged in with a one-time password: set your own first (the Password form on /account, or POST /api/v1/auth/password)";

// What such a session may do: say who it is, set its password, log out (or in again)
const BEFORE_PASSWORD_CHANGE = new Set(["* /api/v1/auth/me", "* /api/v1/auth/logout", "* /api/v1/auth/login", "POST /api/v1/auth/password"]);

export function allowedBeforePasswordChange(path: string, method: string): boolean {
  return BEFORE_PASSWORD_CHANGE.has(`* ${path}`) || BEFORE_PASSWORD_CHANGE.has(`${method === "HEAD" ? "GET" : method} ${path}`);
}

/** The run a path names, with its project and owner; null when there is no such run (the route answers 404). */
export function runRef(id: string): RunRef | null {
  const row = stmt(
    sqlite(),
    "SELECT r.id AS id, p.name AS project, r.owner_id AS ownerId FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.id = ?",
  ).get(id) as RunRef | undefined;
  return row ?? null;
}

const OWNER_ONLY = "(its owner or an admin only)";

export function routeAccess(match: RouteMatch, method: string): Access {
  const path = match.route.path;
  const m = method === "HEAD" ? "GET" : method;
  const listed = TABLE.get(`${m} ${path}`) ?? TABLE.get(`* ${path}`);
  if (listed) return listed;
  if (path.startsWith("/api/v1/shares/")) return PUBLIC; // the token in the path is the credential (lib/shares)
  const id = match.params.get("id");
  if (path.startsWith("/api/v1/runs/[id]") && id !== undefined) {
    const run = runRef(id);
    // no such run: anyone who may read runs at all hears the route's own 404
    if (run === null) return check(canListRuns, "read runs");
    // revoking one link: its maker may too, which the route handler decides (canRevokeShare) once
    // it has read the link; here only a person gets that far
    if (path === "/api/v1/runs/[id]/shares/[shareId]" && m === "DELETE") return check(person, "revoke share links (only people, not keys)");
    if (path.startsWith("/api/v1/runs/[id]/shares")) return check((p) => canShareRun(p, run), `share the run ${run.id} ${OWNER_ONLY}`);
    if (path === "/api/v1/runs/[id]" && m === "DELETE") return check((p) => canAdministerRun(p, run), `delete the run ${run.id} ${OWNER_ONLY}`);
    if (m === "GET") return check((p) => canReadRun(p, run), `read the run ${run.id}`);
    return check((p) => canWriteRun(p, run), `write to runs of the project ${JSON.stringify(run.project)}`);
  }
  if (path.startsWith("/api/v1/sweeps/[id]") && id !== undefined) {
    const sweep = sweepRef(id);
    // no such sweep: anyone who may read sweeps hears the route's own 404
    if (sweep === null || m === "GET") return check(canReadSweeps, "read sweeps");
    return check((p) => canWriteSweep(p, sweep), `write to sweeps of the project ${JSON.stringify(sweep.project)}`);
  }
  if (m === "GET") return check(canListRuns, "read runs");
  return check(person, "do this (it needs a logged-in person)");
}
