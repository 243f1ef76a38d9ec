import { handle, json, parse, queryOf } from "@/lib/http/handler";
import { getImages } from "@/lib/runs/get-images";
import { imagesQuery } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// GET /api/v1/runs/[id]/images – the latest images logged under one key
export const GET = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const q = parse(imagesQuery, queryOf(req), "invalid_query");
  return json(getImages(id, q.key, q.limit));
});
