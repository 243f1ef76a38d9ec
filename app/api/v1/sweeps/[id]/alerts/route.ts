import { handle, json } from "@/lib/http/handler";
import { sweepAlerts } from "@/lib/sweeps/get-sweep";

export const dynamic = "force-dynamic";

// GET /api/v1/sweeps/[id]/alerts – the sweep-level alerts (search_boundary, ...), shaped like a run's
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(sweepAlerts(id));
});
