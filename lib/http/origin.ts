import type { IncomingMessage } from "node:http";
import os from "node:os";
import { AppError, type ErrorCode } from "../errors";
import { checkJsonType } from "./handler";

// Who may talk to this server from a browser (docs/security.md). Two checks, made by the front
// gate (lib/http/gate.ts) on every request and by the socket.io handshake (lib/realtime/handshake.ts):
// - the Host header names this server (a loopback name, the bound address, the machine's own
//   addresses and hostname when bound to every interface, BABYSIT_PUBLIC_URL's host), so that a
//   page on a name the attacker controls, rebound to this machine's address, is not served;
// - a write, or a socket, from a browser page comes from this server's own origin: a page of
//   another site can make the browser send requests here, and without this they would be obeyed.
// Clients that are not browsers (SDKs, curl) send neither Origin nor Sec-Fetch-Site and pass.

export interface Refusal {
  code: ErrorCode;
  message: string;
}

interface Names {
  /** The address the server listens on, as HOST gives it. */
  bind: string;
  /** Lowercase host names and addresses (IPv6 in brackets) this server answers to, besides loopback. */
  own: Set<string>;
  /** BABYSIT_PUBLIC_URL's and BABYSIT_SHARE_URL's origins (scheme://host[:port]): pages' origins behind a proxy. */
  publicOrigins: Set<string>;
  /** When the machine's addresses were last read (HOST 0.0.0.0 or ::): they change with the network. */
  readAt: number;
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);
/** How often at most a Host that is not among the names makes the interfaces be read again. */
const REREAD_MS = 5_000;

let names: Names = { bind: "127.0.0.1", own: new Set(), publicOrigins: new Set(), readAt: 0 };

/**
 * Sets the names this server answers to: server.ts calls it once with HOST, BABYSIT_PUBLIC_URL and
 * BABYSIT_SHARE_URL. Throws with a message for the terminal when a URL is not an http(s) URL.
 */
export function configureOwnNames(bind: string, publicUrl: string | undefined, shareUrl?: string): void {
  const publicOrigins = new Set<string>();
  const own = new Set<string>();
  for (const [name, value] of [
    ["BABYSIT_PUBLIC_URL", publicUrl],
    ["BABYSIT_SHARE_URL", shareUrl],
  ] as const) {
    if (!value) continue;
    const u = publicUrlOf(name, value);
    publicOrigins.add(u.origin);
    own.add(u.hostname);
  }
  names = { bind, own, publicOrigins, readAt: 0 };
  addBoundNames(names);
}

/** An http(s) URL given in the environment variable `name`; throws with a message for the terminal otherwise. */
export function publicUrlOf(name: string, value: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`${name}=${JSON.stringify(value)} is not a URL; give it as https://babysit.example.org`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new Error(`${name} must be an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return u;
}

function addBoundNames(n: Names): void {
  const bind = n.bind.toLowerCase();
  if (!WILDCARDS.has(bind)) {
    n.own.add(bind.includes(":") && !bind.startsWith("[") ? `[${bind}]` : bind);
    return;
  }
  // every interface: the machine's addresses and its name are how colleagues reach it
  n.own.add(os.hostname().toLowerCase());
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.scopeid) continue; // a link-local IPv6 address needs a zone, which no Host header carries
      n.own.add(a.family === "IPv6" ? `[${a.address.toLowerCase()}]` : a.address);
    }
  }
  n.readAt = Date.now();
}

// host, then an optional port: a name or IPv4 address, or an IPv6 address in brackets. Anchored,
// no nested repetition: linear in the header's length.
const HOST_RE = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::([0-9]{1,5}))?$/;

/** The host part of a Host header, lowercased, without a trailing dot; null when it is not a host[:port]. */
export function hostOf(header: string): string | null {
  const m = HOST_RE.exec(header.toLowerCase());
  if (!m) return null;
  return m[1].endsWith(".") ? m[1].slice(0, -1) : m[1];
}

/** True for localhost, *.localhost, 127.0.0.0/8 and [::1]: names only this machine answers to. */
export function isLoopbackName(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost") || host === "[::1]") return true;
  const parts = host.split(".");
  return parts.length === 4 && parts[0] === "127" && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * The unspecified addresses: as a destination they mean this machine (the startup line and the
 * demo say http://0.0.0.0:3000 when HOST=0.0.0.0), and no one's DNS name can put them in a Host.
 */
const UNSPECIFIED = new Set(["0.0.0.0", "[::]"]);

function isOwnName(host: string): boolean {
  if (isLoopbackName(host) || UNSPECIFIED.has(host) || names.own.has(host)) return true;
  if (WILDCARDS.has(names.bind) && Date.now() - names.readAt > REREAD_MS) {
    addBoundNames(names); // a new address since the last look (DHCP, a VPN coming up)
    return names.own.has(host);
  }
  return false;
}

/** A request whose Host is not one of this server's names: 421 unknown_host. No Host (HTTP/1.0) passes. */
export function hostRefusal(req: IncomingMessage): Refusal | null {
  const header = req.headers.host;
  if (header === undefined) return null;
  // Node keeps the first of two; a proxy in front may have routed by the other
  if ((req.headersDistinct.host?.length ?? 0) > 1) return { code: "unknown_host", message: "the request has more than one Host header" };
  const host = hostOf(header);
  if (host !== null && isOwnName(host)) return null;
  return {
    code: "unknown_host",
    message:
      `this server does not answer to the host ${JSON.stringify(header.slice(0, 100))}; open it as localhost or its own address, ` +
      "or set BABYSIT_PUBLIC_URL to the address it is published under (docs/security.md)",
  };
}

/** The origin of a page of this server that sent `req`: http:// and its Host, normalised as a browser writes origins. */
function originOfHost(host: string | undefined): string | null {
  if (host === undefined) return null;
  try {
    return new URL(`http://${host}`).origin;
  } catch {
    return null;
  }
}

/**
 * A request a browser sent on behalf of a page of another origin: 403 cross_origin. The page's
 * own origin is http://<Host> or BABYSIT_PUBLIC_URL's; `Origin: null` (a sandboxed frame, a
 * file:// page) is another origin. Sec-Fetch-Site is read too: `same-site` is another port or
 * subdomain, which is another origin.
 */
export function crossOriginRefusal(req: IncomingMessage): Refusal | null {
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") {
    return { code: "cross_origin", message: `requests from another site's pages are refused (Sec-Fetch-Site: ${site})` };
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  if (names.publicOrigins.has(origin) || (origin !== "null" && origin === originOfHost(req.headers.host))) return null;
  return {
    code: "cross_origin",
    message: `requests from pages of another origin (${JSON.stringify(origin.slice(0, 100))}) are refused; this server's pages are the only ones that may write`,
  };
}

/** Methods that change something: the only ones a page of another origin could use against a user. */
export const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * A write (POST, PUT, PATCH, DELETE) that is refused before any route sees it: from another
 * origin (403 cross_origin), or not declared as JSON (415 unsupported_media_type). A browser sends
 * a page's form, sendBeacon or plain fetch with no type or a text/form type, and only those go
 * out to another origin without asking it first; application/json makes the browser ask (a
 * preflight), which this server never grants: it sends no CORS headers.
 */
export function writeRefusal(req: IncomingMessage, binary = false): Refusal | null {
  if (!STATE_CHANGING.has(req.method ?? "")) return null;
  const cross = crossOriginRefusal(req);
  if (cross) return cross;
  // a route that takes a file (POST /api/v1/import): application/octet-stream, which is not one of
  // the types a page may send to another origin without a preflight either
  if (binary) {
    const type = (req.headers["content-type"] ?? "").split(";", 1)[0].trim().toLowerCase();
    if (type === "application/octet-stream") return null;
    return { code: "unsupported_media_type", message: "send the file's bytes as the body with Content-Type: application/octet-stream" };
  }
  try {
    checkJsonType(req.headers["content-type"]);
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  return null;
}
