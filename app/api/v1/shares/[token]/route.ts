import { json } from "@/lib/http/handler";
import { getRun } from "@/lib/runs/get-run";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token] – the shared run, as GET /api/v1/runs/[id] gives it but without its
// owner's name (docs/security.md); a link holder cannot revoke it: its owner does
export const GET = viaShare(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => json(await getRun((await ctx.params).id)));
