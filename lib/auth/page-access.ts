import { headers } from "next/headers";
import { AUTH_HEADER } from "./front";
import { canAdministerRun, canShareRun } from "./permissions";
import { authFromHeader } from "./request";
import { runRef } from "./route-access";

// What the viewer of a dashboard page may do to a run, so that the page hides the controls it may
// not use. Only a convenience: every route still decides for itself (lib/auth/route-access.ts).

export interface RunPageAccess {
  team: boolean;
  share: boolean;
  administer: boolean;
  /** The viewer is an admin (who keeps every right on a run given away). */
  admin: boolean;
}

export async function runPageAccess(id: string): Promise<RunPageAccess> {
  const { mode, principal } = authFromHeader((await headers()).get(AUTH_HEADER));
  const run = runRef(id);
  if (principal === null || run === null) return { team: mode === "team", share: false, administer: false, admin: false };
  return {
    team: mode === "team",
    share: canShareRun(principal, run),
    administer: canAdministerRun(principal, run),
    admin: principal.kind === "user" && principal.role === "admin",
  };
}
