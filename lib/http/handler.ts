import type { ZodType } from "zod";
import { AppError, type ErrorCode, errorBody } from "../errors";

// Shared plumbing for route handlers: one error envelope, JSON bodies with a size limit,
// zod errors as 400s naming the first bad field.

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

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

/** Refuses a body that does not say it is JSON (a missing Content-Type is taken as JSON). */
export function checkJsonType(type: string | null | undefined): void {
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", `Content-Type must be application/json, got ${type}`);
  }
}

export function tooLarge(limit = MAX_BODY_BYTES): AppError {
  return new AppError("payload_too_large", `request body exceeds ${limit} bytes; send smaller batches`);
}

/** Parses a request body's text; an empty body is an error unless `emptyAs` is given. */
export function parseJsonText(text: string, opts: { emptyAs?: unknown } = {}): unknown {
  if (!text.trim() && "emptyAs" in opts) return opts.emptyAs;
  if (!text.trim()) throw new AppError("invalid_json", "request body is empty; expected a JSON object");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`);
  }
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
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  }
  return parseJsonText(Buffer.concat(chunks).toString("utf8"), opts);
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
