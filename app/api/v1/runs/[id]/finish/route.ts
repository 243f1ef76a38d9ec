import "@/lib/alerts/register";
import { finishChecklist } from "@/lib/alerts/run-checklist";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { finishRun } from "@/lib/runs/finish-run";
import { runFree } from "@/lib/runs/run-lock";
import { finishRun as finishRunSchema } from "@/lib/schemas/runs";

export const dynamic = "force-dynamic";

// POST /api/v1/runs/[id]/finish – mark a run finished or crashed
export const POST = handle(async (req: Request, ctx: { params: Promise<{ id: string }> }) => {
  const { id } = await ctx.params;
  const { status, finishedAt } = parse(finishRunSchema, await readJson(req, { emptyAs: {} }));
  await runFree(id); // an import storing into the run ends first: its diagnoses at finish see the whole file
  const done = await finishRun(id, status, finishedAt);
  // the SDKs print this line; the finish itself never fails for want of it
  let checklist: ReturnType<typeof finishChecklist> | null = null;
  try {
    checklist = finishChecklist(id);
  } catch (e) {
    console.error(`babysit: checklist of run ${id} failed`, e);
  }
  return json({ ...done, checklist });
});
