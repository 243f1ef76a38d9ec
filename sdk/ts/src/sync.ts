// sync(): sends what earlier runs left in the spool directory (their server was away, or refused
// their API key, when they ended), without starting a run: the TypeScript twin of the Python SDK's
// babysit.sync() / `python -m babysit sync`, reading the same files (spool.ts describes them).
//
// Each spool goes to the server it was made for, one at a time, in file-name order. A batch is sent
// with the seq it was spooled under, so a batch the server already holds is not stored twice; it is
// acked in the file once the server answers, so a sync that stops half-way (a server that goes
// away, a refused key, the deadline) leaves only what is still unsent. A run is finished only when
// its spool holds a finish record (finish() gave up waiting), and a spool file is deleted once
// everything in it is acknowledged.

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LIMITS } from "./encode.js";
import { say } from "./output.js";
import { DEFAULT_URL, defaultSpoolDir } from "./run.js";
import { ownerPath, resolvedStep, writeOwner } from "./spool.js";
import { authHeaders, describeError } from "./transport.js";

/** Options of {@link sync}. */
export interface SyncOptions {
  /** Server URL. Default: `BABYSIT_URL` from the environment, else `http://127.0.0.1:3000`. */
  url?: string;
  /** The spool directory. Default `BABYSIT_SPOOL_DIR`, else `~/.babysit/spool` (the same as init()'s). */
  spoolDir?: string;
  /** Give up after this many milliseconds; what is left stays for next time. Default 60,000. */
  timeoutMs?: number;
  /** Send every spool to `url`, whatever server it was made for (e.g. the server moved); warns for each. */
  anyUrl?: boolean;
}

/** A spool file sync() did not send, and why. */
export interface SkippedSpool {
  path: string;
  /** The run it holds, when its header could be read. */
  run: string | null;
  /** `"made for another server"`, `"in use by a running process (it sends them itself)"` or `"unreadable"`. */
  reason: string;
  /** The server it was made for (with "made for another server"), else null. */
  url: string | null;
  /** Batches it holds that no server acknowledged. */
  batches: number;
}

/** What {@link sync} did and what it left (the Python SDK's sync() answer, in camelCase). */
export interface SyncResult {
  /** Spooled runs it took up. */
  runs: number;
  /** Batches the server acknowledged (or refused for good, counted in rejectedPoints). */
  batches: number;
  /** Batches still in the spool: the server went away, refused the key, or the deadline came. */
  batchesLeft: number;
  /** Runs whose spool is still there for those reasons (run sync again). */
  runsLeft: number;
  /** Metric values, histograms and events the server refused for good (not retried, not kept). */
  rejectedPoints: number;
  /** Spools it left alone. */
  skipped: SkippedSpool[];
  /**
   * null, or why the server will take nothing until the key changes: it refused the API key (401),
   * needs one (`missing`: BABYSIT_API_KEY is not set), or the key may not write a run's project (403).
   * sync stopped at once and kept every spool; `message` says what is wrong and what to do.
   */
  refused: KeyRefusal | null;
}

/** The server refused the API key, see {@link SyncResult.refused}. */
export interface KeyRefusal {
  message: string;
  /** No key was sent: one is needed (nothing was refused). */
  missing: boolean;
}

export const SKIP_OTHER_SERVER = "made for another server";
export const SKIP_IN_USE = "in use by a running process (it sends them itself)";
export const SKIP_UNREADABLE = "unreadable";
// A spool whose owner is on another machine (a shared folder) is taken over once idle this long,
// as the Python SDK does where it has no flock.
const FOREIGN_HOST_IDLE_MS = 600_000;
const REQUEST_TIMEOUT_MS = 30_000;
const STEPPED = ["rows", "histograms", "events"] as const;

type Body = Record<string, unknown>;
type Answer = { status: number; body: unknown } | null;

/** A spool file taken up for replay. */
interface Loaded {
  path: string;
  header: Record<string, unknown>;
  /** Pending batches in file order: seq -> body (without its seq). */
  pending: Map<number, Body>;
  /** Seqs of pending batches holding tentative steps. */
  relative: Set<number>;
  /** Largest step of its pending batches that is not tentative, or null. */
  maxStep: number | null;
  finish: string | null;
  /** When finish() ran (Unix seconds), from the finish record. */
  finishedAt: number | undefined;
  createTried: boolean;
  /** A half kept in memory only (its write failed) -> the seq of the batch acked once it is stored. */
  ackAfter: Map<number, number>;
}

/**
 * Sends what earlier runs left in the spool directory: batches their server did not acknowledge
 * (it was away, or refused the API key) and, when finish() gave up waiting, their final status.
 * `init({ id })` also resends a run's spool, but it resumes (and may reconfigure) the run: this only
 * replays. Sends BABYSIT_API_KEY as a bearer token, like init(). Never throws. Also a command:
 * `npx babysit-sdk sync`.
 *
 * A spool is sent to the server it was made for: spools made for another server URL are left alone
 * and listed under `skipped`, unless `anyUrl`; so are spools a running process is still writing.
 * It stops at the first batch the server does not take now (away, 5xx, 408/429), leaving it and
 * everything after it spooled for the next sync. When the server refuses the API key (401, or 403:
 * the key may not write the run's project) it stops at once, keeps every spool and says why in
 * `refused`. Runs keep their training times: the spooled startedAt and finishedAt are replayed.
 *
 * @param options.url server URL (default `BABYSIT_URL`, else `http://127.0.0.1:3000`)
 * @param options.spoolDir default `BABYSIT_SPOOL_DIR`, else `~/.babysit/spool`
 * @param options.timeoutMs give up after this long (default 60,000 ms); what is left stays for next time
 * @param options.anyUrl send every spool to `url`, whatever server it was made for (warns for each)
 * @returns what it sent and what it left, see {@link SyncResult}
 *
 * @example
 * import { sync } from "babysit";
 *
 * const res = await sync({ url: "http://127.0.0.1:3000" });
 * // { runs: 1, batches: 42, batchesLeft: 0, runsLeft: 0, rejectedPoints: 0, skipped: [], refused: null }
 */
export async function sync(options: SyncOptions = {}): Promise<SyncResult> {
  const o = options && typeof options === "object" ? options : {};
  const base = (typeof o.url === "string" && o.url ? o.url : (process.env.BABYSIT_URL ?? DEFAULT_URL)).replace(/\/+$/, "");
  const dir = defaultSpoolDir(typeof o.spoolDir === "string" ? o.spoolDir : undefined);
  const timeoutMs = typeof o.timeoutMs === "number" && o.timeoutMs > 0 ? o.timeoutMs : 60_000;
  const replay = new Replay(base);
  const skipped: SkippedSpool[] = [];
  const spools = claim(dir, base, o.anyUrl === true, skipped);
  for (const sp of spools) {
    const madeFor = typeof sp.header.url === "string" ? sp.header.url.replace(/\/+$/, "") : "";
    if (madeFor && madeFor !== base) say(`babysit: warning: sending run ${String(sp.header.id)}'s spool (made for ${madeFor}) to ${base}`);
  }
  const runs = spools.length;
  const total = spools.reduce((n, s) => n + s.pending.size, 0);
  const deadline = Date.now() + timeoutMs;
  try {
    while (spools.length > 0 && Date.now() < deadline) {
      if (!(await replay.step(spools, deadline))) break;
    }
  } catch (err) {
    say(`babysit: internal error in sync: ${(err as Error).stack ?? err}`);
  }
  const left = spools.reduce((n, s) => n + s.pending.size, 0);
  for (const sp of spools) unlink(ownerPath(sp.path));
  return {
    runs,
    batches: total - left,
    batchesLeft: left,
    runsLeft: spools.length,
    rejectedPoints: replay.rejectedPoints,
    skipped,
    refused: replay.refused,
  };
}

class Replay {
  rejectedPoints = 0;
  /** Set when the server refused the key: nothing is taken until it changes, so sync stops. */
  refused: KeyRefusal | null = null;
  private nextSeq = Date.now();
  private readonly warned = new Set<string>();

  constructor(private readonly base: string) {}

  /** Sends the next record of the first spool. False when the server did not take it now. */
  async step(spools: Loaded[], deadline: number): Promise<boolean> {
    const sp = spools[0]!;
    const id = String(sp.header.id);
    const first = sp.pending.entries().next();
    if (!first.done) {
      let [seq, body] = first.value;
      if (sp.relative.has(seq)) {
        if (!(await this.resolve(sp, spools, deadline))) return false;
        body = sp.pending.get(seq)!;
      }
      const result = await this.send(sp, seq, body, deadline);
      if (result === "retry") return false;
      sp.pending.delete(seq);
      if (result === "split") {
        const halves = splitBody(body);
        const rest = [...sp.pending];
        sp.pending.clear();
        let written = true;
        let last = -1;
        for (const half of halves ?? []) {
          last = this.seqAfter(seq);
          // on disk before the old seq is acked
          written = append(sp.path, `{"kind":"batch","seq":${last},"body":${encode(last, half)}}\n`) && written;
          sp.pending.set(last, half);
        }
        for (const [s, b] of rest) sp.pending.set(s, b);
        if (!written && last >= 0) {
          // the old batch stays pending on disk until its last half is stored, so a process that dies meanwhile leaves it for the next sync
          sp.ackAfter.set(last, seq);
          return true;
        }
      }
      this.ack(sp, seq);
      return true;
    }
    const patch = sp.header.patch;
    if (patch && typeof patch === "object" && !Array.isArray(patch) && Object.keys(patch).length > 0) {
      // tags and notes the Python SDK's babysit.wandb set (header "patch" or "patch" records): after the batches
      const res = await this.post(`/api/v1/runs/${encodeURIComponent(id)}`, JSON.stringify(patch), deadline, "PATCH");
      if (res === null) return false;
      if (res.status === 404 && !sp.createTried) {
        sp.createTried = true;
        const made = await this.post("/api/v1/runs", JSON.stringify(createBody(sp)), deadline);
        return made !== null && made.status < 500;
      }
      if (transient(res.status)) return false;
      if (res.status >= 400) this.warn(`patch:${res.status}`, `the server refused the tags/notes of run ${id} (${errorText(res)})`);
      sp.header = { ...sp.header, patch: undefined };
    }
    if (sp.finish !== null) {
      // finishedAt: when finish() ran, so a run replayed hours later ends when it trained
      const res = await this.post(
        `/api/v1/runs/${encodeURIComponent(id)}/finish`,
        JSON.stringify({ status: sp.finish, finishedAt: sp.finishedAt }),
        deadline,
      );
      if (res === null) return false;
      if (res.status === 404 && !sp.createTried) {
        sp.createTried = true;
        const made = await this.post("/api/v1/runs", JSON.stringify(createBody(sp)), deadline);
        return made !== null && made.status < 500;
      }
      if (transient(res.status)) return false;
      if (res.status >= 400) this.warn(`finish:${res.status}`, `the server refused to finish run ${id} (${errorText(res)})`);
      sp.finish = null;
    }
    unlink(sp.path);
    unlink(ownerPath(sp.path));
    spools.shift();
    return true;
  }

  /** POSTs one batch: "ok" (stored, or refused for good and counted), "split" (413) or "retry". */
  private async send(sp: Loaded, seq: number, body: Body, deadline: number): Promise<"ok" | "split" | "retry"> {
    const id = String(sp.header.id);
    for (let attempt = 0; attempt < 2; attempt++) {
      let res = await this.post(`/api/v1/runs/${encodeURIComponent(id)}/log`, encode(seq, body), deadline);
      if (res === null) return "retry";
      if (res.status === 200) {
        this.countRefused(id, (res.body as Body | undefined)?.refused);
        return "ok";
      }
      if (res.status === 404 && attempt === 0) {
        // the run is unknown (created while its process was offline, or the server lost it): create it
        const made = await this.post("/api/v1/runs", JSON.stringify(createBody(sp)), deadline);
        if (made === null || made.status >= 500) return "retry";
        sp.createTried = true;
        if (made.status === 200 || made.status === 201) continue;
        res = made;
      }
      if (transient(res.status)) return "retry";
      if (res.status === 403 && errorCode(res) === "forbidden") {
        // the key may not write this run's project: another key can, so the batch is kept (never
        // dropped), and like a 401 nothing is sent until the key changes
        this.refused = refusal(this.base, errorText(res), false);
        return "retry";
      }
      if (res.status === 413 && splitBody(body) !== null) return "split";
      // retrying the same body cannot help, and the server stored none of it
      const points = bodyPoints(body);
      let why = errorText(res);
      if (why.length > 300) why = `${why.slice(0, 300)}...`;
      this.rejectedPoints += points;
      this.warn(`rejected:${res.status}`, `the server rejected a batch of run ${id} (${why}); its ${points} point(s) are not stored`);
      return "ok";
    }
    return "retry";
  }

  /**
   * Resolves the tentative steps of every pending batch of `sp` and writes them again with their
   * seqs. Their steps continue after the run's last stored step and after every absolute step
   * other spools of the run still hold. False when the server did not answer.
   */
  private async resolve(sp: Loaded, spools: Loaded[], deadline: number): Promise<boolean> {
    const res = await this.post("/api/v1/runs", JSON.stringify(createBody(sp)), deadline);
    if (res === null || res.status >= 500 || transient(res.status)) return false;
    sp.createTried = true;
    let origin = 0;
    const last = (res.body as Body | undefined)?.lastStep;
    if ((res.status === 200 || res.status === 201) && typeof last === "number" && Number.isSafeInteger(last) && last >= 0 && last < LIMITS.stepMax)
      origin = last + 1;
    for (const other of spools) {
      if (other !== sp && other.header.id === sp.header.id && other.maxStep !== null) origin = Math.max(origin, other.maxStep + 1);
    }
    let written = true;
    for (const seq of sp.relative) {
      const body = sp.pending.get(seq);
      if (!body) continue;
      resolveBody(body, origin - 1);
      written = append(sp.path, `{"kind":"batch","seq":${seq},"body":${encode(seq, body)}}\n`) && written;
    }
    sp.relative.clear();
    if (!written) this.warn("spool-write", `could not write to the spool file ${sp.path}; what it could not hold is kept in memory`);
    return true;
  }

  private ack(sp: Loaded, seq: number): void {
    append(sp.path, `{"kind":"ack","seq":${seq}}\n`);
    const parent = sp.ackAfter.get(seq);
    if (parent !== undefined) {
      sp.ackAfter.delete(seq);
      this.ack(sp, parent);
    }
  }

  /** A fresh seq for half of a split batch: past the clock and past `seq`, like the SDK's own. */
  private seqAfter(seq: number): number {
    this.nextSeq = Math.max(this.nextSeq + 1, Date.now(), seq + 1);
    return this.nextSeq;
  }

  private countRefused(id: string, refused: unknown): void {
    if (refused === null || typeof refused !== "object") return;
    const r = refused as Body;
    const count = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : 0);
    const n = count(r.points) + count(r.histograms) + count(r.events);
    if (n <= 0) return;
    this.rejectedPoints += n;
    const code = typeof r.code === "string" ? r.code : "refused";
    const message = typeof r.message === "string" ? r.message : "";
    this.warn(`refused:${code}`, `the server refused part of a batch of run ${id} (${code}: ${message}); the rest is stored`);
  }

  private warn(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    say(`babysit: ${message}`);
  }

  /** One POST; null when the server did not answer or refused the API key (401: kept, like a server that is away). */
  private async post(route: string, body: string, deadline: number, method = "POST"): Promise<Answer> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), Math.max(1, Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now())));
    let answer: { status: number; body: unknown };
    try {
      const res = await fetch(this.base + route, { method, headers: authHeaders(), body, signal: controller.signal });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      answer = { status: res.status, body: json };
    } catch (err) {
      this.warn("unreachable", `cannot reach ${this.base} (${describeError(err)}); the data stays in the spool`);
      return null;
    } finally {
      clearTimeout(timer);
    }
    if (answer.status === 401) {
      // said once, by the caller (the command prints it): waiting cannot help until the key changes
      this.refused = refusal(this.base, errorText(answer), !process.env.BABYSIT_API_KEY?.trim());
      return null;
    }
    return answer;
  }
}

/** What is wrong with the key and what to do, in one sentence (the Python SDK's, with this command). */
function refusal(base: string, why: string, missing: boolean): KeyRefusal {
  const message = missing
    ? // without a key the server did not refuse one: say what is missing, not what is wrong
      `the server at ${base} needs an API key (${why}) and BABYSIT_API_KEY is not set: make a key on the server's /account page, ` +
      "set BABYSIT_API_KEY to it, then run `npx babysit-sdk sync`"
    : `the server at ${base} refused the API key (${why}): set BABYSIT_API_KEY to a valid key, then run \`npx babysit-sdk sync\``;
  return { message, missing };
}

function errorCode(res: { body: unknown }): unknown {
  return (res.body as { error?: { code?: unknown } } | undefined)?.error?.code;
}

/**
 * Unix seconds as the server takes them (docs/api.md). Anything else in a spool (a hand-edited or
 * damaged file, milliseconds) is left out, and the server uses its clock: a 400 would lose the run.
 */
function isTime(t: unknown): t is number {
  return typeof t === "number" && Number.isFinite(t) && t >= 0 && t <= LIMITS.timeMax;
}

/** 408/425/429 and 5xx: the server may take the same request later. */
function transient(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function errorText(res: { status: number; body: unknown }): string {
  const err = (res.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (err && typeof err === "object") return `${res.status} ${String(err.code ?? "?")}: ${String(err.message ?? "")}`;
  return `HTTP ${res.status}`;
}

/** The run as the spool's header describes it: its own project, name and config, so nothing is renamed. */
function createBody(sp: Loaded): Body {
  const h = sp.header;
  const body: Body = { id: String(h.id), project: typeof h.project === "string" && h.project ? h.project : "default" };
  if (typeof h.name === "string" && h.name) body.name = h.name;
  if (h.config && typeof h.config === "object" && !Array.isArray(h.config)) body.config = h.config;
  if (isTime(h.startedAt)) body.startedAt = h.startedAt; // the run starts when it trained, not at sync
  return body;
}

/** The POST /log body: the batch with its seq first. */
function encode(seq: number, body: Body): string {
  const { seq: _old, ...rest } = body;
  return JSON.stringify({ seq, ...rest });
}

function items(body: Body, field: (typeof STEPPED)[number]): Array<Record<string, unknown>> {
  const list = body[field];
  return Array.isArray(list) ? list.filter((x): x is Record<string, unknown> => x !== null && typeof x === "object") : [];
}

/** Points as the server counts them: metric values and epochs, histograms, events. */
function bodyPoints(body: Body): number {
  let n = 0;
  for (const r of items(body, "rows")) n += (r.metrics && typeof r.metrics === "object" ? Object.keys(r.metrics).length : 0) + ("epoch" in r ? 1 : 0);
  return n + items(body, "histograms").length + items(body, "events").length;
}

/** (holds tentative steps, largest step that is not tentative or null). */
function bodySteps(body: Body): [boolean, number | null] {
  let relative = false;
  let top: number | null = null;
  for (const field of STEPPED) {
    for (const it of items(body, field)) {
      if ("unresolvedAfter" in it) relative = true;
      else if (typeof it.step === "number" && Number.isSafeInteger(it.step) && (top === null || it.step > top)) top = it.step;
    }
  }
  return [relative, top];
}

/** Resolves tentative steps in place for a run whose last stored step is `lastStep` (-1: none). */
function resolveBody(body: Body, lastStep: number): void {
  for (const field of STEPPED) {
    for (const it of items(body, field)) {
      if (!("unresolvedAfter" in it)) continue;
      const floor = it.unresolvedAfter;
      delete it.unresolvedAfter;
      if (typeof floor === "number" && typeof it.step === "number") it.step = resolvedStep(it.step, floor, lastStep);
    }
  }
}

/**
 * The two halves of a body the server found too large, or null when it holds one item. A body of
 * one wide row is split by its metrics (two rows of the same step, which the server stores as one).
 */
function splitBody(body: Body): Body[] | null {
  const all: Array<[(typeof STEPPED)[number], Record<string, unknown>]> = [];
  for (const field of STEPPED) for (const it of items(body, field)) all.push([field, it]);
  if (all.length === 1 && all[0]![0] === "rows") {
    const row = all[0]![1];
    const metrics = row.metrics && typeof row.metrics === "object" ? (row.metrics as Record<string, unknown>) : {};
    const keys = Object.keys(metrics);
    if (keys.length < 2) return null;
    const half = Math.floor(keys.length / 2);
    const pick = (ks: string[]) => Object.fromEntries(ks.map((k) => [k, metrics[k]]));
    const { epoch: _epoch, ...second } = row;
    return [{ rows: [{ ...row, metrics: pick(keys.slice(0, half)) }] }, { rows: [{ ...second, metrics: pick(keys.slice(half)) }] }];
  }
  if (all.length <= 1) return null;
  const mid = Math.floor(all.length / 2);
  return [all.slice(0, mid), all.slice(mid)].map((part) => {
    const out: Body = { rows: [] };
    for (const [field, it] of part) ((out[field] as unknown[] | undefined) ?? (out[field] = [])).push(it);
    return out;
  });
}

/** Deletes a file; a file that cannot be deleted is only sent again by a later sync, and stored once. */
function unlink(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // see above
  }
}

/** Appends a line to a spool file; false when it could not. */
function append(file: string, line: string): boolean {
  let fd: number | null = null;
  try {
    // never O_CREAT: a file another replayer deleted meanwhile must not come back as a headless one
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND);
    const buf = Buffer.from(line, "utf8");
    let off = 0;
    while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Parses a spool file (the torn last line of a process that died mid-write is skipped). */
function parse(file: string, text: string): Loaded {
  const out: Loaded = {
    path: file,
    header: {},
    pending: new Map(),
    relative: new Set(),
    maxStep: null,
    finish: null,
    finishedAt: undefined,
    createTried: false,
    ackAfter: new Map(),
  };
  let haveHeader = false;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line);
    } catch {
      continue;
    }
    if (rec === null || typeof rec !== "object" || Array.isArray(rec)) continue;
    if (rec.kind === "run" && !haveHeader) {
      haveHeader = true;
      out.header = rec;
    } else if (rec.kind === "batch" && Number.isSafeInteger(rec.seq) && rec.body && typeof rec.body === "object" && !Array.isArray(rec.body)) {
      out.pending.set(rec.seq as number, rec.body as Body);
    } else if (rec.kind === "config" && haveHeader && rec.config && typeof rec.config === "object" && !Array.isArray(rec.config)) {
      // the whole config, merged after the header was written (the Python SDK's update_config)
      out.header = { ...out.header, config: rec.config };
    } else if (rec.kind === "patch" && haveHeader && rec.body && typeof rec.body === "object" && !Array.isArray(rec.body)) {
      out.header = { ...out.header, patch: rec.body }; // the run's tags/notes (Python's babysit.wandb), sent after the batches
    } else if (rec.kind === "ack" && Number.isSafeInteger(rec.seq)) {
      out.pending.delete(rec.seq as number);
    } else if (rec.kind === "finish" && typeof rec.status === "string") {
      out.finish = rec.status;
      out.finishedAt = isTime(rec.finishedAt) ? rec.finishedAt : undefined;
    }
  }
  for (const [seq, body] of out.pending) {
    const [relative, top] = bodySteps(body);
    if (relative) out.relative.add(seq);
    if (top !== null && (out.maxStep === null || top > out.maxStep)) out.maxStep = top;
  }
  return out;
}

/**
 * Loads every spool in `dir` whose writer is gone and whose server is `base` (any server with
 * `anyUrl`), marking each as this process's; the others are added to `skipped` with the reason.
 */
function claim(dir: string, base: string, anyUrl: boolean, skipped: SkippedSpool[]): Loaded[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
  const locked = flockedInodes();
  const out: Loaded[] = [];
  for (const name of names) {
    if (!name.endsWith(".jsonl")) continue;
    const file = path.join(dir, name);
    let text: string;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
      if (!stat.isFile()) continue;
      if (locked.has(stat.ino) || ownerAlive(file, stat)) {
        skipped.push({ path: file, run: null, reason: SKIP_IN_USE, url: null, batches: 0 });
        continue;
      }
      text = fs.readFileSync(file, "utf8");
    } catch {
      skipped.push({ path: file, run: null, reason: SKIP_UNREADABLE, url: null, batches: 0 });
      continue;
    }
    const sp = parse(file, text);
    const id = sp.header.id;
    if (typeof id !== "string" || !id) {
      skipped.push({ path: file, run: null, reason: SKIP_UNREADABLE, url: null, batches: sp.pending.size });
      continue;
    }
    const url = typeof sp.header.url === "string" ? sp.header.url.replace(/\/+$/, "") : "";
    if (url && url !== base && !anyUrl) {
      skipped.push({ path: file, run: id, reason: SKIP_OTHER_SERVER, url, batches: sp.pending.size });
      continue;
    }
    writeOwner(file);
    out.push(sp);
  }
  return out;
}

/** True when a live process (a run, or another sync) says it has the spool open; see spool.ts. */
function ownerAlive(file: string, stat: fs.Stats): boolean {
  let owner: { pid?: unknown; host?: unknown };
  try {
    owner = JSON.parse(fs.readFileSync(ownerPath(file), "utf8"));
  } catch {
    return false;
  }
  if (owner?.host !== os.hostname()) return Date.now() - stat.mtimeMs < FOREIGN_HOST_IDLE_MS;
  if (typeof owner.pid !== "number" || !Number.isSafeInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Inodes of files some process holds a lock on (Linux's /proc/locks): the Python SDK flocks the
 * spool it writes or replays. Empty where there is no such file.
 */
function flockedInodes(): Set<number> {
  const out = new Set<number>();
  let text: string;
  try {
    text = fs.readFileSync("/proc/locks", "utf8");
  } catch {
    return out;
  }
  // e.g. "3: FLOCK  ADVISORY  WRITE 4242 00:2f:1234567 0 EOF" (blocked waiters have "->" after the number)
  for (const line of text.split("\n")) {
    const fields = line
      .trim()
      .split(/\s+/)
      .filter((f) => f !== "->");
    const dev = fields[5]?.split(":");
    const ino = dev && dev.length === 3 ? Number(dev[2]) : Number.NaN;
    if (Number.isSafeInteger(ino)) out.add(ino);
  }
  return out;
}
