import { LIMITS } from "../contract/limits";
import type { ImportFileResult } from "./import-file";

// The client side of POST /api/v1/import: what `babysit import` (and later `babysit watch`) sends.

export const DEFAULT_URL = "http://127.0.0.1:3000";

export interface ImportTarget {
  /** Server address without a trailing slash. */
  url: string;
  apiKey?: string;
}

export interface SendFile {
  project: string;
  source: string;
  /** What earlier versions named the run by (PlannedRun.formerSource): a run they imported keeps getting its logs. */
  formerSource?: string;
  path: string;
  name?: string;
  format?: string;
  stepColumn?: string;
  patterns?: string[];
  /** The file's bytes before the body, sent before (a growing file): see ImportFileResult.end. */
  offset?: number;
}

/** The server's error envelope, with the HTTP status. */
export class ImportRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function headers(t: ImportTarget, extra: Record<string, string>): Record<string, string> {
  return { ...extra, ...(t.apiKey ? { authorization: `Bearer ${t.apiKey}` } : {}) };
}

async function answer(res: Response): Promise<any> {
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ImportRequestError(res.status, "bad_answer", `the server answered ${res.status} with no JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) throw new ImportRequestError(res.status, body?.error?.code ?? "error", body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/**
 * fetch, with a refused or failed connection said in words: undici's own message is "fetch failed",
 * which names neither the server nor what to do.
 */
async function send(t: ImportTarget, pathAndQuery: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${t.url}${pathAndQuery}`, init);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    throw new ImportRequestError(
      0,
      "unreachable",
      `cannot reach the babysit server at ${t.url} (${why}): is it running there? Pass --url or set BABYSIT_URL`,
    );
  }
}

/** Sends one file's bytes; answers what the server stored (ImportFileResult). */
export async function sendImportFile(t: ImportTarget, f: SendFile, bytes: Uint8Array): Promise<ImportFileResult> {
  if (bytes.length > LIMITS.importFileBytes.value) {
    throw new ImportRequestError(413, "payload_too_large", `the file is larger than ${LIMITS.importFileBytes.value} bytes (importFileBytes)`);
  }
  const q = new URLSearchParams({ project: f.project, source: f.source, path: f.path });
  if (f.formerSource !== undefined) q.set("formerSource", f.formerSource);
  if (f.name !== undefined) q.set("name", f.name);
  if (f.format !== undefined) q.set("format", f.format);
  if (f.stepColumn !== undefined) q.set("stepColumn", f.stepColumn);
  if (f.patterns?.length) q.set("patterns", JSON.stringify(f.patterns));
  if (f.offset !== undefined) q.set("offset", String(f.offset));
  const res = await send(t, `/api/v1/import?${q}`, {
    method: "POST",
    headers: headers(t, { "content-type": "application/octet-stream" }),
    body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
  });
  return answer(res);
}

/** Finishes an imported run, so that the diagnoses that run at finish run; answers its alerts. */
export async function finishImportedRun(
  t: ImportTarget,
  runId: string,
  finishedAt?: number,
): Promise<{ status: string; alerts: { code: string; title?: string }[] }> {
  const res = await send(t, `/api/v1/runs/${encodeURIComponent(runId)}/finish`, {
    method: "POST",
    headers: headers(t, { "content-type": "application/json" }),
    // the log's last time: the run's span is the training's, not the import's (the server keeps it when sane)
    body: JSON.stringify({ status: "finished", ...(finishedAt !== undefined ? { finishedAt } : {}) }),
  });
  return answer(res);
}

/**
 * The run's active alerts: those raised live while its files went in as well as at finish (the
 * finish answers only what it raised itself).
 */
export async function activeAlerts(t: ImportTarget, runId: string): Promise<string[]> {
  const res = await send(t, `/api/v1/runs/${encodeURIComponent(runId)}/alerts`, { headers: headers(t, {}) });
  const body = await answer(res);
  const alerts: { code: string; status?: string }[] = body?.alerts ?? [];
  return [...new Set(alerts.filter((a) => a.status === undefined || a.status === "active").map((a) => a.code))];
}
