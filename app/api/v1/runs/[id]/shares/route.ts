import { principalName } from "@/lib/auth/permissions";
import { principalOf } from "@/lib/auth/request";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { createShare as createShareSchema } from "@/lib/schemas/shares";
import { createShare, listShares } from "@/lib/shares/shares";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/[id]/shares – a new read-only link to the run, { expiresIn }: the token and url are answered this once
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const { expiresIn } = parse(createShareSchema, await readJson(req, { emptyAs: {} }));
  return json(await createShare(id, { expiresIn, createdBy: principalName(principalOf(req)), host: req.headers.get("host") }), 201);
});

// GET /api/v1/runs/[id]/shares – the run's links, without their tokens: { shares: [...] }
export const GET = handle(async (_req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  return json({ shares: await listShares(id) });
});
