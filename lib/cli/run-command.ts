import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LIMITS } from "../contract/limits";
import type { ImportTarget } from "../import/client";
import { ImportData } from "../import/model";
import { ANSI, type Template, compileTemplate, newTextState, readDrawing, readLine } from "../import/text-log";
import { isEpoch, metricKeyProblem } from "../schemas/log-batch";
import type { LogLineIn } from "../schemas/run-logs";
import { encodeValue } from "../values";
import { call, isTransient } from "./run-client";
import { terminalText } from "./terminal-text";

// `babysit run -- CMD ARGS...`: runs CMD as it would run without babysit, and follows it as a run.
// - The child's stdin is this process's; its stdout and stderr are piped through to this process's
//   own, byte for byte and in order per stream (a full terminal pauses the child, as it would).
// - SIGINT, SIGTERM and SIGHUP sent to this process are passed on to the child; this process exits
//   when the child does, with its exit code, or 128 + the signal's number when a signal ended it.
//   A Ctrl-C in the terminal is the exception: the terminal sends SIGINT to its whole foreground
//   process group, the child included, so passing it on would interrupt the child twice (a script
//   that catches KeyboardInterrupt to save a checkpoint would be interrupted again while saving).
// - Each complete line (the text after its last carriage return, ANSI colour codes removed) is
//   stored as the run's console output and read by the text-log parsers (lib/import/text-log.ts);
//   the metrics they find are logged as points at the steps they name, as they are printed.
// - The server being away never stops or slows the child: lines and points wait in memory and are
//   sent when it answers; whatever is not delivered when the child ends is said so on stderr, and
//   the console output is kept in a file (BABYSIT_RUN_LOG_DIR, default ~/.babysit/run-logs) that
//   `babysit import` reads later, metrics included.

export interface RunCommandOptions extends ImportTarget {
  project: string;
  name?: string;
  patterns?: string[];
  /** Seconds to keep trying to deliver what is left once the child has ended (default 15). */
  flushTimeout?: number;
  /** Where the messages of babysit itself go (the child's output never goes here). */
  say?: (line: string) => void;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Lines (or points) held in memory while the server is away; beyond it the oldest go to the file only. */
const MAX_PENDING = 200_000;
/** And at most this many characters of lines (64 MiB of UTF-16 at most). */
const MAX_PENDING_CHARS = 32 * 1024 * 1024;
/** Once the command has exited, how long its pipes may stay open (a process it left behind holds them). */
const PIPE_GRACE_MS = 5_000;
/** A line that has not ended after this many characters is stored (in pieces) as far as it came. */
export const LONG_LINE = 1024 * 1024;
const FLUSH_MS = 200;
// CSI and OSC sequences: colours, cursor moves, window titles (linear: character classes only)

/** The text of a printed line as a terminal shows it last: after its last CR (or backspace), no escape codes. */
export function shownText(raw: string): string {
  let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  // Keras redraws its progress bar after \r or a run of \b, as the text-log importer reads it too
  const cr = Math.max(line.lastIndexOf("\r"), line.lastIndexOf("\b"));
  if (cr >= 0) line = line.slice(cr + 1);
  return line.replace(ANSI, "");
}

/** Field `i` (0: the state) after the command name of /proc/PID/stat, or undefined without /proc. */
function procStat(pid: number | "self", i: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[i]);
  } catch {
    return undefined;
  }
}

/**
 * Whether a SIGINT this process just got came from its terminal (a Ctrl-C) and so reached the child
 * too: this process is in the terminal's foreground process group, and the child still in this
 * process's group (it may have made its own). Where /proc is missing, a terminal on stdin stands in.
 */
export function heardFromTerminal(childPid: number): boolean {
  const pgrp = procStat("self", 2);
  const foreground = procStat("self", 5); // tpgid: the terminal's foreground group, -1 with none
  if (pgrp === undefined || foreground === undefined) return Boolean(process.stdin.isTTY);
  return foreground > 0 && pgrp === foreground && procStat(childPid, 2) === pgrp;
}

/** Splits a line into pieces of at most runLogLineMaxLength code points (never cutting a pair). */
export function pieces(text: string): string[] {
  const max = LIMITS.runLogLineMaxLength.value;
  if (text.length <= max) return [text];
  const cps = [...text];
  if (cps.length <= max) return [text];
  const out: string[] = [];
  for (let i = 0; i < cps.length; i += max) out.push(cps.slice(i, i + max).join(""));
  return out;
}

/** The run's name when none is given: the command line, cut to the limit. */
export function commandName(argv: readonly string[]): string {
  const name = argv.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  const cps = [...name.trim()];
  return cps.length > LIMITS.runNameMaxLength.value ? `${cps.slice(0, LIMITS.runNameMaxLength.value - 1).join("")}…` : cps.join("") || "run";
}

function git(cwd: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 5_000, encoding: "utf8" }).trim();
  } catch {
    return null; // no git, or not a work tree
  }
}

// The command line as the config records it: twice (command and argv), within a quarter of
// configBytes each, so that a long command line (a `python -c` script, thousands of file
// arguments) never makes the server refuse the run itself.
const COMMAND_BYTES = Math.floor(LIMITS.configBytes.value / 4);

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/** `s`, or its start and how long it was, within `maxBytes` of JSON (6 bytes per code point at worst). */
function shortened(s: string, maxBytes: number): string {
  if (jsonBytes(s) <= maxBytes) return s;
  const cps = [...s];
  return `${cps.slice(0, Math.max(0, Math.floor((maxBytes - 40) / 6))).join("")}… (${cps.length} characters)`;
}

/** The arguments, each within an eighth of the budget, as many as fit, then how many were left out. */
function shortenedArgv(argv: readonly string[]): string[] {
  if (jsonBytes(argv) <= COMMAND_BYTES) return [...argv];
  const out: string[] = [];
  let bytes = 2;
  for (const a of argv) {
    const kept = shortened(a, COMMAND_BYTES / 8);
    bytes += jsonBytes(kept) + 1;
    if (bytes > COMMAND_BYTES - 64) break;
    out.push(kept);
  }
  if (out.length < argv.length) out.push(`… (${argv.length - out.length} more arguments)`);
  return out;
}

/** What the run's config records about how it was started. */
export function commandConfig(argv: readonly string[], cwd: string): Record<string, unknown> {
  const config: Record<string, unknown> = { command: shortened(argv.join(" "), COMMAND_BYTES), argv: shortenedArgv(argv), cwd: shortened(cwd, 4096) };
  if (git(cwd, ["rev-parse", "--is-inside-work-tree"]) === "true") {
    const commit = git(cwd, ["rev-parse", "HEAD"]);
    const status = git(cwd, ["status", "--porcelain", "--untracked-files=no"]);
    if (commit) config.git_commit = commit;
    if (status !== null) config.git_dirty = status.length > 0;
    const branch = git(cwd, ["rev-parse", "--abbrev-ref", "HEAD"]);
    if (branch && branch !== "HEAD") config.git_branch = branch;
  }
  return config;
}

/** Server text bound for a terminal: no control characters. */
const plain = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");

export interface Row {
  step: number;
  time: number;
  epoch?: number;
  metrics: Record<string, number | string>;
}

/**
 * How many of `items` (from the first) make one request: at most `count` of them, and their JSON at
 * most `bytes` (the route's body limit, less room for the rest of the body), but always one.
 */
export function batchSize<T>(items: readonly T[], count: number, bytes: number): number {
  let size = 64; // the body's own braces and names
  let n = 0;
  while (n < items.length && n < count) {
    size += Buffer.byteLength(JSON.stringify(items[n])) + 1;
    if (n > 0 && size > bytes) break;
    n++;
  }
  return n;
}

/**
 * How many of the first `n` rows name at most keysPerRun distinct metric keys together (but always
 * one): a batch naming more is refused whole (400), which stopped every later line and point.
 */
export function keysFit(rows: readonly Row[], n: number): number {
  const keys = new Set<string>();
  for (let i = 0; i < n; i++) {
    for (const k in rows[i].metrics) keys.add(k);
    if (i > 0 && keys.size > LIMITS.keysPerRun.value) return i;
  }
  return n;
}

/** Delivers a run's lines and points in order, holding them while the server is away. */
class Delivery {
  runId = `cli-${crypto.randomBytes(12).toString("hex")}`;
  url: string | null = null;
  created = false;
  private lines: LogLineIn[] = [];
  private rows: Row[] = [];
  private events: { type: string; step: null; data: Record<string, unknown> }[] = [];
  private seq = 0;
  private busy: Promise<void> | null = null;
  private retryAt = 0;
  private backoff = 500;
  /** Lines and points dropped from memory (the file keeps the lines). */
  lostLines = 0;
  lostPoints = 0;
  refusedLines = 0;
  sentLines = 0;
  sentPoints = 0;
  problem: string | null = null;
  private warned = false;
  private keysRefusedSaid = false;
  fatal: string | null = null;
  private printedAlerts = new Set<string>();

  constructor(
    private t: ImportTarget,
    private create: { project: string; name: string; config: Record<string, unknown>; startedAt: number },
    private say: (line: string) => void,
  ) {}

  private pendingChars = 0;

  line(l: LogLineIn): void {
    this.lines.push(l);
    this.pendingChars += l.text.length;
    let drop = 0;
    let chars = this.pendingChars;
    while (drop < this.lines.length - 1 && (this.lines.length - drop > MAX_PENDING || chars > MAX_PENDING_CHARS))
      chars -= this.lines[drop++].text.length;
    if (drop) {
      this.lines.splice(0, drop);
      this.pendingChars = chars;
      this.lostLines += drop;
    }
  }

  row(r: Row): void {
    this.rows.push(r);
    if (this.rows.length > MAX_PENDING) {
      for (const x of this.rows.splice(0, this.rows.length - MAX_PENDING)) this.lostPoints += Object.keys(x.metrics).length;
    }
  }

  event(type: string, data: Record<string, unknown>): void {
    this.events.push({ type, step: null, data });
  }

  get pending(): boolean {
    return this.lines.length > 0 || this.rows.length > 0 || this.events.length > 0 || !this.created;
  }

  /** One delivery attempt unless one is running or a retry is not due; never throws. */
  tick(): Promise<void> {
    if (this.busy || this.fatal || Date.now() < this.retryAt) return this.busy ?? Promise.resolve();
    this.busy = this.deliver()
      .then(() => {
        this.backoff = 500;
        if (this.problem) this.say(`babysit: ${this.t.url} answers again; sending what waited`);
        this.problem = null;
      })
      .catch((e) => {
        const msg = e instanceof Error ? e.message : String(e);
        if (!isTransient(e)) {
          // refused (a key, a limit): asking again will not help; the child goes on regardless
          this.fatal = msg;
          this.say(`babysit: the server refused the run's data: ${msg} (the command goes on; its output is kept in a file)`);
          return;
        }
        this.problem = msg;
        if (!this.warned) this.say(`babysit: ${msg}; the command goes on, its output and metrics wait for the server`);
        this.warned = true;
        this.retryAt = Date.now() + this.backoff;
        this.backoff = Math.min(this.backoff * 2, 10_000);
      })
      .finally(() => {
        this.busy = null;
      });
    return this.busy;
  }

  private async deliver(): Promise<void> {
    if (!this.created) {
      const r = await call(this.t, "POST", "/api/v1/runs", { ...this.create, id: this.runId });
      this.created = true;
      this.url = `${this.t.url}${r.url ?? `/runs/${this.runId}`}`;
      this.say(`babysit: run ${JSON.stringify(r.name ?? this.create.name)} -> ${this.url}`);
    }
    const id = encodeURIComponent(this.runId);
    // a batch of lines, then one of points, in turn: a command printing without pause kept lines
    // coming, and its points waited behind them until they overflowed memory and were dropped
    while (this.lines.length || this.rows.length || this.events.length) {
      if (this.lines.length) await this.sendLines(id);
      if (this.rows.length || this.events.length) await this.sendRows(id);
    }
  }

  private async sendLines(id: string): Promise<void> {
    // a batch of long lines is cut by bytes too: a 413 would stop the run's delivery for good
    const batch = this.lines.slice(0, batchSize(this.lines, LIMITS.runLogLinesPerBatch.value, LIMITS.runLogBodyBytes.value));
    const r = await call(this.t, "POST", `/api/v1/runs/${id}/logs`, { lines: batch });
    this.lines.splice(0, batch.length);
    for (const l of batch) this.pendingChars -= l.text.length;
    this.sentLines += batch.length - (r.refused ?? 0);
    this.refusedLines += r.refused ?? 0;
  }

  private async sendRows(id: string): Promise<void> {
    const rows = this.rows.slice(0, keysFit(this.rows, batchSize(this.rows, LIMITS.rowsPerBatch.value, LIMITS.bodyBytes.value - 64 * 1024)));
    const events = this.events.slice(0, LIMITS.eventsPerBatch.value);
    const r = await call(this.t, "POST", `/api/v1/runs/${id}/log`, { seq: this.seq, rows, histograms: [], events });
    this.sayAlerts(r?.alerts);
    // keys past the run's keysPerRun are refused one by one (the batch stands): said once
    if (r?.refused && !this.keysRefusedSaid) {
      this.keysRefusedSaid = true;
      this.say(`babysit: ${r.refused.message ?? "some metrics were refused"}`);
    }
    this.seq++;
    this.rows.splice(0, rows.length);
    this.events.splice(0, events.length);
    for (const r of rows) this.sentPoints += Object.keys(r.metrics).length;
  }

  /** The babysitter's alerts in the terminal, as the SDKs print them: each code once, when raised. */
  private sayAlerts(alerts: unknown): void {
    if (!Array.isArray(alerts)) return;
    for (const a of alerts) {
      if (!a || typeof a.code !== "string" || this.printedAlerts.has(a.code)) continue;
      this.printedAlerts.add(a.code);
      const severity = typeof a.severity === "string" ? a.severity : "warning";
      const at = typeof a.step === "number" ? ` (step ${a.step})` : "";
      const title = typeof a.title === "string" ? a.title : typeof a.message === "string" ? a.message : "";
      this.say(`babysit [${plain(severity)}] ${plain(a.code)}${at}: ${plain(title.slice(0, 500))} -> ${this.url}`);
    }
  }

  /** After the child: delivers what is left, then the finish, within `seconds`. */
  async close(status: "finished" | "crashed", seconds: number): Promise<boolean> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      this.retryAt = 0;
      await this.tick();
      if (!this.pending || this.fatal || Date.now() + this.backoff > deadline) break;
      await new Promise((r) => setTimeout(r, Math.min(this.backoff, Math.max(0, deadline - Date.now()))));
    }
    if (this.pending || this.fatal) return false;
    try {
      const r = await call(this.t, "POST", `/api/v1/runs/${encodeURIComponent(this.runId)}/finish`, { status });
      this.sayAlerts(r?.alerts);
      const summary = r?.checklist?.summary;
      if (typeof summary === "string" && summary.length <= 500) this.say(`babysit: checklist ${plain(summary)} -> ${this.url}`);
      return true;
    } catch (e) {
      this.problem = e instanceof Error ? e.message : String(e);
      return false;
    }
  }
}

/** Runs `argv`; resolves with the exit code this process should exit with. */
export async function runCommand(argv: string[], o: RunCommandOptions): Promise<number> {
  const say = o.say ?? ((l: string) => process.stderr.write(`${terminalText(l)}\n`));
  const cwd = process.cwd();
  const name = o.name?.trim() || commandName(argv);
  const delivery = new Delivery(o, { project: o.project, name, config: commandConfig(argv, cwd), startedAt: Date.now() / 1000 }, say);

  // the console output, as stored, also goes to a file until it is all delivered
  const dir = process.env.BABYSIT_RUN_LOG_DIR || path.join(os.homedir(), ".babysit", "run-logs");
  const file = path.join(dir, `${delivery.runId}.log`);
  let out: fs.WriteStream | null = null;
  try {
    fs.mkdirSync(dir, { recursive: true });
    out = fs.createWriteStream(file);
    out.on("error", () => {
      out = null;
    });
  } catch {
    out = null;
  }

  const templates: Template[] = (o.patterns ?? []).map(compileTemplate);
  const state = newTextState();
  let n = 0;
  // a name the API refuses as a metric key (too long, control characters, empty) would make the
  // server refuse the whole batch, and with it everything the command prints after: such a metric
  // is left out, and said so once per name (the line itself is still stored)
  const badKeys = new Set<string>();
  let tooManySaid = false;
  const takeLine = (raw: string, stream: "stdout" | "stderr") => {
    takeDrawings(raw);
    const text = shownText(raw);
    const time = Date.now() / 1000;
    out?.write(`${text}\n`);
    for (const piece of pieces(text)) delivery.line({ n: n++, stream, text: piece, time });
    const found = new ImportData();
    readLine(text, found, state, templates);
    deliver(found, time);
  };
  // a progress bar's drawing before the line's last (a tqdm bar redrawn with \r all epoch long): its
  // metrics are sent as it is drawn; only the last drawing is the line kept in the console output
  // (a \r at the very end of the text may be half of a \r\n: what is before it is no finished drawing)
  const takeDrawings = (raw: string): number => {
    const done = raw.lastIndexOf("\r", raw.length - 2);
    if (done <= 0) return 0;
    for (const d of raw.slice(0, done).split("\r")) {
      if (!d.includes("%|")) continue;
      const found = new ImportData();
      readDrawing(d, found, state);
      deliver(found, Date.now() / 1000);
    }
    return done;
  };
  const deliver = (found: ImportData, time: number) => {
    const rows = new Map<number, Row>();
    let named = 0;
    for (const [key, p] of found.points) {
      // one line naming more keys than a run may hold would be a batch refused whole
      if (++named > LIMITS.keysPerRun.value) {
        if (!tooManySaid) {
          tooManySaid = true;
          say(`babysit: a line named more than ${LIMITS.keysPerRun.value} metrics (keysPerRun): the rest of it is not recorded`);
        }
        break;
      }
      const problem = metricKeyProblem(key);
      if (problem) {
        if (badKeys.size < 100 && !badKeys.has(key)) {
          badKeys.add(key);
          say(`babysit: a metric named ${JSON.stringify([...key].slice(0, 60).join(""))} is not recorded: ${problem}`);
        }
        continue;
      }
      for (let i = 0; i < p.steps.length; i++) {
        let row = rows.get(p.steps[i]);
        if (!row) rows.set(p.steps[i], (row = { step: p.steps[i], time, metrics: Object.create(null) }));
        row.metrics[key] = encodeValue(p.values[i]);
      }
    }
    for (const [step, epoch] of found.epochs) {
      const row = rows.get(step);
      if (row && isEpoch(epoch)) row.epoch = epoch;
    }
    for (const row of rows.values()) delivery.row(row);
    for (const e of found.events) delivery.event(e.type, e.data);
  };

  // the child's environment is this one's; Python is asked not to hold its output back in a pipe
  // (it would reach the terminal and the run only in 8 KiB blocks), unless the user said otherwise
  const env = { ...process.env };
  if (env.PYTHONUNBUFFERED === undefined) env.PYTHONUNBUFFERED = "1";
  const child = spawn(argv[0], argv.slice(1), { stdio: ["inherit", "pipe", "pipe"], env });

  const forward = (sig: NodeJS.Signals) => () => {
    if (child.exitCode !== null || child.signalCode !== null) return; // gone already
    if (sig === "SIGINT" && child.pid !== undefined && heardFromTerminal(child.pid)) return;
    child.kill(sig);
  };
  const handlers = SIGNALS.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  const pipe = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream, stream: "stdout" | "stderr") =>
    new Promise<void>((resolve) => {
      const decoder = new TextDecoder("utf-8"); // bad bytes become U+FFFD in the stored copy only
      let partial = "";
      // a closed terminal or pipe (`| head`): the child still runs to its end, its output kept;
      // a read paused for a drain that will never come would block the child on its next write
      let gone = false;
      to.on("error", () => {
        gone = true;
        from.resume();
      });
      from.on("data", (chunk: Buffer) => {
        if (!gone && !to.destroyed && !to.write(chunk)) {
          from.pause();
          to.once("drain", () => from.resume());
        }
        partial += decoder.decode(chunk, { stream: true });
        let nl = partial.indexOf("\n");
        while (nl >= 0) {
          takeLine(partial.slice(0, nl), stream);
          partial = partial.slice(nl + 1);
          nl = partial.indexOf("\n");
        }
        // drawings of a bar that are done (another follows them): read as they come, then dropped
        const drawn = takeDrawings(partial);
        if (drawn > 0) partial = partial.slice(drawn);
        // a line that never ends: a progress bar redrawn with \r is kept to its last drawing; any
        // other text is stored as it comes, in pieces (dropping its start would lose it unsaid)
        if (partial.length > LONG_LINE) {
          partial = partial.slice(partial.lastIndexOf("\r", partial.length - 2) + 1);
          while (partial.length > LONG_LINE) {
            const c = partial.charCodeAt(LONG_LINE - 1);
            const cut = c >= 0xd800 && c <= 0xdbff ? LONG_LINE - 1 : LONG_LINE; // never inside a pair
            takeLine(partial.slice(0, cut), stream);
            partial = partial.slice(cut);
          }
        }
      });
      from.on("end", () => {
        partial += decoder.decode();
        if (partial.length) takeLine(partial, stream);
        resolve();
      });
    });

  const timer = setInterval(() => void delivery.tick(), FLUSH_MS);
  void delivery.tick();
  const piped = Promise.all([pipe(child.stdout!, process.stdout, "stdout"), pipe(child.stderr!, process.stderr, "stderr")]);
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  // a process the command left behind may hold its pipes open: its output is not waited for long
  if (!ended.error) {
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([piped, new Promise<void>((resolve) => (grace = setTimeout(resolve, PIPE_GRACE_MS)))]);
    clearTimeout(grace);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  clearInterval(timer);
  for (const [s, h] of handlers) process.off(s, h);

  let exitCode: number;
  if (ended.error) {
    const notFound = (ended.error as NodeJS.ErrnoException).code === "ENOENT";
    exitCode = notFound ? 127 : 126; // as a shell answers a missing or unrunnable command
    const msg = `babysit: cannot run ${JSON.stringify(argv[0])}: ${ended.error.message}`;
    say(msg);
    takeLine(msg, "stderr");
  } else if (ended.signal) {
    exitCode = 128 + (os.constants.signals[ended.signal] ?? 0);
  } else {
    exitCode = ended.code ?? 1;
  }
  delivery.event("exit", { code: ended.code, signal: ended.signal, exit_code: exitCode });
  const status = exitCode === 0 ? "finished" : "crashed";

  // a second Ctrl-C while the rest is sent stops waiting for the server
  let interrupted = false;
  const stop = () => {
    interrupted = true;
  };
  for (const s of SIGNALS) process.on(s, stop);
  const flushSeconds = o.flushTimeout ?? 15;
  const done = await Promise.race([
    delivery.close(status, flushSeconds),
    new Promise<false>((resolve) => {
      const poll = setInterval(() => {
        if (!interrupted) return;
        clearInterval(poll);
        resolve(false);
      }, 50);
      poll.unref();
    }),
  ]);
  for (const s of SIGNALS) process.off(s, stop);
  await new Promise<void>((resolve) => (out ? out.end(resolve) : resolve()));

  if (done && !delivery.lostLines && !delivery.lostPoints) {
    if (out !== null) fs.rmSync(file, { force: true });
    if (delivery.refusedLines) say(`babysit: ${delivery.refusedLines} lines past the run's limit of ${LIMITS.runLogLinesPerRun.value} were not kept`);
    say(`babysit: run ${status} (exit code ${exitCode}) -> ${delivery.url}`);
  } else {
    const why = delivery.fatal ?? delivery.problem ?? (done ? null : "interrupted");
    if (why) say(`babysit: not everything reached the server (${why}).`);
    if (delivery.lostLines || delivery.lostPoints) {
      say(
        `babysit: ${delivery.lostLines} lines and ${delivery.lostPoints} points did not fit in memory while they waited for the server, and were not sent (the file below keeps the lines).`,
      );
    }
    if (delivery.created)
      say(
        `babysit: the run ${delivery.url} holds ${delivery.sentLines} lines and ${delivery.sentPoints} points, and ${done ? `ended ${status}` : "was not finished"}.`,
      );
    else say("babysit: no run was created.");
    if (fs.existsSync(file)) {
      const nameArg = JSON.stringify(`${name}`);
      say(`babysit: the whole console output is kept in ${file}; send it (metrics included) with:`);
      say(`babysit:   babysit import ${JSON.stringify(file)} --project ${JSON.stringify(o.project)} --name ${nameArg}`);
    } else {
      say("babysit: and the console output could not be written to a file either: it is lost for babysit.");
    }
  }
  return exitCode;
}
