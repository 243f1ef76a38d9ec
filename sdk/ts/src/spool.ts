// The spool is an append-only JSONL file per run holding every batch the server has not acknowledged
// yet, so a process that dies while the server is away still leaves its data on disk.
//
// Lines (one JSON object each, written in this order):
//   {"kind":"run","id":"…","project":"…","name":"…","config":{…},"url":"http://…","startedAt":1795900000.25}   once, when the file is created
//   {"kind":"batch","seq":17,"body":{"seq":17,"rows":[…],"histograms":[…],"events":[…]}}
//   {"kind":"ack","seq":17}                                         the server acknowledged seq 17
//   {"kind":"finish","status":"finished","finishedAt":1795903600.5}  finish() ran out of time (or the key was refused)
//   {"kind":"config","config":{…}}   the whole config, merged after the header was written (Python's update_config); sync reads it
//   {"kind":"patch","body":{"tags":[…],"notes":"…"}}   the run's tags/notes (Python's babysit.wandb; also "patch" in the header); sync PATCHes them
// A batch is pending when no ack with its seq follows; a later batch line with the same seq replaces an
// earlier one (a resumed run's tentative steps, resolved). Appends are synchronous so that the order on
// disk is the order of events, and a torn line (the process died mid-write, or a write failed) is
// skipped on load. The file is deleted once nothing in it is pending.
//
// Items logged without a step to a resumed run before the server said where the run stopped carry
// their step as tentative: {"unresolvedAfter":F,"step":T,…} means "T assumes the run stopped at F";
// once the server answers that it stopped at L, the step is T + max(0, L - F) (see resolveItem).
//
// Node has no flock, so while a process has a spool file open it says so in a file beside it,
// `<spool>.owner` ({"pid","host"}), removed when it closes the file; sync() leaves a spool alone while
// its owner is alive (see sync.ts, which also honours the Python SDK's flock).

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface RunMeta {
  id: string;
  project: string;
  name?: string;
  config?: Record<string, unknown>;
  /** When init() ran (Unix seconds): sent as startedAt, so a run replayed later keeps its real start. */
  startedAt?: number;
}

/** A batch read back from a spool: its items as JSON texts, see Batch in transport.ts. */
export interface SpooledBatch {
  seq: number;
  rows: string[];
  /** Metric values (and epoch) of each row. */
  rowPoints: number[];
  histograms: string[];
  events: string[];
  /** Largest step in the batch (tentative ones included), or null when it has none. */
  maxStep: number | null;
  /** Smallest `unresolvedAfter` of its tentative items, or null when it has none. */
  floor: number | null;
}

export class Spool {
  readonly path: string;
  private fd: number | null = null;
  /** The last write failed: the file may end in a torn line, which the next write must close first. */
  private failed = false;

  constructor(
    dir: string,
    private readonly meta: RunMeta,
    private readonly onError: (kind: string, message: string) => void,
    /** The server the batches are for, written in the header so that sync() sends them there (as the Python SDK does). */
    private readonly url?: string,
  ) {
    this.path = path.join(dir, `${meta.id}.jsonl`);
  }

  /** True when the last write failed; the SDK then holds unsent batches in memory, bounded, and tries again. */
  get broken(): boolean {
    return this.failed;
  }

  /**
   * Reads the batches an earlier process left unacknowledged, in seq order, and rewrites the file
   * to hold only those (or deletes it when there are none).
   */
  load(): SpooledBatch[] {
    let text: string;
    try {
      text = fs.readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.fail("read", err);
      return [];
    }
    const batches = new Map<number, SpooledBatch>();
    let torn = 0;
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let rec: { kind?: unknown; seq?: unknown; body?: unknown; startedAt?: unknown };
      try {
        rec = JSON.parse(line);
      } catch {
        torn++; // a process died mid-line, or a write failed
        continue;
      }
      if (rec.kind === "run" && typeof rec.startedAt === "number" && rec.startedAt < (this.meta.startedAt ?? Number.POSITIVE_INFINITY)) {
        // an earlier process of this run that never reached the server: the run started then, and its
        // create (sent with this meta) says so (the server keeps a run's first start on a resume anyway)
        this.meta.startedAt = rec.startedAt;
      }
      if (typeof rec.seq !== "number") continue;
      if (rec.kind === "ack") batches.delete(rec.seq);
      else if (rec.kind === "batch" && rec.body && typeof rec.body === "object") {
        batches.set(rec.seq, readBatch(rec.seq, rec.body as Record<string, unknown>));
      }
    }
    // What a torn line held cannot be counted: say that it was there.
    if (torn > 0)
      this.onError("torn", `skipped ${torn} unreadable line(s) of spool file ${this.path} (cut off when a write failed or a process died)`);
    const pending = [...batches.values()].sort((a, b) => a.seq - b.seq);
    this.rewrite(pending);
    return pending;
  }

  /** Writes a batch; false when the write failed (the batch is then not on disk). */
  appendBatch(seq: number, body: string): boolean {
    return this.append(`{"kind":"batch","seq":${seq},"body":${body}}\n`);
  }

  appendAck(seq: number): boolean {
    return this.append(`{"kind":"ack","seq":${seq}}\n`);
  }

  /** `finishedAt`: when finish() ran (Unix seconds), replayed as the run's end. */
  appendFinish(status: string, finishedAt?: number): boolean {
    return this.append(`${JSON.stringify({ kind: "finish", status, finishedAt })}\n`);
  }

  /** Deletes the file: everything in it was acknowledged. */
  remove(): void {
    this.close();
    try {
      fs.rmSync(this.path, { force: true });
    } catch (err) {
      this.fail("delete", err);
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed by the OS at exit
    }
    this.fd = null;
    try {
      fs.rmSync(ownerPath(this.path), { force: true });
    } catch {
      // a stale owner file names a dead process, which sync() sees
    }
  }

  /** Every write is tried, also after a failure (a full disk frees up); false when this one failed. */
  private append(line: string): boolean {
    try {
      if (this.fd === null) {
        fs.mkdirSync(path.dirname(this.path), { recursive: true });
        const isNew = !fs.existsSync(this.path);
        this.fd = fs.openSync(this.path, "a");
        writeOwner(this.path);
        if (isNew) fs.writeSync(this.fd, this.header());
      }
      // A failed write may have left half a line: end it, so that only it is skipped on load.
      writeAll(this.fd, this.failed ? `\n${line}` : line);
      this.failed = false;
      return true;
    } catch (err) {
      this.fail("write", err);
      return false;
    }
  }

  private rewrite(pending: SpooledBatch[]): void {
    try {
      if (pending.length === 0) {
        fs.rmSync(this.path, { force: true });
        return;
      }
      const tmp = `${this.path}.${process.pid}.tmp`;
      const lines = pending.map((b) => `{"kind":"batch","seq":${b.seq},"body":${batchBody(b.seq, b)}}\n`);
      fs.writeFileSync(tmp, this.header() + lines.join(""));
      fs.renameSync(tmp, this.path);
    } catch (err) {
      this.fail("rewrite", err);
    }
  }

  private header(): string {
    return `${JSON.stringify({ kind: "run", ...this.meta, url: this.url })}\n`;
  }

  private fail(what: "read" | "rewrite" | "write" | "delete", err: unknown): void {
    this.failed = true;
    this.close();
    const then = {
      read: "batches an earlier process may have left in it are not resent",
      rewrite: "it is left as it was, so its batches may be resent (the server stores them once)",
      write: "unsent data is kept in memory instead (bounded) and the file is tried again",
      delete: "its batches may be resent by a later init (the server stores them once)",
    }[what];
    this.onError(what, `cannot ${what} spool file ${this.path} (${(err as Error).message}); ${then}`);
  }
}

/** The file beside a spool that names the live process writing it. */
export function ownerPath(spoolPath: string): string {
  return `${spoolPath}.owner`;
}

/** Says that this process has the spool file open (best effort: without it sync() only may replay it too early, and the server stores each batch once). */
export function writeOwner(spoolPath: string): void {
  try {
    fs.writeFileSync(ownerPath(spoolPath), JSON.stringify({ pid: process.pid, host: os.hostname() }));
  } catch {
    // see above
  }
}

/** writeSync may write only part of a string (a full disk): write the rest, or throw. */
function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    const n = fs.writeSync(fd, buf, off, buf.length - off);
    if (n <= 0) throw new Error("short write");
    off += n;
  }
}

const TENTATIVE = '{"unresolvedAfter":';

/** True when an item's step is tentative (logged without a step to a resumed run before the server answered). */
export function isTentative(json: string): boolean {
  return json.startsWith(TENTATIVE);
}

/** A tentative step resolved: the run stopped at `lastStep` (-1: nothing stored), not at `floor`. */
export function resolvedStep(step: number, floor: number, lastStep: number): number {
  return Math.max(0, step + Math.max(0, lastStep - floor));
}

/**
 * An item's JSON with its tentative step resolved against the run's last stored step `lastStep`
 * (-1 when none), or the item unchanged when its step is not tentative. Items are written with
 * `unresolvedAfter` and `step` first, so this rewrites only their start; anything else is parsed.
 */
export function resolveItem(json: string, lastStep: number): string {
  if (!isTentative(json)) return json;
  const comma = json.indexOf(",", TENTATIVE.length);
  const floor = Number(json.slice(TENTATIVE.length, comma));
  const STEP = '"step":';
  if (comma > 0 && Number.isSafeInteger(floor) && json.startsWith(STEP, comma + 1)) {
    const from = comma + 1 + STEP.length;
    let end = from;
    while (end < json.length && json[end] !== "," && json[end] !== "}") end++;
    const step = Number(json.slice(from, end));
    if (end > from && Number.isSafeInteger(step)) return `{"step":${resolvedStep(step, floor, lastStep)}${json.slice(end)}`;
  }
  const item = JSON.parse(json) as { unresolvedAfter?: unknown; step?: unknown };
  const f = typeof item.unresolvedAfter === "number" ? item.unresolvedAfter : -1;
  item.unresolvedAfter = undefined;
  if (typeof item.step === "number") item.step = resolvedStep(item.step, f, lastStep);
  return JSON.stringify(item);
}

/** The POST /log body of a batch. */
export function batchBody(seq: number, b: { rows: string[]; histograms: string[]; events: string[] }): string {
  return `{"seq":${seq},"rows":[${b.rows.join(",")}],"histograms":[${b.histograms.join(",")}],"events":[${b.events.join(",")}]}`;
}

function readBatch(seq: number, body: Record<string, unknown>): SpooledBatch {
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const rows = list(body.rows) as Array<{ metrics?: object; epoch?: unknown; step?: unknown }>;
  const histograms = list(body.histograms) as Array<{ step?: unknown }>;
  const events = list(body.events) as Array<{ step?: unknown }>;
  let maxStep: number | null = null;
  let floor: number | null = null;
  for (const item of [...rows, ...histograms, ...events] as Array<{ step?: unknown; unresolvedAfter?: unknown }>) {
    if (typeof item?.step === "number" && (maxStep === null || item.step > maxStep)) maxStep = item.step;
    const f = item?.unresolvedAfter;
    if (typeof f === "number" && (floor === null || f < floor)) floor = f;
  }
  return {
    seq,
    rows: rows.map((r) => JSON.stringify(r)),
    rowPoints: rows.map((r) => (r?.metrics ? Object.keys(r.metrics).length : 0) + (r?.epoch !== undefined ? 1 : 0)),
    histograms: histograms.map((h) => JSON.stringify(h)),
    events: events.map((e) => JSON.stringify(e)),
    maxStep,
    floor,
  };
}
