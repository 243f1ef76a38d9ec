import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { LIMITS } from "../contract/limits";
import type { ErrorCode } from "../errors";
import { rawSecurityHeaderLines, setSecurityHeaders } from "./headers";
import { sendError } from "./node";
import { pathSegmentProblem } from "./path-segments";
import { hostRefusal, writeRefusal } from "./origin";
import { API_ROUTES, allowOf, matchRoute, type RouteMatch } from "./routes";

// The front gate: every request passes here in server.ts before Next.js or the ingest fast path
// sees it. Whatever is malformed at the HTTP level (URL, percent-encoding, method, path) is
// answered here with the error envelope, so that no route, page or Next.js internal ever has to
// cope with it (Next.js answers some of these with a 500, an HTML page or an empty 405).

/** Methods on anything that is not /api: pages and Next.js assets are only ever read. */
const PAGE_METHODS = ["GET"] as const;
const ALL_METHODS = [...new Set(API_ROUTES.flatMap((r) => r.methods))];

export type GateResult =
  /** Answered here; nothing more to do. */
  | { kind: "answered" }
  /** An /api route: `match.params` holds its decoded path parameters. */
  | { kind: "api"; match: RouteMatch }
  /** Not /api: a page or an asset, for Next.js. */
  | { kind: "page" };

function decodeSegments(path: string): string[] | null {
  const out: string[] = [];
  for (const raw of path.split("/").slice(1)) {
    try {
      out.push(decodeURIComponent(raw));
    } catch {
      return null;
    }
  }
  return out;
}

/** True when every name and value of the query string is valid percent-encoded UTF-8. */
function queryDecodes(query: string): boolean {
  for (const part of query.split("&")) {
    try {
      decodeURIComponent(part.replaceAll("+", " "));
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Node's parser takes `HTTP/2.0` and a request line without a version (HTTP/0.9) as well as 1.0 and
 * 1.1; only 1.0 and 1.1 are served (HTTP/2 is not spoken here, and an HTTP/0.9 request has no
 * headers to check). The message to refuse with, or null.
 */
export function versionRefusal(req: IncomingMessage): string | null {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor <= 1) return null;
  return `HTTP/${req.httpVersion.slice(0, 10)} is not served here: send an HTTP/1.1 (or 1.0) request`;
}

export function gate(req: IncomingMessage, res: ServerResponse): GateResult {
  const url = req.url ?? "";
  const method = req.method ?? "";
  const answer = (code: ErrorCode, message: string, headers?: Record<string, string>): GateResult => {
    sendError(res, code, message, headers);
    return { kind: "answered" };
  };

  const version = versionRefusal(req);
  if (version) return answer("bad_request", version);
  // HTTP/1.1 requires Host; Node's own check would answer a bare 400 with no body (server.ts turns
  // it off with requireHostHeader: false so that the answer is the envelope)
  if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    return answer("bad_request", "the request has no Host header (HTTP/1.1 requires one)");
  }
  const misdirected = hostRefusal(req); // DNS rebinding: a name that is not this server's
  if (misdirected) return answer(misdirected.code, misdirected.message);
  // Node keeps the first of two Content-Type headers; a proxy may read the other: refused, as two charsets are
  if ((req.headersDistinct["content-type"]?.length ?? 0) > 1) {
    return answer("unsupported_media_type", "the request has more than one Content-Type header; give one");
  }
  if (url.length > LIMITS.urlBytesMax.value) {
    return answer("uri_too_long", `the URL is ${url.length} bytes; at most ${LIMITS.urlBytesMax.value} are served`);
  }
  if (url === "*" && method === "OPTIONS") {
    res.writeHead(204, { allow: allowOf(ALL_METHODS) }).end();
    return { kind: "answered" };
  }
  if (!url.startsWith("/")) return answer("invalid_url", "the request target must be a path starting with /");
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    // Node hands bytes >= 0x80 through as latin-1 characters; every client percent-encodes them
    if (c <= 0x20 || c >= 0x7f || c === 0x23) {
      return answer("invalid_url", `the URL holds a character that must be percent-encoded (${c === 0x23 ? "#" : `byte ${c}`} at ${i})`);
    }
  }
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  // Next.js answers these with a 308 to another path (text/plain): a path names one thing or none
  if (path.includes("\\")) return answer("invalid_url", "the URL path must not hold a backslash (a path separator is /)");
  if (path.includes("//")) return answer("invalid_url", "the URL path must not hold an empty segment (//)");
  const segments = decodeSegments(path);
  if (!segments) return answer("invalid_url", "the URL path is not valid percent-encoded UTF-8");
  // Next.js resolves . and .. (also as %2e) before routing, so /runs/./finish would reach another
  // route than the one matched here: a path holding them (in any disguise) is refused instead
  const segmentProblem = pathSegmentProblem(segments);
  if (segmentProblem) return answer("invalid_url", segmentProblem);
  if (q >= 0 && !queryDecodes(url.slice(q + 1))) return answer("invalid_query", "the query string is not valid percent-encoded UTF-8");

  if (segments[0] !== "api") {
    if (method === "GET" || method === "HEAD") return { kind: "page" };
    if (method === "OPTIONS") {
      res.writeHead(204, { allow: allowOf(PAGE_METHODS) }).end();
      return { kind: "answered" };
    }
    return answer("method_not_allowed", `${method} is not allowed on ${path.slice(0, 200)}`, { allow: allowOf(PAGE_METHODS) });
  }

  // one trailing slash is the same route: Next.js would redirect (308, text/plain) to the path
  // without it, so Next.js is handed that path (the ingest fast path reads the match, not the URL)
  const slash = segments.length > 1 && segments.at(-1) === "";
  const match = matchRoute(slash ? segments.slice(0, -1) : segments);
  if (!match || (slash && match.route.exactPath)) return answer("not_found", `no API route ${path.slice(0, 200)}`);
  if (slash) req.url = path.slice(0, -1) + (q < 0 ? "" : url.slice(q));
  const methods: readonly string[] = match.route.methods;
  if (method === "OPTIONS") {
    res.writeHead(204, { allow: allowOf(methods) }).end();
    return { kind: "answered" };
  }
  if (methods.includes(method) || (method === "HEAD" && methods.includes("GET"))) {
    const refused = writeRefusal(req, match.route.binary); // another site's page, or a body not declared as JSON (or bytes)
    return refused ? answer(refused.code, refused.message) : { kind: "api", match };
  }
  return answer("method_not_allowed", `${method} is not allowed on ${match.route.path}; use ${methods.join(" or ")}`, {
    allow: allowOf(methods),
  });
}

// How much of a request the server reads after the HTTP parser gave up on it, so that a client
// still sending a long URL or header gets to read the answer instead of a reset connection.
const DRAIN_BYTES = 1024 * 1024;

/**
 * The server's `clientError` handler: a request Node's HTTP parser refused (an unknown method, a
 * URL or header beyond Node's header size limit, malformed framing) gets the envelope too.
 */
export function answerClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket): void {
  // an answer already on its way (the framing broke mid-body) cannot be replaced by this one
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  // bytes after a request that said `Connection: close` (also `close, Upgrade`): RFC 9112 §9.6, the
  // server answers that request and closes, processing nothing after it. The answer is still on its
  // way (an error answer here would take its place), and Node closes the connection after it.
  if (err.code === "HPE_CLOSED_CONNECTION") return;
  if (!socket.writable || err.code === "ECONNRESET" || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const raw = err.rawPacket ?? Buffer.alloc(0);
  const lineEnd = raw.indexOf("\r\n");
  const firstLine = raw.toString("latin1", 0, lineEnd < 0 ? Math.min(raw.length, 200) : lineEnd);
  // the request line alone past the URL limit: it is the URL that is too long, not the headers
  const longUrl = lineEnd < 0 || lineEnd > LIMITS.urlBytesMax.value;
  let status = 400;
  let code = "bad_request";
  let message = `malformed HTTP request (${err.code ?? "parse error"})`;
  const headers: string[] = [];
  if (err.code === "HPE_HEADER_OVERFLOW") {
    [status, code] = longUrl ? [414, "uri_too_long"] : [431, "headers_too_large"];
    message = longUrl ? `the URL is too long; at most ${LIMITS.urlBytesMax.value} bytes are served` : "the request headers are too large";
  } else if (err.code === "HPE_INVALID_URL") {
    [code, message] = ["invalid_url", "the URL holds a character that must be percent-encoded"];
  } else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    // headersTimeout or requestTimeout ran out (a client that stalls mid-request holds a socket)
    [status, code, message] = [408, "request_timeout", "the request was not received in time; send it again"];
  } else if (err.code === "HPE_INVALID_VERSION") {
    message = "unsupported HTTP version: babysit speaks HTTP/1.1 (and 1.0)";
  } else if (err.code === "HPE_INVALID_METHOD") {
    [status, code] = [405, "method_not_allowed"];
    message = `the method ${JSON.stringify(firstLine.split(" ", 1)[0].slice(0, 40))} is not supported`;
    headers.push(`Allow: ${allowOf(ALL_METHODS)}`);
  }
  endSocket(socket, status, code, message, headers);
}

/** The server's `checkExpectation` handler: an Expect header other than 100-continue gets a 417 in the envelope. */
export function answerExpectation(req: IncomingMessage, res: ServerResponse): void {
  const expectation = String(req.headers.expect ?? "").slice(0, 100);
  setSecurityHeaders(req, res, true); // Node calls this instead of the request handler, which sets them
  sendError(res, "expectation_failed", `Expect: ${JSON.stringify(expectation)} is not supported; only 100-continue is`);
}

/** The server's `connect` handler: babysit is no proxy, so CONNECT gets a 405 instead of a closed socket. */
export function answerConnect(_req: IncomingMessage, socket: Socket): void {
  endSocket(socket, 405, "method_not_allowed", "CONNECT is not supported: babysit is not a proxy", [`Allow: ${allowOf(ALL_METHODS)}`]);
}

/** Writes an error answer on a socket no ServerResponse owns, reading what the client still sends for a while. */
function endSocket(socket: Socket, status: number, code: string, message: string, headers: string[]): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = {
    400: "Bad Request",
    405: "Method Not Allowed",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
  }[status];
  let drained = 0;
  socket.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  socket.setTimeout(10_000, () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `${[...headers, ...rawSecurityHeaderLines()].map((h) => `${h}\r\n`).join("")}Connection: close\r\n\r\n${body}`,
  );
}
