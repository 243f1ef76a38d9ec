import "@/lib/alerts/register";
import { whileAccountExists } from "@/lib/auth/account-gone";
import { ownerOfNewRun } from "@/lib/auth/permissions";
import { principalOf } from "@/lib/auth/request";
import { handle, json } from "@/lib/http/handler";
import { importFile } from "@/lib/import/import-file";
import { readImportRequest } from "@/lib/import/import-request";

export const dynamic = "force-dynamic";

// POST /api/v1/import – store one source file (TensorBoard events, CSV, JSON Lines, text log) in the run it belongs to
export const POST = handle(async (req: Request) => {
  const who = principalOf(req);
  // the server asked the same of the request's head before reading its body (lib/http/before-body.ts)
  const input = await readImportRequest(req, who);
  return json(await whileAccountExists(() => importFile(input, { ownerId: ownerOfNewRun(who) })));
});
