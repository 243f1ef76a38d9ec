import { handle, json } from "@/lib/http/handler";
import { createShare, listShares } from "@/lib/shares/shares";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/[id]/shares – a new read-only link to the run: { token, runId, url, createdAt }
export const POST = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json(await createShare(id), 201);
});

// GET /api/v1/runs/[id]/shares – the run's live links: { shares: [...] }
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json({ shares: await listShares(id) });
});
