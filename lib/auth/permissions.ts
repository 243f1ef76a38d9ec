import type { KeyScope } from "./api-keys";
import type { Role } from "./users";

// Who may do what: small named functions, the only place access is decided. Every API route (via
// lib/auth/route-access.ts on the custom server's front), page and socket subscription asks these.
//
// Principals:
// - local: the person at a local-mode server (no accounts): may do everything, as before accounts.
// - user: someone logged in to a team server; admin or member. Members read and write every run (a
//   team server is shared by the team) but share and administer (delete, revoke its links, give it
//   away) only the runs they own; admins do everything, on every run, and manage accounts and keys.
// - key: an API key, acting for its user within its scope (read, or write to all/some projects);
//   a key never shares or administers, whoever its user is.
// - share: a shared link's token: reads its one run (lib/shares decides which) and nothing else.

export type Principal =
  | { kind: "local" }
  // passwordChangeRequired: logged in with a one-time password, which must be replaced before anything else
  | { kind: "user"; id: number; name: string; role: Role; passwordChangeRequired?: boolean }
  | { kind: "key"; scope: KeyScope }
  | { kind: "share"; runId: string };

/** What a run is, for the checks that depend on it: its id, its project's name and its owner. */
export interface RunRef {
  id: string;
  project: string;
  /** The owning user's id; null for a run made in local mode, before accounts, or whose owner's account is gone. */
  ownerId: number | null;
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

/** The local user, an admin, or the member who owns the run (a run without an owner: admins only). */
function ownsOrRules(p: Principal, run: RunRef): boolean {
  if (p.kind === "local") return true;
  if (p.kind !== "user") return false;
  return p.role === "admin" || (run.ownerId !== null && run.ownerId === p.id);
}

/** Making and listing a run's share links: its owner or an admin (never a key or a link). */
export function canShareRun(p: Principal, run: RunRef): boolean {
  return ownsOrRules(p, run);
}

/**
 * Deleting a run, revoking any of its links and giving it to another owner: its owner or an
 * admin (never a key or a link).
 */
export function canAdministerRun(p: Principal, run: RunRef): boolean {
  return ownsOrRules(p, run);
}

/**
 * Revoking one of a run's links: whoever may administer the run, or the person who made the link
 * (`createdBy`, a user's name; null for links made in local mode or before accounts).
 */
export function canRevokeShare(p: Principal, run: RunRef, createdBy: string | null): boolean {
  if (canAdministerRun(p, run)) return true;
  return p.kind === "user" && createdBy !== null && createdBy === p.name;
}

/** Whom a new run belongs to: the logged-in user, a key's user; nobody in local mode. */
export function ownerOfNewRun(p: Principal): number | null {
  if (p.kind === "user") return p.id;
  if (p.kind === "key") return p.scope.userId;
  return null;
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
