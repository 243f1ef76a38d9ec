import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, type ErrorCode, errorBody } from "../errors";
import { MAX_BODY_BYTES, cutOff, tooLarge } from "./handler";

// The node:http side of the HTTP plumbing: answers written straight to a ServerResponse (the front
// gate and the ingest fast path in server.ts) in the same envelope the route handlers use.

/** Writes a JSON answer; for HEAD, Node leaves the body out and keeps the headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, new AppError(code, message).status, errorBody(code, message), headers);
}

/** Any failure as the envelope; an unexpected one is logged and becomes a generic 500. */
export function sendFailure(res: ServerResponse, err: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (err instanceof AppError) sendError(res, err.code, err.message);
  else {
    console.error("babysit: unhandled error", err);
    sendError(res, "internal", "internal server error");
  }
}

/** Past the limit, a body is still read and dropped up to this many bytes more; beyond, the connection is cut. */
export const DRAIN_BEYOND_LIMIT = 16 * 1024 * 1024;

/**
 * Reads a request body to its end, up to `limit` bytes. An oversize body is still read to its end
 * (and dropped): answering while the client is still writing would reset the connection and it
 * would never see the 413. A client that keeps sending past DRAIN_BEYOND_LIMIT more is cut off:
 * reading gigabytes to drop them is work no request may make the server do.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let over = Number(req.headers["content-length"] ?? 0) > limit;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (over) {
        if (size > limit + DRAIN_BEYOND_LIMIT) req.socket.destroy();
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => (over ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    // a client that goes away or breaks the framing mid-body: the promise must settle, and it is
    // the client's fault, not an error of the server's to log
    req.on("error", () => reject(cutOff()));
    req.on("close", () => {
      if (!req.complete) reject(cutOff());
    });
  });
}
