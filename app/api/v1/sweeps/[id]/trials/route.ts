import { handle, json, parse, readJson } from "@/lib/http/handler";
import { claimTrial as claimTrialSchema } from "@/lib/schemas/sweeps";
import { claimTrial } from "@/lib/sweeps/store";

export const dynamic = "force-dynamic";

// POST /api/v1/sweeps/[id]/trials – claim the sweep's next trial: its index and sampled config (409 sweep_complete at the budget)
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  parse(claimTrialSchema, await readJson(req, { emptyAs: {} }));
  return json({ trial: claimTrial(id) }, 201);
});
