// How the dashboard speaks of a run's owner (the run page, the runs list).

// A run without an owner: made in local mode or before accounts, or its owner's account was deleted.
// The API says null for all of these alike, so the page cannot tell which.
export const NO_OWNER = "no owner (admins manage it)";
export const NO_OWNER_TIP = "made in local mode or before accounts existed, or its owner's account was deleted: only admins share, give or delete it";

/** Why Share or Delete is greyed out for this viewer. */
export function ownerOnlyHint(owner: string | null | undefined, what: "share" | "delete"): string {
  return owner ? `only the run's owner (${owner}) or an admin can ${what} this run` : `only an admin can ${what} this run (it has no owner)`;
}
