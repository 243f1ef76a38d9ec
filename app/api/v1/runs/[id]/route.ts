import "@/lib/alerts/register";
import { principalOf } from "@/lib/auth/request";
import { assertMayChangeOwner } from "@/lib/auth/run-access";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { deleteRun } from "@/lib/runs/delete-run";
import { runFree } from "@/lib/runs/run-lock";
import { getRun } from "@/lib/runs/get-run";
import { updateRun } from "@/lib/runs/update-run";
import { updateRun as updateRunSchema } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

// GET /api/v1/runs/[id] – a run with its config, status, tags, notes, owner, keys, histogram keys and events
// (?events=full: statistics events with every per-feature list, as logged)
export const GET = handle(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  return json(await getRun(id, { owner: true, fullEvents: new URL(req.url).searchParams.get("events") === "full" }));
});

// PATCH /api/v1/runs/[id] – rename, archive or unarchive, set tags, write notes, give to another owner
export const PATCH = handle(async (req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  const patch = parse(updateRunSchema, await readJson(req));
  if (patch.owner !== undefined) assertMayChangeOwner(principalOf(req), id);
  return json({ run: updateRun(id, patch) });
});

// DELETE /api/v1/runs/[id] – delete a run and all its data
export const DELETE = handle(async (_req: Request, ctx: Ctx) => {
  const { id } = await ctx.params;
  await runFree(id); // an import storing into the run ends first (lib/runs/run-lock.ts)
  deleteRun(id);
  return json({ id, deleted: true });
});
