import "@/lib/alerts/register";
import { whileAccountExists } from "@/lib/auth/account-gone";
import { assertMayCreateRun } from "@/lib/auth/create-run-access";
import { ownerOfNewRun } from "@/lib/auth/permissions";
import { principalOf } from "@/lib/auth/request";
import { handle, json, parse, queryOf, readJson } from "@/lib/http/handler";
import { createRun } from "@/lib/runs/create-run";
import { listRuns } from "@/lib/runs/list-runs";
import { createRun as createRunSchema, listRunsQuery, splitConfigFilters } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// POST /api/v1/runs – create a run, or resume it when its id exists
export const POST = handle(async (req: Request) => {
  const input = parse(createRunSchema, await readJson(req));
  const who = principalOf(req);
  assertMayCreateRun(who, input);
  // an owner deleted since the request was let in: 401, not a foreign-key 500
  const out = await whileAccountExists(() => createRun(input, { ownerId: ownerOfNewRun(who) }));
  return json(out, out.resumed ? 200 : 201);
});

// GET /api/v1/runs – list runs (search, filter by project/status/tag/archived/config/metric, sort by a
// config value or metric, page) with last values, alert counts and chosen columns
export const GET = handle(async (req: Request) => {
  const { rest, config, metric } = splitConfigFilters(queryOf(req));
  return json(await listRuns({ ...parse(listRunsQuery, rest, "invalid_query"), config, metric }));
});
