import "@/lib/alerts/register";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { appendBatch } from "@/lib/ingest/append-batch";
import { logBatch } from "@/lib/schemas/log-batch";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/[id]/log – append a batch of metrics, histograms and events to a run
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const batch = parse(logBatch, await readJson(req), "invalid_batch");
  return json(appendBatch(id, batch));
});
