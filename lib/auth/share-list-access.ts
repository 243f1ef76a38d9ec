import { type Principal, canAdminister } from "./permissions";

// Who sees which links in the server-wide list of shared links (GET /api/v1/shares). Kept apart
// from permissions.ts's run checks: it is about links, whoever's run they open.

/** Listing shared links across runs: people only (a key or a link lists nothing). */
export function canListShares(p: Principal): boolean {
  return p.kind === "local" || p.kind === "user";
}

/** Whose links the list holds: every link for an admin (and the local user), else the person's own. */
export function shareListScope(p: Principal): { createdBy: string } | "all" {
  if (canAdminister(p)) return "all";
  if (p.kind === "user") return { createdBy: p.name };
  throw new Error("shareListScope: ask canListShares first");
}
