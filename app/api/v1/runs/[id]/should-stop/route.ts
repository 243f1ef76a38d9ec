import { handle, json } from "@/lib/http/handler";
import { runShouldStop } from "@/lib/sweeps/get-sweep";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/should-stop – whether a sweep's trial should stop now (diverged, or below the median); false outside a sweep
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(runShouldStop(id));
});
