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

/** Sends one file's bytes; answers what the server stored (ImportFileResult). */
export async function sendImportFile(t: ImportTarget, f: SendFile, bytes: Uint8Array): Promise<ImportFileResult> {
  if (bytes.length > LIMITS.importFileBytes.value) {
    throw new ImportRequestError(413, "payload_too_large", `the file is larger than ${LIMITS.importFileBytes.value} bytes (importFileBytes)`);
  }
  const q = new URLSearchParams({ project: f.project, source: f.source, path: f.path });
  if (f.name !== undefined) q.set("name", f.name);
  if (f.format !== undefined) q.set("format", f.format);
  if (f.stepColumn !== undefined) q.set("stepColumn", f.stepColumn);
  if (f.patterns?.length) q.set("patterns", JSON.stringify(f.patterns));
  if (f.offset !== undefined) q.set("offset", String(f.offset));
  const res = await fetch(`${t.url}/api/v1/import?${q}`, {
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
  const res = await fetch(`${t.url}/api/v1/runs/${encodeURIComponent(runId)}/finish`, {
    method: "POST",
    headers: headers(t, { "content-type": "application/json" }),
    // the log's last time: the run's span is the training's, not the import's (the server keeps it when sane)
    body: JSON.stringify({ status: "finished", ...(finishedAt !== undefined ? { finishedAt } : {}) }),
  });
  return answer(res);
}
