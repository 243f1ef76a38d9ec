import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, errorBody } from "../errors";
import { MAX_BODY_BYTES, checkJsonType, parseJsonText, tooLarge } from "../http/handler";
import { parseLogBatch } from "../schemas/parse-log-batch";
import { appendBatch } from "./append-batch";

// POST /api/v1/runs/{id}/log straight from node:http, ahead of Next.js. Ingest is the one hot
// path: Next's web Request/Response streams cost as much per batch as storing it (bench/ingest.ts),
// so server.ts hands this route here; it is the only one (a path Next.js would route differently,
// such as /api/v1/runs/{id}/./log, gets the API's 404 envelope: tests/api/log-route.test.ts).

export const LOG_PATH = /^\/api\/v1\/runs\/([^/?#]+)\/log\/?(?:\?.*)?$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    // An oversize body is still read to its end (and dropped): answering while the client is
    // still writing would reset the connection and it would never see the 413.
    let over = Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      if (over) return; // drain the rest unread, then answer 413
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}

export async function handleLogRequest(req: IncomingMessage, res: ServerResponse, runId: string): Promise<void> {
  try {
    const text = await readBody(req); // read first in every case, so that any answer reaches the client
    checkJsonType(req.headers["content-type"]);
    const batch = parseLogBatch(parseJsonText(text));
    send(res, 200, appendBatch(decodeURIComponent(runId), batch));
  } catch (err) {
    if (err instanceof AppError) return send(res, err.status, errorBody(err.code, err.message));
    console.error("babysit: unhandled error", err);
    send(res, 500, errorBody("internal", "internal server error"));
  }
}
