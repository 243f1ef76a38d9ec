import http from "node:http";
import next from "next";
import { Server } from "socket.io";
import "./lib/alerts/register";
import { LOG_PATH, handleLogRequest } from "./lib/ingest/log-request";
import { setIO, RUNS_ROOM, runRoom, shareRoom } from "./lib/realtime/hub";
import { runIdForToken } from "./lib/shares/shares";

// One Node process: Next.js serves pages and the API, socket.io shares its port for live updates.
// Start: `node --import tsx server.ts` (npm start builds and migrates first).

const dev = process.env.NODE_ENV === "development";
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);

function sharedRun(token: unknown): string | null {
  try {
    return runIdForToken(token);
  } catch {
    return null; // revoked or unknown: no room
  }
}

async function main() {
  const app = next({ dev, hostname: host, port, dir: import.meta.dirname });
  const handler = app.getRequestHandler();
  await app.prepare();

  const server = http.createServer((req, res) => {
    const log = req.method === "POST" ? LOG_PATH.exec(req.url ?? "") : null;
    if (log) return void handleLogRequest(req, res, log[1]);
    handler(req, res).catch((err) => {
      console.error("babysit: request failed", err);
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "internal", message: "internal server error" } }));
      }
    });
  });

  const io = new Server(server, { path: "/socket.io", serveClient: false });
  io.on("connection", (socket) => {
    socket.on("subscribe", (msg: { run?: unknown; runs?: unknown; share?: unknown }) => {
      if (typeof msg?.run === "string") socket.join(runRoom(msg.run));
      if (msg?.runs === true) socket.join(RUNS_ROOM);
      if (msg?.share !== undefined) {
        const runId = sharedRun(msg.share); // a shared page: the run's room, through its token only
        if (runId) socket.join([shareRoom(msg.share as string), runRoom(runId)]);
      }
    });
    socket.on("unsubscribe", (msg: { run?: unknown; runs?: unknown; share?: unknown }) => {
      if (typeof msg?.run === "string") socket.leave(runRoom(msg.run));
      if (msg?.runs === true) socket.leave(RUNS_ROOM);
      if (msg?.share !== undefined) {
        const runId = sharedRun(msg.share);
        socket.leave(shareRoom(String(msg.share)));
        if (runId) socket.leave(runRoom(runId));
      }
    });
  });
  setIO(io);

  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  console.log(`babysit listening on http://${host}:${actual}`);

  const stop = () => {
    io.close();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
