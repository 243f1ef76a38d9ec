import type { IncomingMessage, ServerResponse } from "node:http";
import { checkJsonType, parseJsonBytes } from "../http/handler";
import { readBody, sendFailure, sendJson } from "../http/node";
import { runBusy, runFree } from "../runs/run-lock";
import { parseLogBatch } from "../schemas/parse-log-batch";
import { appendBatch } from "./append-batch";

// POST /api/v1/runs/{id}/log straight from node:http, ahead of Next.js. Ingest is the one hot
// path: Next's web Request/Response streams cost as much per batch as storing it (bench/ingest.ts),
// so server.ts hands this route here once the front gate (lib/http/gate.ts) has matched it and
// decoded the id; it is the only route for it (a path Next.js would route differently, such as
// /api/v1/runs/{id}/./log, is refused by the gate with the error envelope: tests/api/log-route.test.ts).

/**
 * `stillAllowed`: decides access again once the body is read and parsed, before anything is stored
 * (a key revoked while a batch was uploading must not store it); false when it has answered (401/403).
 */
export async function handleLogRequest(
  req: IncomingMessage,
  res: ServerResponse,
  runId: string,
  stillAllowed: () => boolean = () => true,
): Promise<void> {
  try {
    const bytes = await readBody(req); // over bodyBytes: 413 at once (lib/http/node.ts bounds what is dropped after)
    checkJsonType(req.headers["content-type"]);
    const batch = parseLogBatch(parseJsonBytes(bytes, { code: "invalid_batch" }));
    if (!stillAllowed()) return;
    // an import is storing a file into this run: the batch goes in after it (lib/runs/run-lock.ts)
    if (runBusy(runId)) {
      await runFree(runId);
      if (!stillAllowed()) return;
    }
    sendJson(res, 200, appendBatch(runId, batch));
  } catch (err) {
    sendFailure(res, err);
  }
}
