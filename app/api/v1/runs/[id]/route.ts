import { handle, json } from "@/lib/http/handler";
import { getRun } from "@/lib/runs/get-run";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id] – a run with its config, status, keys, histogram keys and events
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(await getRun(id));
});
