import { handle } from "@/lib/http/handler";
import { revokeShare } from "@/lib/shares/shares";

export const dynamic = "force-dynamic";

// DELETE /api/v1/runs/[id]/shares/[shareId] – revokes one of the run's links: its page, API and socket close
export const DELETE = handle(async (_req: Request, ctx: { params: Promise<{ id: string; shareId: string }> }) => {
  const { id, shareId } = await ctx.params;
  await revokeShare(id, shareId);
  return new Response(null, { status: 204 });
});
