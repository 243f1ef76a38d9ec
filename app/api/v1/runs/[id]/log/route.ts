import "@/lib/alerts/register";
import { handle, json, readJson } from "@/lib/http/handler";
import { appendBatch } from "@/lib/ingest/append-batch";
import { checkImageEvents } from "@/lib/schemas/image-event";
import { parseLogBatch } from "@/lib/schemas/parse-log-batch";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/[id]/log – append a batch of metrics, histograms and events to a run
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const batch = parseLogBatch(await readJson(req));
  checkImageEvents(batch.events);
  return json(appendBatch(id, batch));
});
