// Background delivery of one run's data: queue -> batches -> POST /log, one request in flight at a
// time, retries with capped exponential backoff, spooling to disk while the server is away.
//
// Nothing here throws or blocks the caller: log() only pushes onto `queue`, and everything else
// happens in `pump()`, which is driven by an unref'd interval timer and by explicit kicks.

import { LIMITS, preview, type WireValue } from "./encode.js";
import { type OnceWarner, counted, say } from "./output.js";
import { Spool, batchBody, resolveItem, resolvedStep, type RunMeta } from "./spool.js";

/** An alert as returned by the server with each accepted batch (docs/api.md, "alerts"). */
export interface Alert {
  code: string;
  severity: "critical" | "warning" | "info" | (string & {});
  title: string;
  message: string;
  step: number | null;
  /** on a symptom: the code of the active root cause it follows from (printed indented under it) */
  causedBy?: string;
  /** on a root cause: the codes of its active symptoms */
  symptoms?: string[];
  [field: string]: unknown;
}

export interface Row {
  /**
   * Set (and first, see resolveItem) when `step` is tentative: logged without a step to a resumed run
   * before the server said where it stopped; `step` then assumes it stopped at this step.
   */
  unresolvedAfter?: number;
  step: number;
  /** Unix seconds; left out (the server then uses its own clock) when the local clock is out of range. */
  time?: number;
  epoch?: number;
  metrics: Record<string, WireValue>;
}

export interface TransportOptions {
  baseUrl: string;
  meta: RunMeta;
  flushIntervalMs: number;
  maxBatchPoints: number;
  requestTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  spoolDir: string;
  /** Unsent data held in memory while the spool file cannot be written, in bytes; beyond it new batches are dropped, counted. */
  maxMemoryBytes: number;
  warner: OnceWarner;
  dashboardUrl: () => string;
  onAlert?: (alert: Alert) => void;
  /** The run's latest step (null before the first, or while still tentative): where a printed alert was raised. */
  currentStep?: () => number | null;
  /** the finish answer's `checklist` (docs/api.md): printed as one line */
  onChecklist?: (checklist: unknown) => void;
  /** The server created or resumed the run; its largest stored step is `lastStep` (-1 when none). */
  onResumed?: (lastStep: number) => void;
  /** The server created or resumed the run; `project` and `name` are the run's own as stored. */
  onCreated?: (run: { project?: string; name?: string; resumed?: boolean }) => void;
  /**
   * BABYSIT_MODE: "offline" writes every batch and the finish to the spool file and makes no request
   * (for `npx babysit-sdk sync`); "disabled" keeps nothing. Default "online".
   */
  mode?: "online" | "offline" | "disabled";
  /** The spool's header names no server (an offline run made without a URL): sync sends it wherever it is pointed. */
  spoolWithoutUrl?: boolean;
  /** Do not print where an offline run's data is kept at finish. */
  quiet?: boolean;
}

/** One reason things were rejected, with how many (see {@link DeliveryResult.rejections}). */
export interface Rejection {
  /** Why, e.g. "metric key longer than 200 code points" or "server: 400 invalid_batch: rows[0].step …". */
  reason: string;
  /** How many metric values (an epoch counts as one), histograms and events it cost. */
  points: number;
}

/** What `finish()` and `flush()` report. */
export interface DeliveryResult {
  /**
   * True when the server acknowledged everything (and, for finish, the final status) and nothing
   * logged to this run was rejected, neither by the SDK's own checks nor by the server.
   */
  delivered: boolean;
  /** Batches not acknowledged by the server. */
  pendingBatches: number;
  /** The spool file holding those batches, or null when nothing was left behind. */
  spoolPath: string | null;
  /** Metric values, histograms and events logged to this run that were rejected so far (0 when none). */
  rejectedPoints: number;
  /** Why they were rejected: one entry per reason, in the order first met. */
  rejections: Rejection[];
}

type Item = { kind: "row"; row: Row; points: number } | { kind: "histogram" | "event"; json: string; points: 0 };

interface Batch {
  seq: number;
  /** Items as JSON texts: the body is built from them, and a batch the server finds too large is split. */
  rows: string[];
  rowPoints: number[];
  histograms: string[];
  events: string[];
  /** Metric values (an epoch counts as one): what maxBatchPoints counts. */
  points: number;
  /** Formation order: halves of a split batch keep their parent's, so flush() waits for them too. */
  order: number;
  spooled: boolean;
  /** A request with this seq may have reached the server (or an earlier process sent it). */
  attempted: boolean;
  notFound: number;
}

/** Metric values, histograms and events in a batch: the unit of rejection counts. */
const itemCount = (b: Batch) => b.points + b.histograms.length + b.events.length;

type HttpFailure = { kind: "http"; status: number; code: string; message: string };
type HttpResult = { kind: "ok"; status: number; body: Record<string, unknown> | undefined } | HttpFailure | { kind: "network"; message: string };

// The contract's per-batch limits; a batch aims well below the body cap, and one item may use it
// all but the room its batch's brackets and seq need.
const MAX_ROWS_PER_BATCH = LIMITS.rowsPerBatch;
const MAX_HISTOGRAMS_PER_BATCH = LIMITS.histogramsPerBatch;
const MAX_EVENTS_PER_BATCH = LIMITS.eventsPerBatch;
const TARGET_BATCH_BYTES = Math.floor(LIMITS.bodyBytes / 4);
const MAX_ITEM_BYTES = LIMITS.bodyBytes - 1024;
// Distinct reasons kept in DeliveryResult.rejections; the rest are counted under "other reasons".
const MAX_REASONS = 20;
const LOST_IN_MEMORY = "the server was unreachable and the spool file could not be written: dropped beyond the in-memory bound";
const LOST_AT_END = "the server was unreachable and the spool file could not be written: not delivered when the run ended";
// How far to jump when a fresh seq turns out to be taken (see seqCollision()).
const SEQ_JUMP = 1_000_000;

export class Transport {
  readonly spool: Spool;
  private readonly o: TransportOptions;
  private queue: Item[] = [];
  private queuedPoints = 0;
  private pending: Batch[] = [];
  private nextSeq: number;
  private created = false;
  /** The server refused to create the run: nothing logged to it can be delivered. */
  private rejected = false;
  private rejectedReason = "";
  private sendConfig = true;
  private formed = 0;
  private offline = false;
  private warnedOffline = false;
  private spoolHasPending = false;
  private pumping = false;
  private stopped = false;
  private closed = false;
  private flushDue = false;
  private finishStatus: string | null = null;
  /** When finish() ran (Unix seconds): the run's end, also when the finish is replayed later. */
  private finishedAt: number | undefined;
  private finishSent = false;
  /** The server's last answer was a 401 (no key, or a key it will not take): nothing is taken until the key changes. */
  private keyRefusal: HttpFailure | null = null;
  /** A 401 came after finish() was called: finish stops waiting (what cannot come). */
  private refusedWhileFinishing = false;
  /** The refusal already printed, so that it is said once (and finish adds no second line for it). */
  private saidRefusal = "";
  private backoffAttempt = 0;
  private wakeSleeper: (() => void) | null = null;
  private inflight: AbortController | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly printedAlerts = new Set<string>();
  private readonly notifiedAlerts = new Set<string>();
  private firstCreateDone!: () => void;
  private readonly firstCreate = new Promise<void>((resolve) => (this.firstCreateDone = resolve));
  private readonly timer: NodeJS.Timeout;
  private readonly rejections = new Map<string, number>();
  private serverPath: string | null = null;
  /** The batch whose request is in flight: never dropped from memory under it. */
  private sending: Batch | null = null;
  /** Largest step in the batches an earlier process left in the spool (tentative ones included), or null. */
  readonly spooledMaxStep: number | null;
  /** Smallest floor of tentative steps an earlier process left in the spool, or null when there are none. */
  readonly spooledFloor: number | null;

  constructor(options: TransportOptions) {
    this.o = options;
    this.spool = new Spool(
      options.spoolDir,
      options.meta,
      (kind, m) => options.warner.warn(`spool:${kind}`, m),
      options.spoolWithoutUrl ? undefined : options.baseUrl,
    );
    const leftovers = options.mode === "disabled" ? [] : this.spool.load();
    this.pending = leftovers.map(({ maxStep: _m, floor: _f, ...b }) => ({
      ...b,
      points: b.rowPoints.reduce((a, n) => a + n, 0),
      order: this.formed++,
      spooled: true,
      attempted: true,
      notFound: 0,
    }));
    const steps = leftovers.map((b) => b.maxStep).filter((s): s is number => s !== null);
    this.spooledMaxStep = steps.length ? steps.reduce((a, b) => Math.max(a, b)) : null;
    const floors = leftovers.map((b) => b.floor).filter((f): f is number => f !== null);
    this.spooledFloor = floors.length ? floors.reduce((a, b) => Math.min(a, b)) : null;
    this.spoolHasPending = leftovers.length > 0;
    // Seqs start at the wall clock in ms, so a later process resuming this run id (and sending its
    // own batches) does not reuse the seqs of an earlier one, which the server would drop as duplicates.
    const lastSpooled = leftovers.length ? leftovers[leftovers.length - 1]!.seq : -1;
    this.nextSeq = Math.max(Date.now(), lastSpooled + 1);
    this.timer = setInterval(() => this.tick(), options.flushIntervalMs);
    this.timer.unref();
    if (options.mode === "offline") this.offline = true;
    if (options.mode === "disabled") {
      clearInterval(this.timer);
      this.stopped = true;
    }
  }

  private get networkOff(): boolean {
    return this.o.mode === "offline" || this.o.mode === "disabled";
  }

  /** Batches an earlier process left in the spool for this run (they are replayed first). */
  get replayedFromSpool(): number {
    return this.pending.filter((b) => b.attempted && b.spooled).length;
  }

  /** Server-side path of the dashboard page, once the server told us. */
  get dashboardPath(): string | null {
    return this.serverPath;
  }

  /**
   * Starts creating (or resuming) the run on the server and waits for the first answer, at most
   * `timeoutMs`. Never rejects: a down server is retried in the background.
   */
  async start(timeoutMs: number): Promise<void> {
    if (this.networkOff) return;
    this.kick();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstCreate, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  enqueueRow(row: Row, points: number): void {
    this.push({ kind: "row", row, points });
  }

  enqueue(kind: "histogram" | "event", json: string): void {
    this.push({ kind, json, points: 0 });
  }

  /**
   * Counts `points` things logged to this run as rejected for `reason` (the caller has warned).
   * They make every later DeliveryResult say `delivered: false`.
   */
  reject(reason: string, points: number): void {
    if (points <= 0) return;
    // Server messages name the bad field, so they can differ per batch: keep the report bounded.
    if (!this.rejections.has(reason) && this.rejections.size >= MAX_REASONS) reason = "other reasons";
    this.rejections.set(reason, (this.rejections.get(reason) ?? 0) + points);
  }

  /** Batches everything queued so far and waits until the server acknowledged it, or `timeoutMs`. */
  async flush(timeoutMs: number): Promise<DeliveryResult> {
    if (this.o.mode === "disabled") return this.result(true);
    if (this.o.mode === "offline" && !this.stopped) {
      this.formAll(); // spooled as formed
      return this.result(false);
    }
    if (this.stopped) return this.result(false);
    this.formAll();
    const target = this.formed - 1;
    this.wake();
    this.kick();
    const ok = await this.waitFor(() => this.rejected || !this.pending.some((b) => b.order <= target), timeoutMs);
    return this.result(ok && !this.rejected);
  }

  /**
   * Sends everything still queued and the final status, waiting at most `timeoutMs`. What could not
   * be sent in time is left in the spool file. Never rejects.
   */
  async finish(status: string, timeoutMs: number): Promise<DeliveryResult> {
    if (this.o.mode === "disabled") {
      this.closed = true;
      return this.result(true);
    }
    if (this.o.mode === "offline") return this.finishOffline(status);
    this.closed = true;
    this.finishStatus = status;
    this.finishedAt = Date.now() / 1000;
    this.formAll();
    this.wake(); // one more try now, not after the backoff: the key may have been fixed meanwhile
    this.kick();
    const settled = () => this.rejected || (this.pending.length === 0 && this.finishSent);
    const ok = (await this.waitFor(() => settled() || this.refusedWhileFinishing, timeoutMs)) && settled();
    this.stop();
    if (ok || this.rejected) {
      if (!this.spoolHasPending) this.spool.close();
      this.sayRejected();
      return this.result(ok && !this.rejected);
    }
    this.spoolEverything();
    if (!this.finishSent) this.spool.appendFinish(status, this.finishedAt);
    this.spool.close();
    this.loseUnspooled(LOST_AT_END);
    this.sayRejected();
    if (this.keyRefusal !== null) {
      // the server answered: the one line names the key, never "did not acknowledge within"
      this.sayRefusal();
    } else if (this.pending.length > 0) {
      const points = this.pending.reduce((n, b) => n + b.points, 0);
      say(
        `babysit: server at ${this.o.baseUrl} did not acknowledge everything within ${timeoutMs / 1000} s; ` +
          `${counted(this.pending.length, "batch", "batches")} (${counted(points, "point")}) are saved in ${this.spool.path} and will be sent ` +
          `by \`npx babysit-sdk sync\` or the next time run ${this.o.meta.id} is resumed with init({ id: "${this.o.meta.id}", ... })`,
      );
    }
    return this.result(false);
  }

  /** An offline run ends: everything and the finish record go to the spool, for `npx babysit-sdk sync`. */
  private finishOffline(status: string): DeliveryResult {
    if (this.stopped) return this.result(false);
    this.closed = true;
    this.finishStatus = status;
    this.finishedAt = Date.now() / 1000;
    this.stop();
    this.spoolEverything();
    if (this.spool.appendFinish(status, this.finishedAt)) this.spoolHasPending = true;
    this.spool.close();
    this.loseUnspooled(LOST_AT_END);
    this.sayRejected();
    if (!this.o.quiet) say(`babysit: offline run ${this.o.meta.id} kept in ${this.spool.path}; send it with \`npx babysit-sdk sync\``);
    return this.result(false);
  }

  private sayRejected(): void {
    const rejected = this.rejectedTotal();
    if (rejected === 0) return;
    const why = [...this.rejections].map(([reason, n]) => `${n}: ${reason}`).join("; ");
    say(`babysit: ${counted(rejected, "point")} logged to run ${this.o.meta.id} ${rejected === 1 ? "was" : "were"} rejected and not stored (${why})`);
  }

  /**
   * Last resort at process exit (no more event loop, so no network): writes every unacknowledged
   * batch and everything still queued to the spool file, synchronously.
   */
  emergencySpool(): void {
    if (this.stopped) return;
    this.stop();
    if (this.rejected) return;
    const before = this.pending.filter((b) => !b.spooled).length + this.queue.length;
    this.spoolEverything();
    this.spool.close();
    const lost = this.loseUnspooled(LOST_AT_END);
    if (lost > 0) {
      say(
        `babysit: the process exited before run ${this.o.meta.id} finished, and ${counted(lost, "point")} could not be saved ` +
          `because ${this.spool.path} cannot be written; they are lost`,
      );
    } else if (before > 0) {
      say(
        `babysit: the process exited before run ${this.o.meta.id} finished; unsent data is saved in ` +
          `${this.spool.path} and will be sent by \`npx babysit-sdk sync\` or the next time the run is resumed with init({ id: "${this.o.meta.id}", ... })`,
      );
    }
  }

  private push(item: Item): void {
    if (this.o.mode === "disabled") return;
    if (this.closed) {
      this.o.warner.warn("closed", `run ${this.o.meta.id} is finished; data logged after finish() is dropped`);
      this.reject("logged after finish()", item.kind === "row" ? item.points : 1);
      return;
    }
    if (this.rejected) {
      this.reject(this.rejectedReason, item.kind === "row" ? item.points : 1);
      return;
    }
    this.queue.push(item);
    this.queuedPoints += item.points;
    if (this.queuedPoints >= this.o.maxBatchPoints) this.kick();
  }

  private tick(): void {
    this.flushDue = true;
    // While the server is away, every tick's data goes to disk right away: a process that dies
    // then loses at most one flush interval of data.
    if (this.offline) {
      this.formAll();
      this.boundMemory();
    }
    this.kick();
  }

  private kick(): void {
    if (this.pumping || this.stopped || this.networkOff) return;
    void this.pump();
  }

  private wake(): void {
    this.wakeSleeper?.();
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.wake();
    this.inflight?.abort(new Error("babysit: run finished"));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (!this.stopped) {
        if (!this.created) {
          if (this.rejected) return;
          const outcome = await this.createRun();
          if (outcome === "retry") await this.backoff();
          continue;
        }
        const batch = this.pending[0] ?? this.nextBatch();
        if (batch) {
          const outcome = await this.sendBatch(batch);
          if (outcome === "retry") await this.backoff();
          else this.backoffAttempt = 0;
          continue;
        }
        if (this.finishStatus !== null && !this.finishSent) {
          if ((await this.sendFinish()) === "retry") await this.backoff();
          continue;
        }
        return;
      }
    } catch (err) {
      // A bug here must not surface as an unhandled rejection in the user's process.
      this.o.warner.warn("internal", `internal error in the background sender: ${(err as Error).stack ?? err}`);
    } finally {
      this.pumping = false;
      if (this.stopped) this.spool.close(); // acks that raced with finish() reopened it
      this.notify();
    }
  }

  private nextBatch(): Batch | null {
    if (this.queue.length === 0) {
      this.flushDue = false;
      return null;
    }
    if (!(this.flushDue || this.closed || this.queuedPoints >= this.o.maxBatchPoints)) return null;
    const batch = this.formBatch();
    if (this.queuedPoints < this.o.maxBatchPoints) this.flushDue = false;
    return batch;
  }

  private formAll(): void {
    while (this.queue.length > 0) this.formBatch();
  }

  /** Moves a prefix of the queue into a new batch (spooled right away while offline). */
  private formBatch(): Batch | null {
    const rows: string[] = [];
    const rowPoints: number[] = [];
    const histograms: string[] = [];
    const events: string[] = [];
    let points = 0;
    let bytes = 0;
    let taken = 0;
    for (; taken < this.queue.length; taken++) {
      const item = this.queue[taken]!;
      const json = item.kind === "row" ? JSON.stringify(item.row) : item.json;
      // The body cap is in UTF-8 bytes; a UTF-16 unit is at most 3 of them.
      const size = json.length * 3 <= TARGET_BATCH_BYTES ? json.length : Buffer.byteLength(json, "utf8");
      if (size > MAX_ITEM_BYTES) {
        const reason = `${item.kind} larger than the ${LIMITS.bodyBytes}-byte request limit`;
        this.o.warner.warn(`too-large:${item.kind}`, `dropped a ${item.kind} of ${size} bytes: ${reason}`);
        this.reject(reason, item.kind === "row" ? item.points : 1);
        this.queuedPoints -= item.points;
        continue;
      }
      const full =
        bytes + size > TARGET_BATCH_BYTES ||
        rows.length >= MAX_ROWS_PER_BATCH ||
        histograms.length >= MAX_HISTOGRAMS_PER_BATCH ||
        events.length >= MAX_EVENTS_PER_BATCH;
      if (full && bytes > 0) break;
      if (item.kind === "row") {
        rows.push(json);
        rowPoints.push(item.points);
      } else (item.kind === "histogram" ? histograms : events).push(json);
      bytes += size;
      points += item.points;
      if (points >= this.o.maxBatchPoints) {
        taken++;
        break;
      }
    }
    this.queue.splice(0, taken);
    this.queuedPoints -= points;
    if (bytes === 0) return null;
    const batch: Batch = {
      seq: this.nextSeq++,
      rows,
      rowPoints,
      histograms,
      events,
      points,
      order: this.formed++,
      spooled: false,
      attempted: false,
      notFound: 0,
    };
    this.pending.push(batch);
    if (this.offline) this.spoolBatch(batch);
    return batch;
  }

  private body(batch: Batch): string {
    return batchBody(batch.seq, batch);
  }

  /** Writes the batch to the spool; when that fails it stays in memory only (see boundMemory). */
  private spoolBatch(batch: Batch): void {
    if (batch.spooled) return;
    if (!this.spool.appendBatch(batch.seq, this.body(batch))) return;
    batch.spooled = true;
    this.spoolHasPending = true;
  }

  private spoolEverything(): void {
    for (const b of this.pending) this.spoolBatch(b);
    this.offline = true;
    this.formAll();
  }

  /**
   * While the spool cannot be written, unsent batches live in memory only: keep them up to
   * maxMemoryBytes (the oldest first, so the run's curve has no holes) and count newer ones as lost.
   */
  private boundMemory(): void {
    if (!this.spool.broken) return;
    let bytes = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const b = this.pending[i]!;
      if (b.spooled) continue;
      const size = batchBytes(b);
      if (bytes + size <= this.o.maxMemoryBytes || b === this.sending) {
        bytes += size;
        continue;
      }
      this.dropLost(b, LOST_IN_MEMORY);
      this.o.warner.warn(
        "memory",
        `more than ${this.o.maxMemoryBytes} bytes of unsent data of run ${this.o.meta.id} and no spool file to keep it in; ` +
          `newer batches are dropped and counted in finish()'s rejections`,
      );
      i--;
    }
  }

  /** Drops every batch that is neither acknowledged nor on disk, counted as lost; returns the points. */
  private loseUnspooled(reason: string): number {
    let lost = 0;
    for (const b of [...this.pending]) {
      if (b.spooled) continue;
      lost += itemCount(b);
      this.dropLost(b, reason);
    }
    return lost;
  }

  private dropLost(batch: Batch, reason: string): void {
    this.reject(reason, itemCount(batch));
    const i = this.pending.indexOf(batch);
    if (i >= 0) this.pending.splice(i, 1);
    this.notify();
  }

  /**
   * The server said where the run stopped (`lastStep`, -1 when nothing is stored): tentative steps
   * (logged without a step to a resumed run before it answered) become real ones after it, in the
   * queue, in memory and in the spool (a batch line with the same seq replaces the tentative one).
   */
  private resolveTentative(lastStep: number): void {
    for (const item of this.queue) {
      if (item.kind !== "row") item.json = resolveItem(item.json, lastStep);
      else if (item.row.unresolvedAfter !== undefined) {
        item.row.step = resolvedStep(item.row.step, item.row.unresolvedAfter, lastStep);
        item.row.unresolvedAfter = undefined;
      }
    }
    for (const b of this.pending) {
      let changed = false;
      for (const list of [b.rows, b.histograms, b.events]) {
        for (let i = 0; i < list.length; i++) {
          const resolved = resolveItem(list[i]!, lastStep);
          if (resolved === list[i]) continue;
          list[i] = resolved;
          changed = true;
        }
      }
      if (changed && b.spooled) this.spool.appendBatch(b.seq, this.body(b));
    }
  }

  private async createRun(): Promise<"ok" | "retry" | "rejected"> {
    const { id, project, name, startedAt } = this.o.meta;
    const config = this.sendConfig ? this.o.meta.config : undefined;
    const res = await this.request("/api/v1/runs", JSON.stringify({ id, project, name, config, startedAt }));
    if (res.kind === "http" && isPermanent(res) && res.status !== 404 && config !== undefined) {
      // The SDK keeps config within the contract, so a refusal is a server with other limits: a run
      // without its config is worth more than no run at all.
      this.sendConfig = false;
      say(`babysit: the server refused the config of run ${id} (${res.status} ${res.code}: ${res.message}); creating the run without it`);
      return "ok";
    }
    try {
      if (res.kind === "ok") {
        this.created = true;
        if (typeof res.body?.url === "string") this.serverPath = res.body.url;
        const stored = { project: res.body?.project, name: res.body?.name };
        this.o.onCreated?.({
          project: typeof stored.project === "string" ? stored.project : undefined,
          name: typeof stored.name === "string" ? stored.name : undefined,
          resumed: res.body?.resumed === true,
        });
        const last = res.body?.lastStep;
        const lastStep = typeof last === "number" && Number.isSafeInteger(last) && last >= 0 ? last : -1;
        // Before anything is sent: no batch may reach the server with a tentative step.
        this.resolveTentative(lastStep);
        this.o.onResumed?.(lastStep);
        return "ok";
      }
      if (!isPermanent(res)) {
        this.goOffline(res);
        return "retry";
      }
      this.rejected = true;
      this.rejectedReason = `the server refused to create the run (${res.status} ${res.code}: ${res.message})`;
      for (const b of this.pending) this.reject(this.rejectedReason, itemCount(b));
      for (const item of this.queue) this.reject(this.rejectedReason, item.kind === "row" ? item.points : 1);
      this.queue = [];
      this.pending = [];
      say(
        `babysit: the server refused to create run ${id} (${res.status} ${res.code}: ${res.message}); ` + `nothing logged to this run will be sent`,
      );
      return "rejected";
    } finally {
      this.firstCreateDone();
    }
  }

  private async sendBatch(batch: Batch): Promise<"ok" | "retry"> {
    this.sending = batch;
    const res = await this.request(`/api/v1/runs/${encodeURIComponent(this.o.meta.id)}/log`, this.body(batch));
    this.sending = null;
    const firstAttempt = !batch.attempted;
    batch.attempted = true;
    if (res.kind === "ok") {
      if (res.body?.duplicate === true && firstAttempt) {
        this.seqCollision(batch);
        return "ok";
      }
      this.handleAlerts(res.body?.alerts);
      this.handleRefused(res.body?.refused);
      this.settle(batch);
      return "ok";
    }
    if (!isPermanent(res)) {
      this.goOffline(res);
      return "retry";
    }
    if (res.status === 404 && batch.notFound++ === 0) {
      // The run vanished (e.g. the server's database was reset): create it again, then retry.
      this.created = false;
      return "ok";
    }
    if (res.status === 413 && this.split(batch)) return "ok";
    // Sending it again cannot succeed: count it, say why, and go on with the next batch.
    this.reject(`server: ${res.status} ${res.code}: ${res.message}`, itemCount(batch));
    this.o.warner.warn(
      `rejected:${res.status}:${res.code}`,
      `the server rejected a batch of run ${this.o.meta.id} (${res.status} ${res.code}: ${res.message}); ` +
        `dropping it (further rejections with this code are not printed)`,
    );
    this.settle(batch);
    return "ok";
  }

  /**
   * Replaces a batch the server found too large by its two halves, in its place. The first half
   * keeps the seq (a 413 stored nothing under it); the second gets a fresh one. False when the batch
   * holds a single item and cannot be split.
   */
  private split(batch: Batch): boolean {
    const items = [
      ...batch.rows.map((json, i) => ({ kind: "row" as const, json, points: batch.rowPoints[i]! })),
      ...batch.histograms.map((json) => ({ kind: "histogram" as const, json, points: 0 })),
      ...batch.events.map((json) => ({ kind: "event" as const, json, points: 0 })),
    ];
    if (items.length < 2) return false;
    const half = Math.ceil(items.length / 2);
    const make = (part: typeof items, seq: number): Batch => {
      const b: Batch = {
        seq,
        rows: [],
        rowPoints: [],
        histograms: [],
        events: [],
        points: 0,
        order: batch.order,
        spooled: false,
        attempted: false,
        notFound: 0,
      };
      for (const it of part) {
        if (it.kind === "row") {
          b.rows.push(it.json);
          b.rowPoints.push(it.points);
          b.points += it.points;
        } else (it.kind === "histogram" ? b.histograms : b.events).push(it.json);
      }
      return b;
    };
    const first = make(items.slice(0, half), batch.seq);
    first.attempted = batch.attempted; // a duplicate answer then means the whole batch is stored
    const second = make(items.slice(half), this.nextSeq++);
    const i = this.pending.indexOf(batch);
    this.pending.splice(Math.max(i, 0), i < 0 ? 0 : 1, first, second);
    if (batch.spooled) {
      this.spoolBatch(first);
      this.spoolBatch(second);
    }
    this.o.warner.warn("split", `the server found a batch of run ${this.o.meta.id} too large (413); sending it in smaller parts`);
    return true;
  }

  private async sendFinish(): Promise<"ok" | "retry"> {
    const res = await this.request(
      `/api/v1/runs/${encodeURIComponent(this.o.meta.id)}/finish`,
      JSON.stringify({ status: this.finishStatus, finishedAt: this.finishedAt }),
    );
    if (res.kind !== "ok" && !isPermanent(res)) {
      this.goOffline(res);
      return "retry";
    }
    if (res.kind === "ok") {
      this.handleAlerts(res.body?.alerts);
      try {
        if (res.body?.checklist) this.o.onChecklist?.(res.body.checklist);
      } catch {
        // a summary line must never break finish()
      }
    }
    if (isPermanent(res)) {
      this.o.warner.warn("finish", `the server refused to finish run ${this.o.meta.id} (${res.status} ${res.code}: ${res.message})`);
    }
    this.finishSent = true;
    return "ok";
  }

  /** The batch is done with (acknowledged, or rejected for good): drop it from memory and disk. */
  private settle(batch: Batch): void {
    const i = this.pending.indexOf(batch);
    if (i >= 0) this.pending.splice(i, 1);
    if (batch.spooled) this.spool.appendAck(batch.seq);
    if (this.spoolHasPending && !this.pending.some((b) => b.spooled)) {
      this.spool.remove();
      this.spoolHasPending = false;
    }
    if (this.offline && this.pending.length === 0) {
      this.offline = false;
      this.o.warner.warn("back", `connection to ${this.o.baseUrl} is back; spooled batches were delivered`);
    }
    this.notify();
  }

  /**
   * The server already holds a batch with this never-sent seq: another process used it for this run
   * id (clocks differ, or two processes share the id). Renumber the unsent batches past it.
   */
  private seqCollision(batch: Batch): void {
    this.nextSeq = Math.max(this.nextSeq, Date.now(), batch.seq + 1) + SEQ_JUMP;
    for (const b of this.pending) {
      if (b !== batch && b.attempted) continue;
      const old = b.seq;
      b.seq = this.nextSeq++;
      if (b.spooled) {
        // The old seq is taken on the server, so its line is worthless even when the new one cannot
        // be written: then the batch is held in memory like any other the spool could not take.
        b.spooled = this.spool.appendBatch(b.seq, this.body(b));
        this.spool.appendAck(old);
      }
    }
    this.pending.sort((a, b) => a.seq - b.seq);
    this.o.warner.warn("seq", `batch numbers of run ${this.o.meta.id} clashed with an earlier process; renumbered`);
  }

  private goOffline(res: HttpResult): void {
    if (this.stopped) return; // finish() gave up and spooled everything already
    if (keyRefused(res)) {
      this.offline = true;
      this.sayRefusal();
    } else if (!this.offline) {
      this.offline = true;
      if (!this.warnedOffline) {
        this.warnedOffline = true;
        const why =
          res.kind === "network"
            ? `cannot reach ${this.o.baseUrl} (${res.message})`
            : `${this.o.baseUrl} answered ${res.status}${res.kind === "http" ? ` ${res.code}` : ""}`;
        say(`babysit: ${why}; saving data to ${this.spool.path} and retrying in the background`);
      }
    }
    // Pending batches first: the file is then in seq order.
    for (const b of this.pending) this.spoolBatch(b);
    this.formAll();
    this.boundMemory();
  }

  /**
   * The server stored a batch but refused part of it (`refused`: e.g. keys beyond the run's key
   * limits, which an earlier process may have used up). Counted, never retried: the rest is stored.
   */
  private handleRefused(refused: unknown): void {
    if (refused === null || typeof refused !== "object") return;
    const r = refused as Record<string, unknown>;
    const count = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : 0);
    const n = count(r.points) + count(r.histograms) + count(r.events);
    const code = typeof r.code === "string" ? r.code : "refused";
    const message = typeof r.message === "string" ? r.message : "part of a batch was refused";
    this.reject(`server: ${code}: ${message}`, n);
    const keys = Array.isArray(r.keys) ? r.keys.filter((k): k is string => typeof k === "string").slice(0, 5) : [];
    const named = keys.length ? `; keys ${keys.map((k) => preview(k)).join(", ")}` : "";
    this.o.warner.warn(
      `refused:${code}`,
      `the server refused part of a batch of run ${this.o.meta.id} (${code}: ${message}${named}); the rest is stored, ` +
        `the refused part is counted in finish()'s rejections (further refusals are not printed)`,
    );
  }

  private handleAlerts(alerts: unknown): void {
    if (!Array.isArray(alerts)) return;
    for (const a of alerts as Alert[]) {
      if (!a || typeof a !== "object" || typeof a.code !== "string") continue;
      const severity = typeof a.severity === "string" ? a.severity : "warning";
      if (!this.printedAlerts.has(a.code)) {
        this.printedAlerts.add(a.code);
        const at = alertWhere(a.step, this.o.currentStep?.() ?? null);
        // a symptom: the server sends it after its root cause, so it lands indented under it
        const symptom = typeof a.causedBy === "string" && a.causedBy ? `  \\_ ${a.code}${at} (caused by ${a.causedBy})` : "";
        say(`babysit [${severity}] ${symptom || `${a.code}${at}`}: ${a.title ?? a.message ?? ""} -> ${this.o.dashboardUrl()}`);
      }
      const key = `${a.code}\u0000${severity}`;
      if (this.o.onAlert && !this.notifiedAlerts.has(key)) {
        this.notifiedAlerts.add(key);
        try {
          this.o.onAlert(a);
        } catch (err) {
          this.o.warner.warn("onAlert", `onAlert threw: ${(err as Error).message ?? err}`);
        }
      }
    }
  }

  /** The one line for a refused key, once per reason: what is wrong, where the data is, what to do. */
  private sayRefusal(): void {
    const res = this.keyRefusal;
    if (res === null) return;
    const problem =
      apiKey() === null
        ? // without a key the server did not refuse one: say what is missing, not what is wrong
          `the server at ${this.o.baseUrl} needs an API key (${res.status} ${res.code}: ${res.message}) and BABYSIT_API_KEY is not set: ` +
          "make a key on the server's /account page, set BABYSIT_API_KEY to it"
        : `the server at ${this.o.baseUrl} refused the API key (${res.status} ${res.code}: ${res.message}): set BABYSIT_API_KEY to a valid key`;
    if (problem === this.saidRefusal) return;
    this.saidRefusal = problem;
    say(
      `babysit: keeping run ${this.o.meta.id}'s data in ${this.spool.path}: ${problem}, ` +
        `then \`npx babysit-sdk sync\` (or init({ id: "${this.o.meta.id}" }) again) sends what is kept`,
    );
  }

  private async request(path: string, body: string): Promise<HttpResult> {
    const res = await this.fetchJson(path, body);
    if (res.kind !== "ok" && keyRefused(res)) {
      this.keyRefusal = res as HttpFailure;
      if (this.closed) {
        this.refusedWhileFinishing = true;
        this.notify();
      }
    } else {
      this.keyRefusal = null;
    }
    return res;
  }

  private async fetchJson(path: string, body: string): Promise<HttpResult> {
    const controller = new AbortController();
    this.inflight = controller;
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.o.requestTimeoutMs} ms`)), this.o.requestTimeoutMs);
    timer.unref();
    try {
      const res = await fetch(this.o.baseUrl + path, {
        method: "POST",
        headers: authHeaders(),
        body,
        signal: controller.signal,
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (res.ok) return { kind: "ok", status: res.status, body: json as Record<string, unknown> | undefined };
      const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      return {
        kind: "http",
        status: res.status,
        code: typeof error?.code === "string" ? error.code : "error",
        message: typeof error?.message === "string" ? error.message : text.slice(0, 200),
      };
    } catch (err) {
      return { kind: "network", message: describeError(err) };
    } finally {
      clearTimeout(timer);
      if (this.inflight === controller) this.inflight = null;
    }
  }

  /** Sleeps before the next retry: 100 ms, 200 ms, ... capped, with jitter; cut short by wake(). */
  private backoff(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const base = Math.min(this.o.backoffMaxMs, this.o.backoffInitialMs * 2 ** this.backoffAttempt);
    this.backoffAttempt = Math.min(this.backoffAttempt + 1, 30);
    const delay = Math.min(this.o.backoffMaxMs, base * (0.75 + Math.random() * 0.5));
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = null;
        resolve();
      };
      const timer = setTimeout(done, delay);
      timer.unref(); // a server that is away must not keep a finished script alive
      this.wakeSleeper = done;
    });
  }

  /** Resolves true once `done()` holds, false after `timeoutMs`. Keeps the process alive meanwhile. */
  private waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  private rejectedTotal(): number {
    let n = 0;
    for (const points of this.rejections.values()) n += points;
    return n;
  }

  private result(delivered: boolean): DeliveryResult {
    const rejectedPoints = this.rejectedTotal();
    return {
      delivered: delivered && rejectedPoints === 0,
      pendingBatches: this.pending.length,
      spoolPath: this.spoolHasPending ? this.spool.path : null,
      rejectedPoints,
      rejections: [...this.rejections].map(([reason, points]) => ({ reason, points })),
    };
  }
}

/** Rough size of a batch in memory (UTF-16 units of its JSON texts). */
function batchBytes(b: Batch): number {
  let n = 0;
  for (const list of [b.rows, b.histograms, b.events]) for (const json of list) n += json.length;
  return n;
}

/**
 * 4xx other than 408/429: sending the same request again cannot succeed (a 413 batch is split
 * first). A refused API key (401: missing, unknown, revoked, expired) is not: it can be fixed, so
 * the data is kept (spooled) and retried like a server that is away. A 403 (a key that may not
 * write to this project) stays a rejection, counted with its reason.
 */
function isPermanent(res: HttpResult): res is HttpFailure {
  return res.kind === "http" && res.status !== 408 && res.status !== 429 && !keyRefused(res) && res.status < 500;
}

function keyRefused(res: HttpResult): boolean {
  return res.kind === "http" && res.status === 401;
}

function apiKey(): string | null {
  return process.env.BABYSIT_API_KEY?.trim() || null;
}

/** A team server's API key from BABYSIT_API_KEY, as a bearer token (docs/team-mode.md); a local server ignores it. */
export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { "content-type": "application/json", authorization: `Bearer ${key}` } : { "content-type": "application/json" };
}

export function describeError(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  if (e?.cause?.code) return e.cause.code;
  if (e?.cause?.message) return e.cause.message;
  return e?.message ?? String(err);
}

/**
 * " at step N" for a printed alert: where it was raised, the run's latest step when it arrives (an
 * alert's own `step` is where its evidence points, often 0 for a whole-run pattern, which read as
 * "raised at step 0"); the evidence's step follows when it is earlier.
 */
export function alertWhere(evidence: unknown, now: number | null): string {
  const ev = typeof evidence === "number" && Number.isFinite(evidence) ? evidence : null;
  if (now === null || !Number.isFinite(now) || (ev !== null && ev >= now)) return ev === null ? "" : ` at step ${ev}`;
  return ` at step ${now}${ev === null ? "" : ` (evidence from step ${ev})`}`;
}
