import { GET as getRun } from "@/app/api/v1/runs/[id]/route";
import { handle } from "@/lib/http/handler";
import { revokeShare } from "@/lib/shares/shares";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token] – the shared run, as GET /api/v1/runs/[id] gives it
export const GET = viaShare(getRun);

// DELETE /api/v1/shares/[token] – revokes the link: its page and API answer 404 from now on
export const DELETE = handle(async (_req: Request, ctx: { params: Promise<{ token: string }> }) => {
  await revokeShare((await ctx.params).token);
  return new Response(null, { status: 204 });
});
