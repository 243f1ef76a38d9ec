import { handle, json, parse, queryOf } from "@/lib/http/handler";
import { histogramsQuery } from "@/lib/schemas/runs";
import { getHistograms } from "@/lib/series/get-histograms";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/histograms – the histograms of one key over steps
export const GET = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const q = parse(histogramsQuery, queryOf(req), "invalid_query");
  return json(getHistograms(id, q.key, q.limit));
});
