import http from "node:http";
import next from "next";
import { Server } from "socket.io";
import "./lib/alerts/register";
import "./lib/sweeps/register";
import { authorize } from "./lib/auth/front";
import { modeFrom } from "./lib/auth/mode";
import { startupProblem, teamSocketGate } from "./lib/auth/server-hooks";
import { watchSessionSockets } from "./lib/auth/session-sockets";
import { socketMayFollow } from "./lib/auth/socket-access";
import { SOCKET_HEARTBEAT, SOCKET_PATH } from "./lib/contract/socket";
import { databaseFile } from "./lib/db";
import { answerClientError, answerConnect, answerExpectation, gate } from "./lib/http/gate";
import { setSecurityHeaders } from "./lib/http/headers";
import { DRAIN_SMALL, allowLargeDrain, capUnreadBody, hasBody, readBody, refuseDeclaredBody, sendFailure, withBody } from "./lib/http/node";
import { ListenError, listen } from "./lib/http/listen";
import { configureOwnNames } from "./lib/http/origin";
import { openUrls } from "./lib/http/open-urls";
import { refusalBeforeBody } from "./lib/http/before-body";
import { bodyLimitOf } from "./lib/http/routes";
import { serveOtherUpgrades } from "./lib/http/upgrade";
import { handleLogRequest } from "./lib/ingest/log-request";
import { closingOnRefusal, guardedServer } from "./lib/realtime/handshake";
import { envelopeEngineErrors } from "./lib/realtime/engine-errors";
import { type IOServer, attachRoomRules, setIO } from "./lib/realtime/hub";
import { startRunHousekeeping } from "./lib/runs/delete-run";
import {
  handshakeShare,
  markShareListener,
  markSharePath,
  refuseOtherSharePath,
  sharePortFrom,
  shareListenerAllows,
  shareSocketGate,
  sharedRun,
} from "./lib/shares/share-listener";
import { hashLegacyShares } from "./lib/shares/shares";

// One Node process: Next.js serves pages and the API, socket.io shares its port for live updates.
// Start: `node --import tsx server.ts` (npm start builds and migrates first).

const dev = process.env.NODE_ENV === "development";
const host = process.env.HOST ?? "127.0.0.1";
const port = Number(process.env.PORT ?? 3000);

/**
 * BABYSIT_REQUEST_TIMEOUT_MS (default Node's 300,000): how long a client may take to send a whole
 * request, its headers within at most 60 s of it; past either it gets 408 request_timeout.
 */
function requestTimeouts(): http.ServerOptions {
  const ms = Number(process.env.BABYSIT_REQUEST_TIMEOUT_MS);
  if (!Number.isSafeInteger(ms) || ms < 100) return {};
  // Node checks for expired requests only every connectionsCheckingInterval (30 s by default)
  return { requestTimeout: ms, headersTimeout: Math.min(ms, 60_000), connectionsCheckingInterval: Math.min(30_000, Math.max(50, ms / 4)) };
}

/** Reads settings from the environment; a bad one ends the start with one line saying what is wrong and what is accepted, not a stack. */
function settings<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    console.error(`babysit: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  }
}

async function main() {
  const { sharePort, mode } = settings(() => {
    configureOwnNames(host, process.env.BABYSIT_PUBLIC_URL, process.env.BABYSIT_SHARE_URL); // the names a Host header may give (docs/security.md)
    databaseFile(); // DATABASE_URL
    return {
      // a second listener serving shared links only (lib/shares/share-listener.ts), when set
      sharePort: sharePortFrom(process.env.BABYSIT_SHARE_PORT, port),
      mode: modeFrom(), // local (no accounts) or team (lib/auth, docs/team-mode.md)
    };
  });
  const refusal = startupProblem(mode);
  if (refusal) {
    console.error(refusal);
    process.exit(1);
  }
  const app = next({ dev, hostname: host, port, dir: import.meta.dirname });
  const handler = app.getRequestHandler();
  await app.prepare();
  hashLegacyShares(); // links from before tokens were hashed keep working
  startRunHousekeeping(); // deletions a stop cut short resume; old tombstones are forgotten

  // socket.io: one server, one engine per listener, every engine guarded (lib/realtime/handshake.ts)
  const io: IOServer = guardedServer(() => new Server({ path: SOCKET_PATH, serveClient: false, ...SOCKET_HEARTBEAT }));
  io.use(closingOnRefusal(shareSocketGate())); // a socket naming a link needs a live one; the share-only listener's must name one
  io.use(closingOnRefusal(teamSocketGate(mode))); // team mode: a session, or a live link
  const stopWatching = mode === "team" ? watchSessionSockets() : () => {}; // sockets leave with their session, whatever ended it
  // a run or the runs list by id: only what the socket's user may read, asked at each subscription
  io.on("connection", (socket) => attachRoomRules(socket, sharedRun, handshakeShare(socket), (r) => socketMayFollow(socket, mode, r)));
  setIO(io);

  const continueAsked = new WeakSet<http.IncomingMessage>();

  /** One request on either listener, through the same steps; `sharesOnly`: the share-only listener. */
  const serve = (req: http.IncomingMessage, res: http.ServerResponse, sharesOnly: boolean) => {
    capUnreadBody(req, res); // what is read of a body the answer did not need is bounded
    setSecurityHeaders(req, res, req.url?.startsWith("/api") ?? false, mode === "team");
    if (sharesOnly && !shareListenerAllows(req, res)) return;
    const front = gate(req, res); // malformed URLs, methods and unknown /api paths end here
    if (front.kind === "answered") return;
    if (refuseOtherSharePath(req, res)) return; // never a login redirect carrying a token
    // a body over its route's limit is refused from its Content-Length, before anything reads it
    const limit = bodyLimitOf(front.kind === "api" ? front.match : null, req.method ?? "");
    if (limit > DRAIN_SMALL) allowLargeDrain(req); // a client sending a large batch reads its 413 or 401 after sending it all
    if (refuseDeclaredBody(req, res, limit)) return;
    if (!authorize(req, res, front, mode)) return; // who is asking, and may they (lib/auth/route-access.ts)
    markSharePath(req, res);
    // what the head decides (the project a key may write to, the query, the run) is answered before
    // a byte of a possibly large body is read (lib/http/before-body.ts)
    const early = front.kind === "api" ? refusalBeforeBody(req, front.match) : null;
    if (early) return void sendFailure(res, early);
    // a client that asked (Expect: 100-continue) sends its body only now, once nothing above refused it
    if (continueAsked.has(req)) res.writeContinue();
    // A body may take up to the request timeout to arrive, and the world changes meanwhile (the
    // account is disabled, the key revoked, the run given away): the check above refuses early and
    // cheaply, and access is decided again, with the same functions, once the body is all here and
    // before anything acts on it. Route handlers then read the principal of that second check.
    // Nor does a request act once it has been answered: a body that arrives after the request timeout
    // got 408 "send it again" on the socket (lib/http/gate.ts), and acting on it as well would change
    // data the client was told was not taken.
    const answered = () => res.headersSent || res.writableEnded || req.socket.writableEnded || req.socket.destroyed;
    const recheck = () => !answered() && authorize(req, res, front, mode);
    if (!sharesOnly && front.kind === "api" && front.match.route.path === "/api/v1/runs/[id]/log" && req.method === "POST") {
      return void handleLogRequest(req, res, front.match.params.get("id") ?? "", recheck);
    }
    if (front.kind === "api" && hasBody(req)) {
      // read here (counted: 413 at once past the limit, streamed or not), checked again, then handed over read
      return void readBody(req, limit)
        .then((body) => (recheck() ? handler(withBody(req, body), res) : undefined))
        .catch((err) => sendFailure(res, err));
    }
    handler(req, res).catch((err) => sendFailure(res, err));
  };

  /** A listener: the HTTP server, its error answers, and socket.io's endpoint on it (guarded). */
  const listener = (sharesOnly: boolean) => {
    // requireHostHeader: the gate answers a request without Host with the envelope, not a bare 400
    const srv = http.createServer({ requireHostHeader: false, ...requestTimeouts() }, (req, res) => serve(req, res, sharesOnly));
    srv.on("clientError", answerClientError);
    srv.on("connect", answerConnect);
    srv.on("checkExpectation", answerExpectation);
    // instead of Node's own 100 Continue at once: serve() sends it once the head is let in
    srv.on("checkContinue", (req, res) => {
      continueAsked.add(req);
      srv.emit("request", req, res);
    });
    serveOtherUpgrades(srv, SOCKET_PATH, dev && !sharesOnly); // `Upgrade: h2c` and the like: served as plain HTTP/1.1
    io.attach(srv);
    envelopeEngineErrors(srv, SOCKET_PATH); // engine.io's own refusals become the error envelope
    if (sharesOnly) {
      // first of all listeners: every request and upgrade here is marked as the share listener's, which
      // is what the socket gate reads (a polling socket's TCP connection says nothing once closed)
      srv.prependListener("request", markShareListener);
      srv.prependListener("upgrade", markShareListener);
    }
    return srv;
  };

  const server = listener(false);
  if (sharePort !== null) {
    const shares = listener(true);
    await listen(shares, sharePort, host, "BABYSIT_SHARE_PORT");
    console.log(`babysit serving shared links only on http://${host}:${sharePort}`);
  }

  await listen(server, port, host, "PORT");
  const addr = server.address();
  const actual = typeof addr === "object" && addr ? addr.port : port;
  console.log(`babysit listening on http://${host}:${actual}${mode === "team" ? " (team mode: log in at /login)" : ""}`);
  // 0.0.0.0 is no address to give a colleague: name the ones that are (BABYSIT_PUBLIC_URL, or this machine's)
  const urls = openUrls(host, actual, process.env.BABYSIT_PUBLIC_URL);
  if (urls.length && (urls[0] !== `http://${host}:${actual}/` || mode === "team")) {
    console.log(`babysit: open ${mode === "team" ? "(and log in) " : ""}at ${urls.join("  or  ")}`);
  }

  const stop = () => {
    stopWatching();
    io.close();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(err instanceof ListenError ? err.message : err);
  process.exit(1);
});
