import { handle, json } from "@/lib/http/handler";
import { getSweep } from "@/lib/sweeps/get-sweep";

export const dynamic = "force-dynamic";

// GET /api/v1/sweeps/[id] – a sweep: space, objective, every trial (params, status, objective, alerts, curve), best, importance, next stage's space, alerts
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(getSweep(id));
});
