import { canWriteRun } from "@/lib/auth/permissions";
import { principalOf } from "@/lib/auth/request";
import { runRef } from "@/lib/auth/route-access";
import { handle, json } from "@/lib/http/handler";
import { runShouldStop } from "@/lib/sweeps/get-sweep";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/should-stop – whether a sweep's trial should stop now (diverged, or below the median); false outside a sweep.
// A stop is remembered on the run (the trial reads as pruned) only when the asker may write to the
// run, as the trial's own worker does: a reader asking never marks someone's trial.
export const GET = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const run = runRef(id);
  return json(runShouldStop(id, { record: run !== null && canWriteRun(principalOf(req), run) }));
});
