import "@/lib/alerts/register";
import { whileAccountExists } from "@/lib/auth/account-gone";
import { assertMayCreateRun } from "@/lib/auth/create-run-access";
import { ownerOfNewRun } from "@/lib/auth/permissions";
import { principalOf } from "@/lib/auth/request";
import { handle, json } from "@/lib/http/handler";
import { currentImportRunId, importFile } from "@/lib/import/import-file";
import { readImportRequest } from "@/lib/import/import-request";

export const dynamic = "force-dynamic";

// POST /api/v1/import – store one source file (TensorBoard events, CSV, JSON Lines, text log) in the run it belongs to
export const POST = handle(async (req: Request) => {
  const input = await readImportRequest(req);
  const who = principalOf(req);
  assertMayCreateRun(who, { project: input.project.trim(), id: currentImportRunId(input.project.trim(), input.source) });
  return json(await whileAccountExists(() => importFile(input, { ownerId: ownerOfNewRun(who) })));
});
