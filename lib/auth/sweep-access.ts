import { AppError } from "../errors";
import { type Principal, canListRuns, canWriteProject } from "./permissions";

// Who may do what with sweeps (lib/sweeps): they follow the rules of the runs of their project.
// Reading (the list, a sweep, its alerts, its socket room) is reading the runs list; creating a
// sweep, claiming its trials and refining it is what creating a run in its project needs. A shared
// link's token opens its one run and never a sweep (a shared run's view does not name its sweep).

/** What a sweep is, for the checks: its id and its project's name. */
export interface SweepRef {
  id: string;
  project: string;
}

export function canReadSweeps(p: Principal): boolean {
  return canListRuns(p);
}

export function canWriteSweep(p: Principal, sweep: { project: string }): boolean {
  return canWriteProject(p, sweep.project);
}

/** POST /api/v1/sweeps names its project in the body: the route handler asks here. */
export function assertMayWriteSweeps(p: Principal, project: string): void {
  if (!canWriteSweep(p, { project }))
    throw new AppError("forbidden", `this API key may not write to the project ${JSON.stringify(project.slice(0, 200))}`);
}
