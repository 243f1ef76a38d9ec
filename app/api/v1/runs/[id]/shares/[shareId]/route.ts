import { canRevokeShare } from "@/lib/auth/permissions";
import { principalOf } from "@/lib/auth/request";
import { runRef } from "@/lib/auth/route-access";
import { handle } from "@/lib/http/handler";
import { revokeShare } from "@/lib/shares/shares";

export const dynamic = "force-dynamic";

// DELETE /api/v1/runs/[id]/shares/[shareId] – revokes one of the run's links (its owner, an admin or the
// link's maker): its page, API and socket close
export const DELETE = handle(async (req: Request, ctx: { params: Promise<{ id: string; shareId: string }> }) => {
  const { id, shareId } = await ctx.params;
  const who = principalOf(req);
  const run = runRef(id);
  // no such run: revokeShare answers 404 before it asks
  await revokeShare(id, shareId, { mayRevoke: (createdBy) => run !== null && canRevokeShare(who, run, createdBy) });
  return new Response(null, { status: 204 });
});
