import "@/lib/alerts/register";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { bulkRuns } from "@/lib/runs/update-run";
import { bulkRuns as bulkRunsSchema } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/bulk – delete, archive, unarchive, tag or untag several runs, answered per id
export const POST = handle(async (req: Request) => {
  const { ids, action, tag } = parse(bulkRunsSchema, await readJson(req));
  return json(bulkRuns(ids, action, tag));
});
