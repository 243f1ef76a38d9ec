import { LIMITS } from "@/lib/contract/limits";
import { AppError } from "@/lib/errors";
import { handle, json, parse, queryOf } from "@/lib/http/handler";
import { seriesQuery } from "@/lib/schemas/runs";
import { getSeries } from "@/lib/series/get-series";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/series – one or several keys as min/max/mean buckets over a step range
export const GET = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const q = parse(seriesQuery, queryOf(req), "invalid_query");
  const range = { points: q.points, from: q.from, to: q.to };
  if (q.key) return json(getSeries(id, q.key, range));
  const keys = q.keys!.split(",").filter(Boolean);
  const max = LIMITS.seriesKeysPerRequest;
  if (keys.length > max.value) throw new AppError("invalid_query", `keys: at most ${max.value} ${max.unit} per request, got ${keys.length}`);
  return json({ series: keys.map((k) => getSeries(id, k, range)) });
});
