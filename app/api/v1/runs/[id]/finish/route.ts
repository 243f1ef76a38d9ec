import "@/lib/alerts/register";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { finishRun } from "@/lib/runs/finish-run";
import { finishRun as finishRunSchema } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/[id]/finish – mark a run finished or crashed
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const { status, finishedAt } = parse(finishRunSchema, await readJson(req, { emptyAs: {} }));
  return json(await finishRun(id, status, finishedAt));
});
