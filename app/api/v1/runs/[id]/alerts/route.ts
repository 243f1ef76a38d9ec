import { listAlerts } from "@/lib/alerts/list-alerts";
import { handle, json } from "@/lib/http/handler";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/alerts – the run's diagnoses: code, severity, status, step, explanation, evidence
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(await listAlerts(id));
});
