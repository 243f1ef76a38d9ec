import { assertMayWriteSweeps } from "@/lib/auth/sweep-access";
import { principalOf } from "@/lib/auth/request";
import { handle, json, parse, queryOf, readJson } from "@/lib/http/handler";
import { createSweep as createSweepSchema, listSweepsQuery } from "@/lib/schemas/sweeps";
import { listSweeps } from "@/lib/sweeps/get-sweep";
import { createSweep, sweepView } from "@/lib/sweeps/store";

export const dynamic = "force-dynamic";

// POST /api/v1/sweeps – create a sweep, or answer the existing one of that project and name when it agrees
export const POST = handle(async (req: Request) => {
  const input = parse(createSweepSchema, await readJson(req));
  assertMayWriteSweeps(principalOf(req), input.project);
  const out = createSweep(input);
  return json({ sweep: sweepView(out.sweep) }, out.created ? 201 : 200);
});

// GET /api/v1/sweeps – the sweeps (?project= one project's), newest first, a page (limit, cursor) at a time, with trial counts and the best trial
export const GET = handle(async (req: Request) => {
  return json(listSweeps(parse(listSweepsQuery, queryOf(req), "invalid_query")));
});
