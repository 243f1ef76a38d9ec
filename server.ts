import http from "node:http";
import next from "next";
import { Server } from "socket.io";
import "./lib/alerts/register";
import { LOG_PATH, handleLogRequest } from "./lib/ingest/log-request";
import { SOCKET_PATH } from "./lib/contract/socket";
import { type IOServer, attachRoomRules, setIO } from "./lib/realtime/hub";
import { runIdForToken } from "./lib/shares/shares";

// One Node process: Next.js serves pages and the API, socket.io shares its port for live updates.
// Start: `node --import tsx server.ts` (npm start builds and migrates first).

const dev = process.env.NODE_ENV === "development";
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);

function sharedRun(token: string): string | null {
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

  const io: IOServer = new Server(server, { path: SOCKET_PATH, serveClient: false });
  io.on("connection", (socket) => attachRoomRules(socket, sharedRun));
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
