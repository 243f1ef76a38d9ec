import { handle, json, parse, readJson } from "@/lib/http/handler";
import { refineSweep as refineSweepSchema } from "@/lib/schemas/sweeps";
import { refineSweep } from "@/lib/sweeps/get-sweep";
import { sweepView } from "@/lib/sweeps/store";

export const dynamic = "force-dynamic";

// POST /api/v1/sweeps/[id]/refine – the next stage: a child sweep with the space narrowed around the best trials
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const out = refineSweep(id, parse(refineSweepSchema, await readJson(req, { emptyAs: {} })));
  return json({ sweep: sweepView(out.sweep) }, out.created ? 201 : 200);
});
