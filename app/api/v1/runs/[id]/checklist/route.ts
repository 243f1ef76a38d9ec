import { runChecklist } from "@/lib/alerts/run-checklist";
import { handle, json } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/checklist – the babysitting checklist: each item passed, raised or not checkable yet
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(runChecklist(id));
});
