import { prisma } from "../db";
import { AppError } from "../errors";
import { emitTo, RUNS_ROOM, runRoom } from "../realtime/hub";
import { runView } from "./run-view";

type FinishHook = (runId: string) => void | Promise<void>;
const hooks = globalThis as unknown as { __babysitFinishHooks?: FinishHook[] };

/** Lets another domain (diagnostics) react when a run finishes. */
export function onRunFinished(fn: FinishHook): void {
  hooks.__babysitFinishHooks ??= [];
  if (!hooks.__babysitFinishHooks.includes(fn)) hooks.__babysitFinishHooks.push(fn);
}

/** Marks a run finished or crashed. */
export async function finishRun(id: string, status: "finished" | "crashed") {
  const db = prisma();
  const existing = await db.run.findUnique({ where: { id } });
  if (!existing) throw new AppError("not_found", `run ${id} does not exist`);
  const now = Date.now() / 1000;
  const run = await db.run.update({
    where: { id },
    data: { status, finishedAt: now, updatedAt: now, lastSeenAt: now },
    include: { project: true },
  });
  for (const fn of hooks.__babysitFinishHooks ?? []) await fn(id);
  const view = runView(run);
  emitTo(RUNS_ROOM, "run", view);
  emitTo(runRoom(id), "run", view);
  return { id, status };
}
