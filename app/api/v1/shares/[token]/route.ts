import { json } from "@/lib/http/handler";
import { getRun } from "@/lib/runs/get-run";
import { viaShare } from "@/lib/shares/via-share";

export const dynamic = "force-dynamic";

// GET /api/v1/shares/[token] – the shared run, as GET /api/v1/runs/[id] gives it but without its
// owner's name (docs/security.md); a link holder cannot revoke it: its owner does
// (?events=full: statistics events with every per-feature list, as logged)
export const GET = viaShare(async (req: Request, ctx: { params: Promise<{ id: string }> }) =>
  json(await getRun((await ctx.params).id, { fullEvents: new URL(req.url).searchParams.get("events") === "full" })),
);
