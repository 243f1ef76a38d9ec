import { ImportRequestError, type ImportTarget } from "../import/client";

// The few API calls `babysit run` and `babysit watch` make besides imports, with the error
// envelope read into ImportRequestError (status 0: the server could not be reached at all).

export async function call(t: ImportTarget, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<any> {
  let res: Response;
  try {
    res = await fetch(`${t.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(t.apiKey ? { authorization: `Bearer ${t.apiKey}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ImportRequestError(0, "unreachable", `cannot reach ${t.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ImportRequestError(res.status, "bad_answer", `the server answered ${res.status} with no JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new ImportRequestError(res.status, parsed?.error?.code ?? "error", parsed?.error?.message ?? `HTTP ${res.status}`);
  return parsed;
}

/** Worth asking again later: the server is away, busy or timed out (not a refusal of what was sent). */
export function isTransient(e: unknown): boolean {
  return e instanceof ImportRequestError && (e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500);
}
