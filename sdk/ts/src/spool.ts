// The spool is an append-only JSONL file per run holding every batch the server has not acknowledged
// yet, so a process that dies while the server is away still leaves its data on disk.
//
// Lines (one JSON object each, written in this order):
//   {"kind":"run","id":"…","project":"…","name":"…","config":{…}}   once, when the file is created
//   {"kind":"batch","seq":17,"body":{"seq":17,"rows":[…],"histograms":[…],"events":[…]}}
//   {"kind":"ack","seq":17}                                         the server acknowledged seq 17
//   {"kind":"finish","status":"finished"}                           finish() ran out of time
// A batch is pending when no ack with its seq follows. Appends are synchronous so that the order on
// disk is the order of events, and a torn last line (the process died mid-write) is skipped on load.
// The file is deleted once nothing in it is pending.

import * as fs from "node:fs";
import * as path from "node:path";

export interface RunMeta {
  id: string;
  project: string;
  name?: string;
  config?: Record<string, unknown>;
}

/** A batch read back from a spool: its items as JSON texts, see Batch in transport.ts. */
export interface SpooledBatch {
  seq: number;
  rows: string[];
  /** Metric values (and epoch) of each row. */
  rowPoints: number[];
  histograms: string[];
  events: string[];
  /** Largest step in the batch, or null when it has none. */
  maxStep: number | null;
}

export class Spool {
  readonly path: string;
  private fd: number | null = null;
  private failed = false;

  constructor(
    dir: string,
    private readonly meta: RunMeta,
    private readonly onError: (message: string) => void,
  ) {
    this.path = path.join(dir, `${meta.id}.jsonl`);
  }

  /** True when writing failed once; the SDK then keeps unsent batches in memory only. */
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
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let rec: { kind?: unknown; seq?: unknown; body?: unknown };
      try {
        rec = JSON.parse(line);
      } catch {
        continue; // torn write from a process that died mid-line
      }
      if (typeof rec.seq !== "number") continue;
      if (rec.kind === "ack") batches.delete(rec.seq);
      else if (rec.kind === "batch" && rec.body && typeof rec.body === "object") {
        batches.set(rec.seq, readBatch(rec.seq, rec.body as Record<string, unknown>));
      }
    }
    const pending = [...batches.values()].sort((a, b) => a.seq - b.seq);
    this.rewrite(pending);
    return pending;
  }

  appendBatch(seq: number, body: string): void {
    this.append(`{"kind":"batch","seq":${seq},"body":${body}}\n`);
  }

  appendAck(seq: number): void {
    this.append(`{"kind":"ack","seq":${seq}}\n`);
  }

  appendFinish(status: string): void {
    this.append(`${JSON.stringify({ kind: "finish", status })}\n`);
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
  }

  private append(line: string): void {
    if (this.failed) return;
    try {
      if (this.fd === null) {
        fs.mkdirSync(path.dirname(this.path), { recursive: true });
        const isNew = !fs.existsSync(this.path);
        this.fd = fs.openSync(this.path, "a");
        if (isNew) fs.writeSync(this.fd, this.header());
      }
      fs.writeSync(this.fd, line);
    } catch (err) {
      this.fail("write", err);
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
    return `${JSON.stringify({ kind: "run", ...this.meta })}\n`;
  }

  private fail(what: string, err: unknown): void {
    this.failed = true;
    this.close();
    this.onError(`cannot ${what} spool file ${this.path} (${(err as Error).message}); unsent data is kept in memory only`);
  }
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
  for (const item of [...rows, ...histograms, ...events]) {
    if (typeof item?.step === "number" && (maxStep === null || item.step > maxStep)) maxStep = item.step;
  }
  return {
    seq,
    rows: rows.map((r) => JSON.stringify(r)),
    rowPoints: rows.map((r) => (r?.metrics ? Object.keys(r.metrics).length : 0) + (r?.epoch !== undefined ? 1 : 0)),
    histograms: histograms.map((h) => JSON.stringify(h)),
    events: events.map((e) => JSON.stringify(e)),
    maxStep,
  };
}
