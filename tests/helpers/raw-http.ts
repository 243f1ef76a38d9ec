import net from "node:net";
import zlib from "node:zlib";

// HTTP/1.1 over a bare socket, for requests no HTTP client would send: any method token, any
// request target (bad percent-encoding, raw bytes, 100 KB long), any header and body bytes. It
// tells a reset connection apart from an answer.

export interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** The body as JSON, or undefined when it is not JSON. */
  json: any;
}

export interface RawRequest {
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

function parseAnswer(raw: Buffer, method: string): RawAnswer | null {
  // interim answers (100 Continue to an Expect header) come before the real one
  while (/^HTTP\/1\.[01] 1\d\d/.test(raw.toString("latin1", 0, 12))) {
    const skip = raw.indexOf("\r\n\r\n");
    if (skip < 0) return null;
    raw = raw.subarray(skip + 4);
  }
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const lines = raw.toString("latin1", 0, end).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return null;
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const status = Number(m[1]);
  let body = raw.subarray(end + 4);
  if (method === "HEAD" || status === 204 || status === 304) body = Buffer.alloc(0);
  else if (headers.get("transfer-encoding")?.includes("chunked")) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = body.indexOf("\r\n", at);
      if (nl < 0) return null;
      const size = Number.parseInt(body.toString("latin1", at, nl), 16);
      if (!size) break;
      parts.push(body.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers.has("content-length")) body = body.subarray(0, Number(headers.get("content-length")));
  const encoding = headers.get("content-encoding");
  if (body.length && encoding === "gzip") body = zlib.gunzipSync(body);
  else if (body.length && encoding === "br") body = zlib.brotliDecompressSync(body);
  else if (body.length && encoding === "deflate") body = zlib.inflateSync(body);
  let json: any;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    json = undefined;
  }
  return { status, headers, body, json };
}

/**
 * Sends one request on a fresh connection (Connection: close) and reads the answer to the end.
 * Rejects when the connection is reset or closed without a complete answer.
 */
export function rawRequest(port: number, r: RawRequest, timeoutMs = 20_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, "utf8");
    const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: "close", ...r.headers };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length" || h.toLowerCase() === "transfer-encoding")) {
      headers["content-length"] = String(body.length);
    }
    const head = `${r.method} ${r.target} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("")}\r\n`;
    const chunks: Buffer[] = [];
    const sock = net.connect(port, "127.0.0.1");
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete answer in ${timeoutMs} ms to ${r.method} ${r.target.slice(0, 100)}`));
    }, timeoutMs);
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", (e) => {
      clearTimeout(timer);
      const got = parseAnswer(Buffer.concat(chunks), r.method);
      if (got)
        resolve(got); // the answer came before the reset: the client can read it
      else reject(new Error(`connection failed (${(e as NodeJS.ErrnoException).code}) for ${r.method} ${r.target.slice(0, 100)}`));
    });
    sock.on("end", () => {
      clearTimeout(timer);
      const got = parseAnswer(Buffer.concat(chunks), r.method);
      if (got) resolve(got);
      else
        reject(
          new Error(
            `connection closed without an answer for ${r.method} ${r.target.slice(0, 100)}: ${Buffer.concat(chunks).toString("latin1").slice(0, 200)}`,
          ),
        );
      sock.destroy();
    });
    sock.write(Buffer.from(head, "latin1"));
    if (body) sock.write(body);
  });
}
