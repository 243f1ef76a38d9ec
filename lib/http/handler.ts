import type { ZodType } from "zod";
import { LIMITS } from "../contract/limits";
import { AppError, type ErrorCode, errorBody } from "../errors";

// Shared plumbing for route handlers: one error envelope, JSON bodies with a size limit,
// zod errors as 400s naming the first bad field. The node:http side (front gate, raw bodies) is
// in ./node.ts and uses the same body rules (parseJsonBytes).

export const MAX_BODY_BYTES = LIMITS.bodyBytes.value;

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

/** Wraps a handler so that every failure becomes the error envelope and nothing leaks as a bare 500. */
export function handle<A extends unknown[]>(fn: (...args: A) => Promise<Response>) {
  return async (...args: A): Promise<Response> => {
    try {
      return await fn(...args);
    } catch (err) {
      if (err instanceof AppError) return json(errorBody(err.code, err.message), err.status);
      console.error("babysit: unhandled error", err);
      return json(errorBody("internal", "internal server error"), 500);
    }
  };
}

/**
 * Refuses a body that does not say it is JSON: application/json or application/<x>+json, with no
 * charset or charset=utf-8 (JSON on the wire is UTF-8). A missing Content-Type is taken as JSON.
 */
export function checkJsonType(type: string | null | undefined): void {
  if (type === null || type === undefined) return;
  const [media, ...params] = type.split(";").map((p) => p.trim().toLowerCase());
  const slash = media.indexOf("/");
  const sub = media.slice(slash + 1);
  const isJson = media.slice(0, slash) === "application" && (sub === "json" || (sub.endsWith("+json") && sub.length > 5));
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/^"|"$/g, "");
  if (!isJson || (charset !== undefined && charset !== "utf-8" && charset !== "utf8")) {
    throw new AppError("unsupported_media_type", `Content-Type must be application/json (UTF-8), got ${JSON.stringify(type.slice(0, 100))}`);
  }
}

export function tooLarge(limit = MAX_BODY_BYTES): AppError {
  return new AppError("payload_too_large", `request body exceeds ${limit} bytes; send smaller batches`);
}

/** Parses a request body's text; an empty body is an error unless `emptyAs` is given. */
export function parseJsonText(text: string, opts: { emptyAs?: unknown } = {}): unknown {
  return parseChecked(text, Buffer.from(text, "utf8"), opts);
}

// fatal: a byte sequence that is not UTF-8 is refused instead of becoming U+FFFD, which would
// make two different keys one.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses a request body's bytes: valid UTF-8, at most LIMITS.jsonDepth deep, then JSON. */
export function parseJsonBytes(bytes: Uint8Array, opts: { emptyAs?: unknown } = {}): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError("invalid_json", "request body is not valid UTF-8");
  }
  return parseChecked(text, bytes, opts);
}

function parseChecked(text: string, bytes: Uint8Array, opts: { emptyAs?: unknown }): unknown {
  if (!text.trim() && "emptyAs" in opts) return opts.emptyAs;
  if (!text.trim()) throw new AppError("invalid_json", "request body is empty; expected a JSON object");
  if (jsonTooDeep(bytes)) {
    throw new AppError("invalid_json", `request body is nested more than ${LIMITS.jsonDepth.value} levels deep`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * True when arrays and objects in a JSON text nest deeper than `max`, counted on its UTF-8 bytes
 * without parsing, so that a body nested thousands deep is refused before anything walks it
 * recursively (zod, JSON.stringify of a stored config). Bytes, not string characters: the scan is
 * on the ingest hot path (about a third of JSON.parse's time; a string scan took twice that).
 * For text that is not JSON the answer means nothing, and JSON.parse refuses it.
 */
export function jsonTooDeep(bytes: Uint8Array, max = LIMITS.jsonDepth.value): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export function cutOff(): AppError {
  return new AppError("invalid_body", "the request body was cut off");
}


/** Reads a JSON body, refusing non-JSON, oversize and malformed bodies. */
export async function readJson(req: Request, opts: { limit?: number; emptyAs?: unknown } = {}): Promise<unknown> {
  const limit = opts.limit ?? MAX_BODY_BYTES;
  checkJsonType(req.headers.get("content-type"));
  if (Number(req.headers.get("content-length") ?? "0") > limit) throw tooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read().catch(() => {
        throw cutOff(); // the client went away or broke the framing mid-body; no 500 to log
      });
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  }
  return parseJsonBytes(Buffer.concat(chunks), opts);
}

/** Validates with a zod schema; the first issue becomes `code` with its path, e.g. rows[3].step. */
export function parse<T>(schema: ZodType<T>, data: unknown, code: ErrorCode = "invalid_body"): T {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = formatPath(issue.path);
  throw new AppError(code, where ? `${where} ${issue.message}` : issue.message);
}

function formatPath(path: PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** Query parameters as a plain object (for zod). */
export function queryOf(req: Request): Record<string, string> {
  return Object.fromEntries(new URL(req.url).searchParams);
}
