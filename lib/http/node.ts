import { IncomingMessage, type ServerResponse } from "node:http";
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

/**
 * After an answer written before the request's body was all read (a 413, a 401, any refusal), the
 * server still reads and drops at most this many more bytes (routes with large bodies, see
 * allowLargeDrain; DRAIN_SMALL for the others), for at most DRAIN_MS: closing at once
 * would reset a connection the client is still writing to, and it would never read the answer (a
 * client that sends its whole body before reading, such as Python's http.client, gets its 413).
 * Past either, the connection is closed: dropping gigabytes is work no request may make the server do.
 */
export const DRAIN_BEYOND_LIMIT = 16 * 1024 * 1024;
export const DRAIN_MS = 10_000;
/** The same for a route whose body limit is small (login, keys, pages...): no client of theirs sends more. */
export const DRAIN_SMALL = 1024 * 1024;

const drainAllowance = new WeakMap<IncomingMessage, number>();

/** Lets up to DRAIN_BEYOND_LIMIT be dropped after an early answer to `req` (routes with large bodies: SDKs send whole batches before reading). */
export function allowLargeDrain(req: IncomingMessage): void {
  drainAllowance.set(req, DRAIN_BEYOND_LIMIT);
}

/** server.ts calls this first for every request: bounds what is read of a body after the answer (above). */
export function capUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  // after Node's own 'finish' listener, which dumps (resumes) an unread body and drops its 'data' listeners
  res.once("finish", () => {
    const socket = req.socket;
    if (req.complete || req.destroyed || !socket) return;
    let dropped = 0;
    // counted on the socket: Node's parser hands a dumped request's body to no 'data' listener
    const count = (c: Buffer) => {
      if (req.complete) return stop();
      dropped += c.length;
      if (dropped > (drainAllowance.get(req) ?? DRAIN_SMALL)) socket.destroy();
    };
    const stop = () => {
      clearTimeout(timer);
      socket.off("data", count);
    };
    const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
    timer.unref();
    socket.on("data", count);
    socket.once("close", stop);
    req.once("end", stop);
  });
}

/** The declared body length, or null when the body is streamed (chunked) or absent. */
function declaredLength(req: IncomingMessage): number | null {
  const v = req.headers["content-length"];
  return v === undefined ? null : Number(v);
}

/** Whether a request comes with body bytes: a non-zero Content-Length, or a streamed (chunked) body. */
export function hasBody(req: IncomingMessage): boolean {
  const n = declaredLength(req);
  return n === null ? req.headers["transfer-encoding"] !== undefined : n > 0;
}

/**
 * Answers 413 at once when the request's Content-Length is over `limit`, without reading any of the
 * body (capUnreadBody then bounds what is dropped). True when answered.
 */
export function refuseDeclaredBody(req: IncomingMessage, res: ServerResponse, limit: number): boolean {
  const n = declaredLength(req);
  if (n === null || !(n > limit)) return false;
  sendFailure(res, tooLarge(limit));
  return true;
}

/**
 * Reads a request body to its end, up to `limit` bytes. Rejects with payload_too_large as soon as
 * the Content-Length or the bytes streamed so far exceed it, without reading the rest (the caller
 * answers at once; capUnreadBody bounds what is then dropped).
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = declaredLength(req);
    if (declared !== null && declared > limit) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    // a client that goes away or breaks the framing mid-body: the promise must settle, and it is
    // the client's fault, not an error of the server's to log
    req.on("error", () => reject(cutOff()));
    req.on("close", () => {
      if (!req.complete) reject(cutOff());
    });
  });
}

/**
 * A request with the same head as `req` and `body` as its (already read) body, for Next.js: a
 * streamed body has to be read, and counted, before Next.js sees the request, and a Node request
 * is read once. Its socket is `req`'s (address, TLS), its answer still goes to `req`'s response.
 */
export function withBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.rawHeaders = req.rawHeaders;
  // the body is no longer streamed: it is `body`, of this length
  const headers = { ...req.headers, "content-length": String(body.length) };
  delete headers["transfer-encoding"];
  copy.headers = headers;
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}
