import { type IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Server } from "socket.io";
import { type ErrorCode, errorBody } from "../errors";
import { rawSecurityHeaderLines, setSecurityHeaders } from "../http/headers";
import { sendError } from "../http/node";
import { type Refusal, crossOriginRefusal, hostRefusal } from "../http/origin";

// socket.io's requests (long-polling and the WebSocket upgrade) never reach the front gate: its
// engine answers them before server.ts's handler. The same two checks run here, on every one of
// them: a Host that is not this server's (421 unknown_host) and a page of another origin (403
// cross_origin) get the error envelope and no socket, so no subscription and no live data.
// A WebSocket is never subject to CORS: without this, any page could open one and listen.

const REASONS: Record<number, string> = { 403: "Forbidden", 421: "Misdirected Request" };

/**
 * A socket.io server whose every engine runs the checks: the one made for each HTTP listener it is
 * attached to (`io.attach(server)` makes a new engine per listener and binds it through `io.bind`),
 * so no listener can be given a socket.io endpoint without them. server.ts makes its server here.
 */
export function guardedServer<S extends Server<any, any, any, any>>(make: () => S): S {
  const io = make();
  const bind = io.bind.bind(io);
  (io as { bind: (engine: Server["engine"]) => unknown }).bind = (engine) => {
    guardEngine(engine);
    return bind(engine);
  };
  if (io.engine) guardEngine(io.engine); // made with a listener already: bound before bind was wrapped
  return io;
}

const guarded = new WeakSet<object>();

function guardEngine(engine: Server["engine"]): void {
  if (guarded.has(engine)) return;
  guarded.add(engine);
  engine.use((req: IncomingMessage, res: ServerResponse, next: (err?: Error) => void) => {
    const refused = hostRefusal(req) ?? crossOriginRefusal(req);
    // an upgrade's `res` is the engine's stand-in, not a ServerResponse: the answer goes on the socket
    const upgrade = !(res instanceof ServerResponse);
    if (!refused) {
      if (!upgrade) setSecurityHeaders(req, res, true);
      return next();
    }
    // answered here; `next` is not called, so the engine does nothing more with the request
    if (upgrade) refuseUpgrade(req.socket, refused);
    else {
      setSecurityHeaders(req, res, true);
      sendError(res, refused.code, refused.message);
    }
  });
}

function refuseUpgrade(socket: Socket, refused: Refusal): void {
  const status = refused.code === "unknown_host" ? 421 : 403;
  const body = JSON.stringify(errorBody(refused.code, refused.message));
  socket.on("error", () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `${rawSecurityHeaderLines()
        .map((h) => `${h}\r\n`)
        .join("")}connection: close\r\n\r\n${body}`,
  );
}

/**
 * A socket.io middleware's refusal: the client's `connect_error` gets `message` as err.message and
 * the error envelope `{ error: { code, message } }` as err.data, as an HTTP refusal would carry.
 */
export function socketRefusal(code: ErrorCode, message: string, summary: string = message): Error & { data: ReturnType<typeof errorBody> } {
  return Object.assign(new Error(summary), { data: errorBody(code, message) });
}

type Middleware<S> = (socket: S, next: (err?: Error) => void) => void;

/**
 * A socket.io middleware whose refusal also ends the engine.io connection under the socket, once
 * the refusal has gone out: socket.io alone keeps it open (for other namespaces) until its connect
 * timeout, so a peer refused at connect could still hold a connection per attempt.
 */
export function closingOnRefusal<S extends { conn: { close(): void } }>(gate: Middleware<S>): Middleware<S> {
  return (socket, next) =>
    gate(socket, (err) => {
      next(err);
      // socket.io sends the refusal on the next tick; the engine closes once it is written
      if (err) setImmediate(() => socket.conn.close());
    });
}
