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
 * charset or exactly one charset=utf-8 (JSON on the wire is UTF-8; two charsets are ambiguous, and
 * a proxy could read the other one). A missing Content-Type is refused too: it is what a page of
 * another site sends without asking (docs/security.md).
 */
export function checkJsonType(type: string | null | undefined): void {
  if (type === null || type === undefined) {
    throw new AppError("unsupported_media_type", "the request has no Content-Type; send Content-Type: application/json");
  }
  const [media, ...params] = type.split(";").map((p) => p.trim().toLowerCase());
  const slash = media.indexOf("/");
  const sub = media.slice(slash + 1);
  const isJson = media.slice(0, slash) === "application" && (sub === "json" || (sub.endsWith("+json") && sub.length > 5));
  const charsets = params.filter((p) => p.split("=", 1)[0].trim() === "charset");
  const charset = charsets[0]
    ?.slice(charsets[0].indexOf("=") + 1)
    .trim()
    .replace(/^"|"$/g, "");
  if (!isJson || charsets.length > 1 || (charset !== undefined && charset !== "utf-8" && charset !== "utf8")) {
    throw new AppError(
      "unsupported_media_type",
      `Content-Type must be application/json (UTF-8, one charset at most), got ${JSON.stringify(type.slice(0, 100))}`,
    );
  }
}

export function tooLarge(limit = MAX_BODY_BYTES): AppError {
  return new AppError("payload_too_large", `request body exceeds ${limit} bytes; send smaller batches`);
}

/** How parseJsonBytes reports a body: `emptyAs` for an empty one, `code` for a value no field can hold. */
export interface JsonBodyOptions {
  emptyAs?: unknown;
  /** The route's code for a bad field (invalid_batch on the log route); default invalid_body. */
  code?: ErrorCode;
}

// fatal: a byte sequence that is not UTF-8 is refused instead of becoming U+FFFD, which would
// make two different keys one.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a request body's bytes: valid UTF-8, at most LIMITS.jsonDepth deep, then JSON, with no
 * number beyond a double's range (JSON.parse would make it Infinity; see NUMBER_TOO_LARGE).
 */
export function parseJsonBytes(bytes: Uint8Array, opts: JsonBodyOptions = {}): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AppError("invalid_json", "request body is not valid UTF-8");
  }
  return parseChecked(text, bytes, opts);
}

export const NUMBER_TOO_LARGE =
  'is a number too large for a double (beyond ±1.7976931348623157e308); non-finite values are sent as the strings "NaN", "Infinity", "-Infinity"';

function parseChecked(text: string, bytes: Uint8Array, opts: JsonBodyOptions): unknown {
  if (!text.trim() && "emptyAs" in opts) return opts.emptyAs;
  if (!text.trim()) throw new AppError("invalid_json", "request body is empty; expected a JSON object");
  const scan = scanJson(bytes);
  if (scan === TOO_DEEP) {
    throw new AppError("invalid_json", `request body is nested more than ${LIMITS.jsonDepth.value} levels deep`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`);
  }
  if (scan === MAY_OVERFLOW) {
    // JSON.parse turns a number past a double's range into ±Infinity without a word: stored, it
    // would read back as "Infinity" (a metric) or null (config, event data). Underflow is not
    // refused: 1e-400 is 0, as in any double arithmetic (docs/api.md).
    const at = nonFinitePath(value);
    if (at) throw new AppError(opts.code ?? "invalid_body", `${formatPath(at) || "the body"} ${NUMBER_TOO_LARGE}`);
  }
  return value;
}

const TOO_DEEP = 1;
const MAY_OVERFLOW = 2;

/**
 * One pass over a JSON text's UTF-8 bytes, without parsing: TOO_DEEP when arrays and objects nest
 * deeper than `max` (so that a body nested thousands deep is refused before anything walks it
 * recursively: zod, JSON.stringify of a stored config), MAY_OVERFLOW when a number might be beyond
 * a double's range (more than 200 bytes outside strings between two of , : . [ ] { }, or an
 * exponent of 100 or more: below both, a number is under 1e300), else 0. MAY_OVERFLOW only costs a
 * walk of the parsed value (nonFinitePath), which decides exactly. Bytes, not string characters:
 * the scan is on the ingest hot path (about a third of JSON.parse's time).
 * For text that is not JSON the answer means nothing, and JSON.parse refuses it.
 */
function scanJson(bytes: Uint8Array, max = LIMITS.jsonDepth.value): number {
  const n = bytes.length;
  let depth = 0;
  let digitsFrom = 0; // where the current run of digits started
  let result = 0;
  for (let i = 0; i < n; i++) {
    const k = BYTE_CLASS[bytes[i]];
    if (k === 0) continue; // digits, letters, signs, spaces: most of a batch
    if (k === QUOTE) {
      // a string, on to its closing quote; nothing inside one counts
      let j = i + 1;
      for (; j < n; j++) {
        const c = bytes[j];
        if (c === 0x22) break;
        if (c === 0x5c) j++;
      }
      i = j;
      digitsFrom = j;
    } else if (k === SEPARATOR) {
      if (i - digitsFrom > 201) result = MAY_OVERFLOW;
      digitsFrom = i;
    } else if (k === OPEN) {
      if (++depth > max) return TOO_DEEP;
      digitsFrom = i;
    } else if (k === CLOSE) {
      if (i - digitsFrom > 201) result = MAY_OVERFLOW;
      depth--;
      digitsFrom = i;
    } else if (result === 0 && bigExponent(bytes, i)) result = MAY_OVERFLOW;
  }
  if (n - digitsFrom > 201) result = MAY_OVERFLOW;
  return result;
}

// What scanJson does with each byte outside strings (a table: one load per byte instead of a chain
// of comparisons; the scan runs over every byte of every ingest batch).
const [QUOTE, OPEN, CLOSE, SEPARATOR, EXPONENT] = [1, 2, 3, 4, 5];
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[0x22] = QUOTE;
BYTE_CLASS[0x5b] = BYTE_CLASS[0x7b] = OPEN; // [ {
BYTE_CLASS[0x5d] = BYTE_CLASS[0x7d] = CLOSE; // ] }
BYTE_CLASS[0x2c] = BYTE_CLASS[0x3a] = BYTE_CLASS[0x2e] = SEPARATOR; // , : .
BYTE_CLASS[0x65] = BYTE_CLASS[0x45] = EXPONENT; // e E

function bigExponent(bytes: Uint8Array, at: number): boolean {
  const before = bytes[at - 1];
  if (!(before >= 0x30 && before <= 0x39)) return false; // the e of true or false
  let j = at + 1;
  if (j < bytes.length && bytes[j] === 0x2d) return false;
  if (j < bytes.length && bytes[j] === 0x2b) j++;
  while (j < bytes.length && bytes[j] === 0x30) j++;
  let n = 0;
  while (j < bytes.length && bytes[j] >= 0x30 && bytes[j] <= 0x39) {
    j++;
    n++;
  }
  return n >= 3;
}

/**
 * The path of the first non-finite number in a parsed JSON value (only overflow makes one), or
 * null. Never recurses, and holds one frame per level of nesting, never one per value: a body of
 * four million numbers is walked without allocating for each.
 */
function nonFinitePath(value: unknown): PropertyKey[] | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : [];
  if (typeof value !== "object" || value === null) return null;
  // per open container: the container, its keys (objects), the next index
  const frames: { v: unknown[] | Record<string, unknown>; keys: string[] | null; i: number }[] = [
    { v: value as Record<string, unknown>, keys: Array.isArray(value) ? null : Object.keys(value), i: 0 },
  ];
  while (frames.length) {
    const f = frames[frames.length - 1];
    const n = f.keys ? f.keys.length : (f.v as unknown[]).length;
    if (f.i >= n) {
      frames.pop();
      continue;
    }
    const at = f.i++;
    const child = f.keys ? (f.v as Record<string, unknown>)[f.keys[at]] : (f.v as unknown[])[at];
    if (typeof child === "number") {
      if (Number.isFinite(child)) continue;
      return frames.map((x) => (x.keys ? x.keys[x.i - 1] : x.i - 1));
    }
    if (typeof child === "object" && child !== null) {
      frames.push({ v: child as Record<string, unknown>, keys: Array.isArray(child) ? null : Object.keys(child), i: 0 });
    }
  }
  return null;
}

export function cutOff(): AppError {
  return new AppError("invalid_body", "the request body was cut off");
}

/** Reads a JSON body, refusing non-JSON, oversize and malformed bodies. */
export async function readJson(req: Request, opts: JsonBodyOptions & { limit?: number } = {}): Promise<unknown> {
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

/** Query parameters as a null-prototype record (for zod); a parameter given twice is refused, not half read. */
export function queryOf(req: Pick<Request, "url">): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of new URL(req.url).searchParams) {
    if (Object.hasOwn(out, name)) throw new AppError("invalid_query", `${JSON.stringify(name.slice(0, 100))} is given more than once; give it once`);
    out[name] = value;
  }
  return out;
}
