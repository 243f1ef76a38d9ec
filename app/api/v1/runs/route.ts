import "@/lib/alerts/register";
import { assertMayCreateRun } from "@/lib/auth/create-run-access";
import { principalOf } from "@/lib/auth/request";
import { handle, json, parse, queryOf, readJson } from "@/lib/http/handler";
import { createRun } from "@/lib/runs/create-run";
import { listRuns } from "@/lib/runs/list-runs";
import { createRun as createRunSchema, listRunsQuery } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// POST /api/v1/runs – create a run, or resume it when its id exists
export const POST = handle(async (req: Request) => {
  const input = parse(createRunSchema, await readJson(req));
  assertMayCreateRun(principalOf(req), input);
  const out = await createRun(input);
  return json(out, out.resumed ? 200 : 201);
});

// GET /api/v1/runs – list runs (filter by project/status, sort) with last values and alert counts
export const GET = handle(async (req: Request) => {
  return json(await listRuns(parse(listRunsQuery, queryOf(req), "invalid_query")));
});
