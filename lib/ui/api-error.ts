/** The message of the API's error envelope ({ error: { code, message } }), else "HTTP <status>". */
export async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

/** What a page says where a request got no answer at all (server down, network gone). */
export const UNREACHABLE = "the server did not answer";

/**
 * fetch, answering null where the request got no answer (fetch rejects: "Failed to fetch") instead
 * of throwing: every request a page makes goes through it or catches, so an outage is reported
 * where the data was asked for, never an uncaught error in the console.
 */
export async function tryFetch(input: string, init?: RequestInit): Promise<Response | null> {
  try {
    return await fetch(input, init);
  } catch {
    return null;
  }
}

/** The JSON body of a response, or null where the connection dropped while it was read (or it is not JSON). */
export async function tryJson<T>(res: Response): Promise<T | null> {
  try {
    return (await res.json()) as T;
  } catch {
    return null;
  }
}
