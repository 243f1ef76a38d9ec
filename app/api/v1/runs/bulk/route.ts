import "@/lib/alerts/register";
import { principalOf } from "@/lib/auth/request";
import { assertMayBulk } from "@/lib/auth/run-access";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { runsFree } from "@/lib/runs/run-lock";
import { bulkRuns } from "@/lib/runs/update-run";
import { bulkRuns as bulkRunsSchema } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/bulk – delete, archive, unarchive, tag or untag several runs, answered per id
// (403, nothing changed, when any of them may not be: deleting needs its owner or an admin)
export const POST = handle(async (req: Request) => {
  const { ids, action, tag } = parse(bulkRunsSchema, await readJson(req));
  assertMayBulk(principalOf(req), ids, action);
  if (action === "delete") await runsFree(ids); // imports storing into them end first (lib/runs/run-lock.ts)
  return json(bulkRuns(ids, action, tag));
});
