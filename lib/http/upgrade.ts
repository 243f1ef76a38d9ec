import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";

// Node hands every request that says `Connection: Upgrade` to the server's 'upgrade' listeners and
// never to 'request' once there is one (socket.io's), and socket.io would drop the connection of
// any upgrade that is not its own WebSocket: `curl --http2` (Upgrade: h2c), or a POST /log behind
// a proxy that adds `Upgrade`, got an empty reply and the batch was lost. This server switches
// protocols for socket.io's WebSocket only; every other upgrade request is served as the plain
// HTTP/1.x request it also is (the client's offer to switch is declined by answering normally).

/** Headers that only ask to switch protocols: dropped when the request is served as it is. */
const UPGRADE_ONLY = new Set(["upgrade", "connection", "http2-settings"]);

/**
 * Makes `server` switch protocols only for socket.io's WebSocket on `socketPath` (and, with `dev`,
 * Next.js's own WebSockets under /_next/, for hot reload): every other upgrade request is served
 * as a plain request. This sits in front of every 'upgrade' listener, including the one Next.js adds
 * on its first request (which would close the connection of an upgrade it does not know).
 */
export function serveOtherUpgrades(server: Server, socketPath: string, dev: boolean): void {
  const prefix = `${socketPath.replace(/\/$/, "")}/`;
  const emit = server.emit;
  server.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === "upgrade") {
      const [req, socket, head] = args as [IncomingMessage, Duplex, Buffer];
      const url = req.url ?? "";
      const websocket = (req.headers.upgrade ?? "").trim().toLowerCase() === "websocket";
      if (!(websocket && (url.startsWith(prefix) || (dev && url.startsWith("/_next/"))))) {
        serveWithoutUpgrade(server, req, socket, head);
        return true;
      }
    }
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof server.emit;
}

/**
 * Serves an upgrade request as a plain request: its head is written again without the upgrade
 * headers, put back in front of what the client sent after it (its body, further requests), and
 * the connection is handed to `server`'s HTTP parser as if it had just been opened.
 */
export function serveWithoutUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (!UPGRADE_ONLY.has(req.rawHeaders[i].toLowerCase())) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  }
  // what Connection said besides Upgrade (close, keep-alive) still holds
  const keep = (req.headers.connection ?? "")
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t === "close" || t === "keep-alive");
  if (keep.length) lines.push(`Connection: ${keep.join(", ")}`);
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), head]));
  server.emit("connection", socket);
}
