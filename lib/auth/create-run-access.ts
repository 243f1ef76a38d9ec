import { AppError } from "../errors";
import { type Principal, canWriteProject } from "./permissions";
import { runRef } from "./route-access";

/**
 * POST /api/v1/runs names its project in the body, so the route handler asks here: the principal
 * must be allowed to write to that project, and, when it resumes an existing run, to the run's own
 * project (a resumed run keeps its project whatever the body says).
 */
export function assertMayCreateRun(p: Principal, input: { project: string; id?: string }): void {
  const existing = input.id === undefined ? null : runRef(input.id);
  for (const project of new Set([input.project, ...(existing ? [existing.project] : [])])) {
    if (!canWriteProject(p, project))
      throw new AppError("forbidden", `this API key may not write to the project ${JSON.stringify(project.slice(0, 200))}`);
  }
}
