import crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

// Response headers that tell the browser what it may do with this server's answers
// (docs/security.md). server.ts sets them on every response, before the front gate, Next.js or the
// ingest fast path write anything; the socket.io handshake sets them too.

/** Headers every answer carries, pages, API and errors alike. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  // a JSON answer is never run as a script or shown as HTML, whatever a page's <script src> says
  "x-content-type-options": "nosniff",
  // a shared page's URL holds its token: it must not travel to anyone in a Referer, not even here
  "referrer-policy": "no-referrer",
  // no other site frames a page (clickjacking); X-Frame-Options for browsers without frame-ancestors
  "x-frame-options": "DENY",
  // no other site's page may load an answer as an image, script or media (read without CORS)
  "cross-origin-resource-policy": "same-origin",
  // a page opened from another site gets no handle on this one's window
  "cross-origin-opener-policy": "same-origin",
};

/** An API answer is data, never a document: it may load nothing and be framed nowhere. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * A page's policy. Scripts: only this server's files, and the inline scripts Next.js writes into
 * each page (its data for hydration), which carry this answer's nonce; no eval (chart.js draws on
 * a canvas and needs none). Styles: this server's CSS, plus inline style attributes, which React
 * renders server-side for sizes and colours computed per page (style-src-attr); no inline <style>
 * element without the nonce. Images: this server and data: URLs (logged images come as base64
 * PNG). Connections: this server only (the API and socket.io, ws: included in 'self').
 */
export function pageCsp(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    // `npm run dev` only: Next.js's development runtime (React's debugging, fast refresh) evaluates code
    `script-src 'self' 'nonce-${nonce}'${dev ? " 'unsafe-eval'" : ""}`,
    // `npm run dev` only: Next.js's development overlay adds <style> elements without the nonce
    dev ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Sets the security headers on `res` before anything answers. A page request also gets a fresh
 * nonce, handed to Next.js through the request's own Content-Security-Policy header: that is
 * where Next.js looks for it, and it then puts it on every script tag it writes.
 */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse, isApi: boolean, noStorePages = false): void {
  for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
  if (isApi) {
    res.setHeader("content-security-policy", API_CSP);
    // API answers hold sessions' data, keys, configs and share tokens: no cache (the browser's,
    // a proxy's) keeps one for the next person at this computer; nothing here relies on caching
    res.setHeader("cache-control", NO_STORE);
    return;
  }
  const policy = pageCsp(crypto.randomBytes(16).toString("base64"), process.env.NODE_ENV === "development");
  req.headers["content-security-policy"] = policy;
  res.setHeader("content-security-policy", policy);
  if (noStorePages && !isBuiltAsset(req.url ?? "")) keepNoStore(res);
}

export const NO_STORE = "no-store";

/** Files of the build (scripts, styles, fonts, icons): the same for everyone, cached as Next.js says. */
function isBuiltAsset(url: string): boolean {
  const path = url.split("?", 1)[0];
  return path.startsWith("/_next/static/") || path === "/icon.svg" || path === "/favicon.ico";
}

/**
 * A page that shows one person's data (team mode) or a link's token (a shared page) is not stored:
 * Next.js sets its own Cache-Control on pages (a prerendered one may be cached for a year), so the
 * value is set where Node writes the head, after it.
 */
export function keepNoStore(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    if (!res.headersSent) res.setHeader("cache-control", NO_STORE);
    for (const a of args)
      if (a && typeof a === "object" && !Array.isArray(a))
        for (const k of Object.keys(a)) if (k.toLowerCase() === "cache-control") delete (a as Record<string, unknown>)[k];
    return writeHead(...args);
  }) as typeof res.writeHead;
}

/** The same headers as lines of a raw HTTP answer (for answers written straight to a socket). */
export function rawSecurityHeaderLines(): string[] {
  return [...Object.entries(COMMON_HEADERS).map(([k, v]) => `${k}: ${v}`), `content-security-policy: ${API_CSP}`, `cache-control: ${NO_STORE}`];
}
