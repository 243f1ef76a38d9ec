import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { AppError, type ErrorCode, errorBody, isErrorCode } from "../errors";
import { rawSecurityHeaderLines, setSecurityHeaders } from "../http/headers";
import { versionRefusal } from "../http/gate";
import { sendError } from "../http/node";

// socket.io's endpoint is served by engine.io, which answers every refusal its own way: a JSON body
// {"code":0,"message":"Transport unknown"} (400 or 403), bare 400/413/500 answers from the polling
// transport, text/html answers to upgrades (engine.io's and ws's), and a plain GET naming a
// websocket session no answer at all. Every refusal on the path gets babysit's one error envelope
// instead, with a status that says what was wrong. engine.io stays in charge of deciding; these
// wrappers only rewrite how a refusal is written.

/** engine.io's error codes (Server.errors) as babysit's. */
const ENGINE_CODES: Record<number, { code: ErrorCode; message: string; allow?: string }> = {
  0: { code: "invalid_query", message: "unknown transport: use transport=polling or transport=websocket" },
  1: { code: "invalid_query", message: "unknown session id (sid): the session ended or never existed; connect again" },
  2: { code: "method_not_allowed", message: "a socket.io handshake is a GET request", allow: "GET" },
  3: { code: "bad_request", message: "malformed socket.io request" },
  4: { code: "forbidden", message: "the socket.io connection was refused" },
  5: { code: "invalid_query", message: "unsupported engine.io protocol version: socket.io clients 3 and 4 send EIO=4" },
};

/** engine.io's messages (Server.errorMessages), which is all an upgrade refusal carries. */
const ENGINE_MESSAGES = new Map<string, number>([
  ["Transport unknown", 0],
  ["Session ID unknown", 1],
  ["Bad handshake method", 2],
  ["Bad request", 3],
  ["Forbidden", 4],
  ["Unsupported protocol version", 5],
]);

/** What a refusal written as `status` with `body` becomes. */
function translate(status: number, body: string, method: string): { code: ErrorCode; message: string; allow?: string } {
  if (body.startsWith("{")) {
    try {
      const engine = JSON.parse(body) as { code?: unknown; error?: { code?: unknown; message?: unknown } };
      if (typeof engine.code === "number" && ENGINE_CODES[engine.code]) return ENGINE_CODES[engine.code];
      // already the envelope (lib/realtime/handshake.ts refusing another origin or Host): kept as it is
      const e = engine.error;
      if (e && typeof e.code === "string" && typeof e.message === "string" && isErrorCode(e.code)) return { code: e.code, message: e.message };
    } catch {
      // not engine.io's JSON: by status below
    }
  }
  const known = ENGINE_MESSAGES.get(body);
  if (known !== undefined) return ENGINE_CODES[known];
  if (status === 413) return { code: "payload_too_large", message: "the socket.io message is larger than the server accepts" };
  // the polling transport answers 500 to a method other than GET and POST
  if (status === 500 || status === 405) {
    return { code: "method_not_allowed", message: `${method.slice(0, 40)} is not allowed on a socket.io session`, allow: "GET, POST" };
  }
  if (status === 403) return ENGINE_CODES[4];
  // ws's reasons (a missing Sec-WebSocket-Key, an unsupported version) are plain text worth keeping
  const reason = body && body.length <= 200 && /^[\x20-\x7e]+$/.test(body) ? `: ${body}` : "";
  return { code: "bad_request", message: `malformed socket.io request${reason}` };
}

function isRefusal(status: number): boolean {
  return status >= 400 && status !== 503; // 503: ws while the server shuts down, not the client's fault
}

/** Makes a response's error answer (a 4xx or 500 written by engine.io) the envelope. */
function envelopeResponse(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  const end = res.end;
  let refused: number | undefined;
  const chunks: string[] = [];
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    if (!isRefusal(status)) return (writeHead as (...a: unknown[]) => ServerResponse).call(this, status, ...rest);
    refused = status;
    return this;
  } as typeof res.writeHead;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (refused === undefined) return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    if (typeof chunk === "string" || Buffer.isBuffer(chunk)) chunks.push(chunk.toString());
    res.writeHead = writeHead;
    res.end = end;
    const t = translate(refused, chunks.join(""), req.method ?? "");
    sendError(res, t.code, t.message, t.allow ? { allow: t.allow } : {});
    return this;
  } as typeof res.end;
}

/** The HTTP status line, headers and body of a refusal written straight to an upgrade's socket. */
const STATUS_TEXT: Record<number, string> = { 403: "Forbidden", 405: "Method Not Allowed", 413: "Payload Too Large", 421: "Misdirected Request" };

function rawAnswer(code: ErrorCode, message: string, allow?: string): string {
  const status = new AppError(code, message).status;
  const body = JSON.stringify(errorBody(code, message));
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Bad Request"}\r\n` +
    `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    rawSecurityHeaderLines()
      .map((h) => `${h}\r\n`)
      .join("") +
    `${allow ? `Allow: ${allow}\r\n` : ""}\r\n${body}`
  );
}

/**
 * The upgrade's answer (engine.io's or ws's, written to the socket now or later: the engine's
 * middlewares may run after `fn` returns) is rewritten as the envelope when it is a refusal. The
 * socket's own write and end come back with the first HTTP answer written, refusal or 101.
 */
function envelopeUpgrade(req: IncomingMessage, socket: Duplex, fn: () => void): void {
  const write = socket.write;
  const end = socket.end;
  const rewrite = (chunk: unknown): unknown => {
    if (typeof chunk !== "string" && !Buffer.isBuffer(chunk)) return chunk;
    const text = chunk.toString("latin1");
    if (!text.startsWith("HTTP/1.1 ")) return chunk;
    socket.write = write;
    socket.end = end;
    const status = Number(text.slice(9, 12));
    if (!isRefusal(status)) return chunk;
    const at = text.indexOf("\r\n\r\n");
    const t = translate(status, at < 0 ? "" : text.slice(at + 4), req.method ?? "");
    return rawAnswer(t.code, t.message, t.allow);
  };
  socket.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
    return (write as (...a: unknown[]) => boolean).call(this, rewrite(chunk), ...rest);
  } as typeof socket.write;
  socket.end = function (this: Duplex, chunk?: unknown, ...rest: unknown[]) {
    return (end as (...a: unknown[]) => Duplex).call(this, typeof chunk === "function" ? chunk : rewrite(chunk), ...rest);
  } as typeof socket.end;
  fn();
}

/** The transport a request names, read as engine.io reads it (the last value wins). */
function transportOf(url: string): string | undefined {
  const q = url.indexOf("?");
  return q < 0 ? undefined : (new URLSearchParams(url.slice(q + 1)).getAll("transport").at(-1) ?? undefined);
}

/**
 * Wraps the request and upgrade listeners engine.io installed on `server` (call right after
 * `new Server(server, { path })`), so that every refusal on `path` is the error envelope.
 */
export function envelopeEngineErrors(server: HttpServer, path: string): void {
  const prefix = `${path.replace(/\/$/, "")}/`;
  const mine = (req: IncomingMessage) => (req.url ?? "").startsWith(prefix);

  const requestListeners = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (mine(req)) {
      // every answer on the path, engine.io's included, carries the API's headers (docs/security.md)
      setSecurityHeaders(req, res, true);
      const version = versionRefusal(req); // as the front gate refuses it on every other path
      if (version) return void sendError(res, "bad_request", version);
      // the websocket transport only answers upgrades: engine.io would leave this request hanging
      // when it names an open websocket session
      if (transportOf(req.url ?? "") === "websocket") {
        sendError(res, "bad_request", "transport=websocket needs an Upgrade: websocket request; plain HTTP uses transport=polling");
        return;
      }
      envelopeResponse(req, res);
    }
    for (const l of requestListeners) l.call(server, req, res);
  });

  const upgradeListeners = server.listeners("upgrade") as ((req: IncomingMessage, socket: Duplex, head: Buffer) => void)[];
  server.removeAllListeners("upgrade");
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const call = () => {
      for (const l of upgradeListeners) l.call(server, req, socket, head);
    };
    if (mine(req)) envelopeUpgrade(req, socket, call);
    else call();
  });
}
