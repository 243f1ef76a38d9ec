import { handle, json, parse, queryOf } from "@/lib/http/handler";
import { seriesQuery } from "@/lib/schemas/runs";
import { getSeries } from "@/lib/series/get-series";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/series – one or several keys as min/max/mean buckets over a step range
export const GET = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const q = parse(seriesQuery, queryOf(req), "invalid_query");
  const range = { points: q.points, from: q.from, to: q.to };
  if (q.key !== undefined) return json(getSeries(id, q.key, range));
  return json({ series: (q.keys ?? []).map((k) => getSeries(id, k, range)) });
});
