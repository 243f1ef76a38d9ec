import type { KeyScope } from "./api-keys";
import type { Role } from "./users";

// Who may do what: small named functions, the only place access is decided. Every API route (via
// lib/auth/route-access.ts on the custom server's front), page and socket subscription asks these.
//
// Principals:
// - local: the person at a local-mode server (no accounts): may do everything, as before accounts.
// - user: someone logged in to a team server; admin or member. Members read, write and share every
//   run (a team server is shared by the team); admins also manage accounts and everyone's keys.
// - key: an API key, acting for its user within its scope (read, or write to all/some projects).
// - share: a shared link's token: reads its one run (lib/shares decides which) and nothing else.

export type Principal =
  | { kind: "local" }
  | { kind: "user"; id: number; name: string; role: Role }
  | { kind: "key"; scope: KeyScope }
  | { kind: "share"; runId: string };

/** What a run is, for the checks that depend on it: its id and its project's name. */
export interface RunRef {
  id: string;
  project: string;
}

const humans = (p: Principal) => p.kind === "local" || p.kind === "user";

export function canReadProject(p: Principal, _project: string): boolean {
  return humans(p) || p.kind === "key";
}

export function canWriteProject(p: Principal, project: string): boolean {
  if (humans(p)) return true;
  if (p.kind !== "key" || p.scope.access !== "write") return false;
  return p.scope.projects === null || p.scope.projects.includes(project);
}

/** Reading the runs list (every project's runs). */
export function canListRuns(p: Principal): boolean {
  return humans(p) || p.kind === "key";
}

export function canReadRun(p: Principal, run: RunRef): boolean {
  if (p.kind === "share") return p.runId === run.id;
  return canReadProject(p, run.project);
}

/** Logging to a run, finishing it, and the run management actions. */
export function canWriteRun(p: Principal, run: RunRef): boolean {
  return canWriteProject(p, run.project);
}

/** Making, listing and revoking a run's share links: people only, never a key or a link. */
export function canShareRun(p: Principal, _run: RunRef): boolean {
  return humans(p);
}

/**
 * Revoking a link (on top of canShareRun): whoever made it, or an admin. A link from before
 * accounts (`createdBy` null) is an admin's to revoke; the local user revokes any.
 */
export function canRevokeShare(p: Principal, createdBy: string | null): boolean {
  if (p.kind === "local") return true;
  if (p.kind !== "user") return false;
  return p.role === "admin" || (createdBy !== null && createdBy === p.name);
}

/** Managing accounts and everyone's API keys. */
export function canAdminister(p: Principal): boolean {
  return p.kind === "local" || (p.kind === "user" && p.role === "admin");
}

/** Making and revoking one's own API keys: a logged-in person (a key cannot make keys). */
export function canManageOwnKeys(p: Principal): boolean {
  return p.kind === "user";
}

/** A short name for who did something (shares' createdBy): null for the local user. */
export function principalName(p: Principal): string | null {
  if (p.kind === "user") return p.name;
  if (p.kind === "key") return p.scope.userName;
  return null;
}
