import { LIMITS } from "@/lib/contract/limits";
import { type PathEntry, type PathPlanRun, planPaths } from "@/lib/import/plan-paths";

// The dashboard's import (files and folders dropped on the runs list or chosen with the pickers):
// the CLI's request sequence from a browser. Files are grouped into runs as `babysit import`
// groups them (lib/import/plan-paths.ts), each file is sent to POST /api/v1/import with its path in
// its run, then each run is finished (its diagnoses at finish run), and the page is told how far it
// is after every chunk of bytes the browser hands to the network.

export interface DroppedFile extends PathEntry {
  file: File;
}

export type FileState =
  | { state: "waiting" }
  | { state: "sending"; sent: number }
  | { state: "done"; points: number; histograms: number; images: number }
  | { state: "refused"; reason: string }
  | { state: "skipped"; reason: string };

export interface UploadFile {
  /** The file's path as dropped (`runs/healthy/tb/events.out…`). */
  path: string;
  size: number;
  run: string;
  status: FileState;
}

export interface UploadRun {
  id: string;
  name: string;
  url: string;
  points: number;
  histograms: number;
  images: number;
  alerts: string[];
}

export interface UploadProgress {
  files: UploadFile[];
  /** Bytes sent (or decided on) of all files. */
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  runs: UploadRun[];
  skipped: { path: string; reason: string }[];
  failed: { path: string; reason: string }[];
  /** Points, histograms, images the runs already held, not stored again. */
  unchanged: number;
  finished: boolean;
}

/** Every file under what was dropped: folders are read whole (a browser hands them over lazily). */
export async function filesOfDrop(items: DataTransferItemList): Promise<DroppedFile[]> {
  // webkitGetAsEntry is only usable during the drop event itself: take every entry first
  const entries: (FileSystemEntry | File)[] = [];
  for (const item of Array.from(items)) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) entries.push(f);
    }
  }
  const out: DroppedFile[] = [];
  const walk = async (e: FileSystemEntry): Promise<void> => {
    if (e.isFile) {
      const file = await new Promise<File>((resolve, reject) => (e as FileSystemFileEntry).file(resolve, reject));
      out.push({ path: e.fullPath.replace(/^\/+/, ""), size: file.size, file });
    } else if (e.isDirectory) {
      const reader = (e as FileSystemDirectoryEntry).createReader();
      // readEntries answers in chunks (100 in Chromium) until an empty one
      for (;;) {
        const chunk = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (chunk.length === 0) break;
        for (const c of chunk) await walk(c);
      }
    }
  };
  for (const e of entries) {
    if (e instanceof File) out.push({ path: e.name, size: e.size, file: e });
    else await walk(e);
  }
  return out;
}

/** The files a picker chose: a folder picker's carry their path from the folder's name down. */
export function filesOfInput(list: FileList): DroppedFile[] {
  return Array.from(list).map((file) => ({ path: file.webkitRelativePath || file.name, size: file.size, file }));
}

async function isHparamsRun(files: DroppedFile[]): Promise<boolean> {
  const { recordsHparams } = await import("@/lib/import/hparams-peek");
  return recordsHparams(await Promise.all(files.map(async (f) => new Uint8Array(await f.file.arrayBuffer()))));
}

export function planDropped(files: DroppedFile[]): Promise<PathPlanRun<DroppedFile>[]> {
  return planPaths(files, isHparamsRun);
}

interface ImportAnswer {
  runId: string;
  url: string;
  name: string;
  points: number;
  histograms: number;
  images: number;
  events: number;
  unchanged: number;
  /** The first and last time the file's records carry (Unix seconds), null when none. */
  times: { first: number; last: number } | null;
  skipped: { path: string; reason: string }[];
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One file to the import API; XMLHttpRequest because fetch tells nothing of an upload's progress. */
function sendFile(query: URLSearchParams, file: File, onSent: (bytes: number) => void): Promise<ImportAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/import?${query}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onSent(e.loaded);
    xhr.onerror = () => reject(new RequestError(0, "the server did not answer"));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // the status says it
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as ImportAnswer);
      else {
        const message = (body as { error?: { message?: string } } | null)?.error?.message ?? `HTTP ${xhr.status}`;
        reject(new RequestError(xhr.status, message));
      }
    };
    xhr.send(file);
  });
}

async function finishRun(runId: string, finishedAt: number | undefined): Promise<string[]> {
  const res = await fetch(`/api/v1/runs/${encodeURIComponent(runId)}/finish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // the log's last time, as babysit import sends it: the run spans the training, not the upload
    body: JSON.stringify({ status: "finished", ...(finishedAt !== undefined ? { finishedAt } : {}) }),
  });
  const body = (await res.json().catch(() => null)) as { alerts?: { code: string }[]; error?: { message?: string } } | null;
  if (!res.ok) throw new RequestError(res.status, body?.error?.message ?? `HTTP ${res.status}`);
  return (body?.alerts ?? []).map((a) => a.code);
}

/**
 * Sends the planned runs, file by file, telling `onProgress` after every change (the object is new
 * each time). A refused file (a damaged TensorBoard record, a file too large) stores nothing of
 * itself; the run's other files are still sent, as `babysit import` does.
 */
export async function uploadRuns(
  runs: PathPlanRun<DroppedFile>[],
  project: string,
  onProgress: (p: UploadProgress) => void,
): Promise<UploadProgress> {
  const files: UploadFile[] = runs.flatMap((r) =>
    r.files.map((f) => ({ path: f.entry.path, size: f.entry.size, run: r.name, status: { state: "waiting" } as FileState })),
  );
  let p: UploadProgress = {
    files,
    bytesDone: 0,
    bytesTotal: files.reduce((n, f) => n + f.size, 0),
    filesDone: 0,
    runs: [],
    skipped: [],
    failed: [],
    unchanged: 0,
    finished: false,
  };
  const tell = (change: Partial<UploadProgress>) => {
    p = { ...p, ...change };
    onProgress(p);
  };
  const setFile = (i: number, status: FileState, bytesDone = p.bytesDone) => {
    const next = p.files.slice();
    next[i] = { ...next[i], status };
    tell({ files: next, bytesDone });
  };
  tell({});
  let i = 0;
  let stop = false;
  for (const run of runs) {
    let runId: string | undefined;
    let url = "";
    const counts = { points: 0, histograms: 0, images: 0 };
    let lastTime: number | undefined;
    const shownOf = (rel: string) => (run.kind === "tensorboard" ? `${run.name}/${rel}` : run.name);
    for (const f of run.files) {
      const at = i++;
      const before = p.bytesDone;
      if (stop) {
        setFile(at, { state: "skipped", reason: "not sent: the server refused the import" }, before + f.entry.size);
        tell({ filesDone: p.filesDone + 1 });
        continue;
      }
      if (f.entry.size > LIMITS.importFileBytes.value) {
        const reason = `larger than ${LIMITS.importFileBytes.value} bytes (importFileBytes)`;
        setFile(at, { state: "skipped", reason }, before + f.entry.size);
        tell({ skipped: [...p.skipped, { path: shownOf(f.rel), reason }], filesDone: p.filesDone + 1 });
        continue;
      }
      setFile(at, { state: "sending", sent: 0 });
      const query = new URLSearchParams({ project, source: run.source, formerSource: run.formerSource, path: f.rel, name: run.name });
      try {
        const r = await sendFile(query, f.entry.file, (sent) => setFile(at, { state: "sending", sent }, before + Math.min(sent, f.entry.size)));
        runId = r.runId;
        url = r.url;
        if (r.times && (lastTime === undefined || r.times.last > lastTime)) lastTime = r.times.last;
        counts.points += r.points;
        counts.histograms += r.histograms;
        counts.images += r.images;
        setFile(at, { state: "done", points: r.points, histograms: r.histograms, images: r.images }, before + f.entry.size);
        tell({
          filesDone: p.filesDone + 1,
          unchanged: p.unchanged + r.unchanged,
          skipped: [...p.skipped, ...r.skipped.map((k) => ({ path: shownOf(k.path), reason: k.reason }))],
        });
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        setFile(at, { state: "refused", reason }, before + f.entry.size);
        tell({ filesDone: p.filesDone + 1, failed: [...p.failed, { path: shownOf(f.rel), reason }] });
        // a refused key or permission, or a server gone, answers every other file the same
        if (e instanceof RequestError && (e.status === 0 || e.status === 401 || e.status === 403)) stop = true;
      }
    }
    if (!runId) continue;
    let alerts: string[] = [];
    try {
      alerts = await finishRun(runId, lastTime);
    } catch (e) {
      tell({ failed: [...p.failed, { path: run.name, reason: `finishing the run: ${e instanceof Error ? e.message : String(e)}` }] });
    }
    tell({ runs: [...p.runs, { id: runId, name: run.name, url, alerts, ...counts }] });
  }
  tell({ finished: true });
  return p;
}

/** A byte count as people read it (1.2 MB), for the progress line. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ["kB", "MB", "GB"];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
