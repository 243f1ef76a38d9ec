import { randomBytes } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";

import {
  LIMITS,
  RUN_ID_PATTERN,
  encodeValue,
  imageProblem,
  isPlainObject,
  isValidStep,
  keyProblem,
  nameProblem,
  nowSeconds,
  preview,
  type WireValue,
} from "./encode.js";
import { computeHistogram, histogramProblem, type Histogram } from "./histogram.js";
import { labelCounts, splitProblem, type LabelStats, type LabelsInput } from "./label-stats.js";
import { track, untrack, type Tracked } from "./lifecycle.js";
import { OnceWarner, checklistLine, counted, say } from "./output.js";
import { type InputStats, type NumericArray, type OutputStats, inputStats, outputStats } from "./stats.js";
import { StopAsker } from "./should-stop.js";
import { toJsonObject } from "./to-json.js";
import { Transport, type Alert, type DeliveryResult, type Row } from "./transport.js";

export const DEFAULT_URL = "http://127.0.0.1:3000";

/** Options of {@link init}. Only `project` is required. */
export interface InitOptions {
  /** Project the run belongs to, 1..100 code points without control characters, e.g. `"digits"`. */
  project: string;
  /** Display name of the run, 1..200 code points; the server generates one when absent. */
  name?: string;
  /**
   * Hyperparameters and anything else worth comparing runs by. Sent as JSON: Maps become objects,
   * Sets and typed arrays arrays, Dates ISO strings, class instances their own fields, BigInts
   * numbers (or strings when too large). Cycles, nesting deeper than 32 levels and more than 1 MiB
   * of JSON are cut and marked with a `"[babysit: …]"` string, with a warning.
   */
  config?: Record<string, unknown> | object;
  /** Server URL. Default: `BABYSIT_URL` from the environment, else `http://127.0.0.1:3000`. */
  url?: string;
  /**
   * Run id, `[A-Za-z0-9_-]{1,64}`. Passing the id of an existing run resumes it (and replays
   * whatever an earlier process left in the spool for it). Default: a new random id.
   */
  id?: string;
  /** Called once per alert code and severity the server raises for this run. */
  onAlert?: (alert: Alert, run: Run) => void;
  /** Send queued data at least this often, in ms. Default 200. */
  flushIntervalMs?: number;
  /** Send as soon as this many points are queued. Default 1000. */
  maxBatchPoints?: number;
  /** How long `finish()` waits for the server before leaving the rest in the spool, in ms. Default 10000. */
  finishTimeoutMs?: number;
  /** How long `init()` waits for the server to confirm the run, in ms. Default 2000. */
  initTimeoutMs?: number;
  /** Give up on one request after this many ms (it is then retried). Default 30000. */
  requestTimeoutMs?: number;
  /** First retry delay in ms, doubled per failed attempt. Default 100. */
  backoffInitialMs?: number;
  /** Longest retry delay in ms. Default 5000. */
  backoffMaxMs?: number;
  /**
   * Where unsent batches are kept. Default `BABYSIT_SPOOL_DIR`, else `~/.babysit/spool` (the Python
   * SDK's default too).
   */
  spoolDir?: string;
  /** Do not print the run's address when the server confirms it, nor the checklist line at finish. Default: `BABYSIT_QUIET` is 1, true or yes. */
  quiet?: boolean;
  /**
   * When the spool file cannot be written (disk full, no permission), unsent data is held in memory
   * up to this many bytes; newer batches beyond it are dropped and counted in `finish()`'s
   * rejections. Default 64 MiB.
   */
  maxMemoryBytes?: number;
  /**
   * `"online"` (send to the server), `"offline"` (keep everything in the spool directory for a later
   * `npx babysit-sdk sync`; no request is made) or `"disabled"` (every method does nothing). Default:
   * `BABYSIT_MODE`, else online; an invalid value warns once and falls back to `BABYSIT_MODE`, then online.
   */
  mode?: Mode;
}

/** See {@link InitOptions.mode}. */
export type Mode = "online" | "offline" | "disabled";
const MODES: readonly Mode[] = ["online", "offline", "disabled"];
// wandb's names for the same modes, so a value copied over works (as in the Python SDK); "team" and
// "local" are the babysit server's BABYSIT_MODE (lib/auth/mode.ts), exported in a shell that starts both.
const MODE_ALIASES = new Map<string, Mode>([
  ["run", "online"],
  ["dryrun", "offline"],
  ["shared", "online"],
  ["team", "online"],
  ["local", "online"],
]);
/** Invalid values already warned about: one warning per value per process, not one per init(). */
const warnedModes = new Set<string>();

/** The mode to use: the option when valid, else BABYSIT_MODE when valid, else online. Never throws. */
export function resolveMode(option: unknown, env: Record<string, string | undefined> = process.env): Mode {
  const parse = (value: unknown, where: string): Mode | null => {
    if (value === undefined || value === null) return null;
    const text = typeof value === "string" ? value.trim().toLowerCase() : null;
    if (text === "" && where === "BABYSIT_MODE") return null;
    if (text !== null && (MODES as readonly string[]).includes(text)) return text as Mode;
    const alias = text === null ? undefined : MODE_ALIASES.get(text);
    if (alias) return alias;
    const key = `${where}:${String(value)}`;
    if (!warnedModes.has(key)) {
      warnedModes.add(key);
      say(
        `babysit: warning: ${where} must be one of ${MODES.join(", ")}, got ${describe(value)}; using ${where === "BABYSIT_MODE" ? "online" : "BABYSIT_MODE or online"}`,
      );
    }
    return null;
  };
  return parse(option, "mode") ?? parse(env.BABYSIT_MODE, "BABYSIT_MODE") ?? "online";
}

/** Second argument of {@link Run.log}. */
export interface LogOptions {
  /** Non-negative integer step. Default: one more than the last step used (0 for the first call). */
  step?: number;
  /** Epoch, stored as the metric `epoch` (may be fractional). */
  epoch?: number;
}

/** What {@link Run.logHistogram} accepts besides raw values: a ready-made histogram. */
export type HistogramInput = ArrayLike<number> | Iterable<number> | Histogram;

/**
 * Creates a run (or resumes the run `id`) and returns its handle.
 *
 * Never throws and never waits long: when the server is down it returns after the first failed
 * attempt, and the run is created in the background once the server is back; meanwhile logged
 * data is spooled to disk.
 *
 * @param options - `project` (required), `name`, `config`, `url`, `id`, `onAlert` and tuning knobs,
 *   see {@link InitOptions}
 * @returns the {@link Run} to log to
 * @example
 * import { init } from "babysit";
 *
 * const run = await init({ project: "digits", name: "mlp-lr1e-3", config: { lr: 1e-3 } });
 * for (let step = 0; step < 100; step++) run.log({ "train/loss": 1 / (step + 1) });
 * await run.finish();
 */
export async function init(options: InitOptions): Promise<Run> {
  const warner = new OnceWarner();
  const o: Partial<InitOptions> = isPlainObject(options) ? options : {};
  if (!isPlainObject(options)) warner.warn("init", "init() expects an options object, e.g. init({ project: 'digits' })");

  // The server trims project and name before checking them.
  const projectIn = typeof o.project === "string" ? o.project.trim() : o.project;
  const projectProblem = nameProblem(projectIn, LIMITS.projectMaxLength, "project");
  if (projectProblem) warner.warn("project", `${projectProblem} (got ${describe(o.project)}); using "default"`);
  const project = !projectProblem && typeof projectIn === "string" ? projectIn : "default";
  const nameIn = typeof o.name === "string" ? o.name.trim() : o.name;
  const nameBad = nameIn === undefined ? null : nameProblem(nameIn, LIMITS.runNameMaxLength, "name");
  if (nameBad) warner.warn("name", `${nameBad} (got ${describe(o.name)}); the server will pick one`);
  const name = !nameBad && typeof nameIn === "string" ? nameIn : undefined;
  const config =
    o.config === undefined
      ? undefined
      : toJsonObject(o.config, {
          maxDepth: LIMITS.configDepth,
          maxBytes: LIMITS.configBytes,
          what: "config",
          warn: (kind, message) => warner.warn(`config:${kind}`, message),
        });
  let id = o.id;
  if (id !== undefined && (typeof id !== "string" || !RUN_ID_PATTERN.test(id))) {
    warner.warn("id", `id must match [A-Za-z0-9_-]{1,64}, got ${describe(id)}; using a new id`);
    id = undefined;
  }
  id ??= newRunId();

  const baseUrl = resolveUrl(o.url ?? process.env.BABYSIT_URL ?? DEFAULT_URL, warner);
  const spoolDir = defaultSpoolDir(o.spoolDir);
  const quiet = typeof o.quiet === "boolean" ? o.quiet : ["1", "true", "yes"].includes((process.env.BABYSIT_QUIET ?? "").toLowerCase());
  const mode = resolveMode(o.mode);

  let run: Run | null = null;
  let printed = false;
  const onAlert = o.onAlert;
  const transport = new Transport({
    baseUrl,
    // startedAt: when init() ran; kept in the spool's header, so a run replayed later starts when it trained
    meta: { id, project, name, config, startedAt: Date.now() / 1000 },
    flushIntervalMs: positive(o.flushIntervalMs, 200),
    maxBatchPoints: positive(o.maxBatchPoints, 1000),
    requestTimeoutMs: positive(o.requestTimeoutMs, 30_000),
    backoffInitialMs: positive(o.backoffInitialMs, 100),
    backoffMaxMs: positive(o.backoffMaxMs, 5000),
    spoolDir,
    maxMemoryBytes: positive(o.maxMemoryBytes, 64 * 1024 * 1024),
    mode,
    quiet,
    // an offline run made without a URL names no server: sync sends it wherever it is pointed
    spoolWithoutUrl: mode === "offline" && o.url === undefined && !process.env.BABYSIT_URL,
    warner,
    dashboardUrl: () => run?.url ?? baseUrl,
    onAlert: typeof onAlert === "function" ? (alert) => onAlert(alert, run!) : undefined,
    currentStep: () => run?.alertStep() ?? null,
    onResumed: (lastStep) => run?.resumeAfter(lastStep),
    onChecklist: (checklist) => {
      const line = run && !quiet ? checklistLine(checklist, run.url) : null;
      if (line) say(line);
    },
    onCreated: (stored) => {
      run?.created(stored);
      // as the Python SDK prints it, once, where a person watching the script sees it
      if (run && !quiet && !printed) {
        printed = true;
        const label = run.name ? `${run.project} / ${run.name}` : run.project;
        say(`babysit: ${stored.resumed ? "resumed" : "logging"} run ${label} -> ${run.url}`);
      }
    },
  });
  // An id given by the caller may name an existing run, whose last step only the server knows.
  const resuming = o.id !== undefined && id === o.id;
  run = new Run(id, project, name, baseUrl, transport, warner, positive(o.finishTimeoutMs, 10_000), resuming);
  track(run);
  const leftovers = transport.replayedFromSpool;
  if (leftovers > 0) say(`babysit: resending ${counted(leftovers, "batch", "batches")} of run ${id} left in ${transport.spool.path}`);
  if (mode === "offline" && !quiet) {
    say(`babysit: offline run ${id} (${name ? `${project} / ${name}` : project}) kept in ${spoolDir}; send it later with \`npx babysit-sdk sync\``);
  }
  await transport.start(positive(o.initTimeoutMs, 2000));
  return run;
}

/**
 * A training run. Get one from {@link init}; every method is safe to call from a hot loop and
 * never throws: bad input is dropped with a one-time warning on stderr.
 */
export class Run implements Tracked {
  /** The last step used; while `floor` is set, a tentative one (see resumeAfter). */
  private lastStep: number | null;
  /**
   * Set while a resumed run's last stored step is unknown (the server has not answered): steps
   * chosen without `step` are then tentative, assuming the run stopped at `floor`, and are shifted
   * once the server says where it stopped. An explicit log() step ends this.
   */
  private floor: number | null = null;
  /** Tentative steps not yet resolved: their floor and the last of them. */
  private chain: { floor: number; last: number } | null = null;
  /** Largest explicit histogram/event step given while `floor` was set (such steps do not move the tentative ones). */
  private explicitMax = -1;
  private finishing: Promise<DeliveryResult> | null = null;
  private stopAsker: StopAsker | null = null;
  /** Keys already checked against the contract: log() is called every step with the same keys. */
  private readonly okKeys = new Set<string>();
  private readonly badKeys = new Map<string, string>();
  /** Distinct keys logged to this run by this process, held to the contract's per-run limits. */
  private readonly metricKeys = new Set<string>();
  private readonly histogramKeys = new Set<string>();
  private readonly imageKeys = new Set<string>();

  /** @internal the latest step, for printed alerts; null before the first or while it is tentative */
  alertStep(): number | null {
    return this.floor === null ? this.lastStep : null;
  }

  /** @internal the step a log() without `step` would take now; null while it is tentative (a resumed run) */
  nextAutoStep(): number | null {
    if (this.floor !== null) return null;
    return this.lastStep === null ? 0 : this.lastStep + 1;
  }

  /** @internal use {@link init} */
  constructor(
    /** The run id, e.g. to resume the run later with `init({ id })`. */
    readonly id: string,
    private storedProject: string,
    private storedName: string | undefined,
    private readonly baseUrl: string,
    private readonly transport: Transport,
    private readonly warner: OnceWarner,
    private readonly finishTimeoutMs: number,
    resuming = false,
  ) {
    // Batches an earlier process left in the spool are this run's too: continue after them.
    this.lastStep = transport.spooledMaxStep;
    if (resuming) {
      // Until the server answers, continue the earlier process's tentative steps if it left any
      // (same floor, so they keep their order once resolved), else assume the run stopped at the
      // last step in the spool.
      const floor = transport.spooledFloor ?? transport.spooledMaxStep ?? -1;
      this.floor = floor;
      this.lastStep = transport.spooledMaxStep ?? floor;
      this.chain = { floor, last: this.lastStep };
    }
  }

  /**
   * The run's project: as given to init() until the server answers, then the run's own (a run
   * resumed with `init({ id })` stays in the project it was created in).
   */
  get project(): string {
    return this.storedProject;
  }

  /** The run's name: as given to init(); once the server answers, its own (e.g. `brisk-otter-7` when none was given). */
  get name(): string | undefined {
    return this.storedName;
  }

  /** @internal the server created or resumed the run and answered its stored project and name */
  created(stored: { project?: string; name?: string }): void {
    if (stored.project && stored.project !== this.storedProject) {
      this.warner.warn(
        "project",
        `run ${this.id} belongs to project "${stored.project}", not "${this.storedProject}" as given to init(); it stays in "${stored.project}"`,
      );
      this.storedProject = stored.project;
    }
    if (stored.name) this.storedName = stored.name;
  }

  /**
   * @internal the server created or resumed this run; its largest stored step is `lastStep` (-1:
   * none). Tentative steps move by what the run really holds beyond their floor (the transport
   * moves the queued and spooled items the same way), so nothing stored earlier is overwritten.
   */
  resumeAfter(lastStep: number): void {
    let last = this.lastStep ?? -1;
    const chain = this.chain;
    this.chain = null;
    if (chain) {
      // The last tentative step, resolved (never below lastStep: a chain starts at or above its floor).
      const end = chain.last + Math.max(0, lastStep - chain.floor);
      last = Math.max(this.floor === null ? last : -1, lastStep, end, this.explicitMax);
      this.floor = null;
    } else last = Math.max(last, lastStep);
    this.lastStep = last < 0 ? null : last;
  }

  /** Dashboard URL of this run, e.g. `http://127.0.0.1:3000/runs/3f9c2a7d1b4e`. */
  get url(): string {
    return this.baseUrl + (this.transport.dashboardPath ?? `/runs/${encodeURIComponent(this.id)}`);
  }

  /**
   * Records metric values for one step. Synchronous and cheap: it only queues the values; they are
   * sent in the background. The time is taken now.
   *
   * @param metrics - key -> number; NaN and ±Infinity are kept (they are how divergence shows).
   *   Keys are 1..200 code points of well-formed Unicode without control characters, e.g.
   *   `"train/loss"`. Entries with other keys or non-number values are dropped (only they: the rest
   *   of the call is sent) with a one-time warning per kind of problem, and counted in
   *   `finish()`'s `rejectedPoints`.
   * @param options - `{ step, epoch }`, or just the step as a number. Without a step the call
   *   uses the step after the last one used (0 for the first call of a new run; after the run's
   *   last stored step for a resumed one).
   * @example
   * run.log({ "train/loss": loss, "train/acc": acc }, { step, epoch: step / stepsPerEpoch });
   * run.log({ lr });            // step = last step + 1
   */
  log(metrics: Record<string, number>, options?: LogOptions | number): void {
    try {
      const opts: LogOptions = typeof options === "number" ? { step: options } : isPlainObject(options) ? options : {};
      if (!isPlainObject(metrics)) {
        this.warner.warn("log-arg", `log() expects an object of key -> number, got ${describe(metrics)}; ignored`);
        this.transport.reject("log() called with something other than an object", 1);
        return;
      }
      // Without a step: the next one, which after step 2^53-1 is no valid step either.
      const auto = opts.step === undefined;
      const step = auto ? (this.lastStep === null ? 0 : this.lastStep + 1) : opts.step;
      if (!isValidStep(step)) {
        const reason = "step is not an integer from 0 to 2^53-1";
        this.warner.warn("step", `step must be an integer from 0 to 2^53-1, got ${describe(step)}; log() call dropped`);
        this.transport.reject(reason, Object.keys(metrics).length + (opts.epoch === undefined ? 0 : 1));
        return;
      }
      // Null prototype: a key like "__proto__" is a metric, not the object's prototype.
      const values: Record<string, WireValue> = Object.create(null);
      let points = 0;
      for (const key of Object.keys(metrics)) {
        if (!this.okKeys.has(key)) {
          const known = this.badKeys.get(key);
          if (known !== undefined) {
            this.transport.reject(known, 1);
            continue;
          }
          const problem = keyProblem(key);
          if (problem) {
            if (this.badKeys.size < 10_000) this.badKeys.set(key, problem);
            this.warner.warn(`key:${problem}`, `${problem} in log() (${preview(key)}); that key dropped, the rest of the row is sent`);
            this.transport.reject(problem, 1);
            continue;
          }
          if (this.okKeys.size < 100_000) this.okKeys.add(key);
        }
        const v = metrics[key];
        if (typeof v !== "number") {
          this.warner.warn(`value:${key}`, `value of ${preview(key)} is ${describe(v)}, not a number; dropped`);
          this.transport.reject("metric value is not a number", 1);
          continue;
        }
        if (!this.admitKey(this.metricKeys, key, LIMITS.keysPerRun, "metric")) continue;
        values[key] = encodeValue(v);
        points++;
      }
      let epoch: number | undefined;
      if (opts.epoch !== undefined) {
        const e = opts.epoch;
        if (typeof e === "number" && Number.isFinite(e) && Math.abs(e) <= LIMITS.epochAbsMax) {
          // The epoch is stored as the metric "epoch": one more key of the run.
          if (this.admitKey(this.metricKeys, "epoch", LIMITS.keysPerRun, "metric")) {
            epoch = e;
            points++;
          }
        } else {
          this.warner.warn("epoch", `epoch must be a finite number of at most ${LIMITS.epochAbsMax} in absolute value, got ${describe(e)}; ignored`);
          this.transport.reject("epoch is not a finite number within ±1e12", 1);
        }
      }
      if (points === 0) return;
      const floor = this.floor;
      this.lastStep = step;
      if (floor !== null && this.chain) {
        if (auto) this.chain.last = step;
        else this.floor = null; // an explicit step anchors the steps after it
      }
      const time = nowSeconds();
      // unresolvedAfter first: resolveItem() rewrites only the start of the JSON.
      const row: Row =
        floor !== null && auto ? { unresolvedAfter: floor, step, time, epoch, metrics: values } : { step, time, epoch, metrics: values };
      this.transport.enqueueRow(row, points);
    } catch (err) {
      this.internal(err);
      this.transport.reject("log() failed internally", countOf(metrics));
    }
  }

  /**
   * Records a histogram, e.g. of a layer's activations or weights.
   *
   * @param key - histogram key, e.g. `"act/fc1"`
   * @param values - raw values (array, typed array or iterable), binned here into 30 equal-width
   *   bins over their finite range (NaN and ±Infinity are not binned); or a ready-made
   *   `{ edges, counts }` with `edges.length === counts.length + 1`
   * @param step - the step; default: the last step used by this run (0 before any)
   * @example
   * run.logHistogram("act/fc1", hiddenActivations, step);
   * run.logHistogram("custom", { edges: [0, 0.5, 1], counts: [3, 4] });
   */
  logHistogram(key: string, values: HistogramInput, step?: number): void {
    try {
      const problem = keyProblem(key, "histogram key");
      if (problem) {
        this.warner.warn(`hkey:${problem}`, `${problem} in logHistogram() (${describe(key)}); dropped`);
        this.transport.reject(problem, 1);
        return;
      }
      const s = this.stepFor(step, "logHistogram");
      if (s === null) return;
      let h: Histogram | null;
      if (isReadyHistogram(values)) {
        const bad = histogramProblem(values);
        if (bad) {
          this.warner.warn(`hbad:${key}`, `histogram ${preview(key)}: ${bad}; dropped`);
          this.transport.reject(`histogram: ${bad}`, 1);
          return;
        }
        h = { edges: Array.from(values.edges), counts: Array.from(values.counts) };
      } else if (values !== null && typeof values === "object") {
        h = computeHistogram(values);
        if (!h) {
          this.warner.warn(`hempty:${key}`, `histogram ${preview(key)} has no finite values; dropped`);
          this.transport.reject("histogram has no finite values", 1);
          return;
        }
      } else {
        this.warner.warn(`hvalues:${key}`, `logHistogram(${preview(key)}) expects an array of numbers or { edges, counts }; dropped`);
        this.transport.reject("histogram values are not an array of numbers or { edges, counts }", 1);
        return;
      }
      if (!this.admitKey(this.histogramKeys, key, LIMITS.histogramKeysPerRun, "histogram")) return;
      const item = { step: s, time: nowSeconds(), key, edges: h.edges, counts: h.counts };
      this.transport.enqueue("histogram", JSON.stringify(this.tentative(step, item)));
    } catch (err) {
      this.internal(err);
      this.transport.reject("logHistogram() failed internally", 1);
    }
  }

  /**
   * Records an event: something that happened once rather than a series, e.g. input statistics,
   * a gradient check, a checkpoint.
   *
   * @param type - 1..64 code points without control characters; known types: `input_stats` (`{ mean: number[], std: number[] }`),
   *   `gradcheck` (`{ param, rel_error }`), `image` (`{ key, width, height, png_base64 }`)
   * @param data - an object, converted to JSON like `config` in {@link InitOptions}
   * @param step - the step; default: the last step used by this run (none before any)
   * @example
   * run.event("input_stats", { mean: [0.13], std: [0.31] }, 0);
   */
  event(type: string, data: Record<string, unknown> = {}, step?: number): void {
    try {
      const problem = nameProblem(type, LIMITS.eventTypeMaxLength, "event type");
      if (problem) {
        this.warner.warn(`etype:${problem}`, `${problem} (got ${describe(type)}); event dropped`);
        this.transport.reject(problem, 1);
        return;
      }
      // The server refuses a whole batch for one bad image: check it here and drop only the image
      // (before conversion, which would mend a lone surrogate in its key).
      const dropImage = (d: Record<string, unknown>): boolean => {
        const bad = type === "image" ? imageProblem(d) : null;
        if (!bad) return false;
        this.warner.warn(`image:${bad}`, `${bad}; image event dropped`);
        this.transport.reject(bad, 1);
        return true;
      };
      if (isPlainObject(data) && dropImage(data)) return;
      // The body's nesting limit counts the batch, its events list and the event around data.
      const json = toJsonObject(data, {
        maxDepth: LIMITS.jsonDepth - 3,
        maxBytes: LIMITS.bodyBytes,
        what: `event ${preview(type)} data`,
        warn: (kind, message) => this.warner.warn(`edata:${type}:${kind}`, message),
      });
      if (json === undefined) {
        this.transport.reject("event data is not an object", 1);
        return;
      }
      if (!isPlainObject(data) && dropImage(json)) return;
      let s: number | null | undefined;
      if (step === undefined) s = this.lastStep;
      else {
        s = this.stepFor(step, "event");
        if (s === null) return;
      }
      if (type === "image" && !this.admitKey(this.imageKeys, String(json.key), LIMITS.imageKeysPerRun, "image")) return;
      const time = nowSeconds();
      const item = s === null ? { type, time, data: json } : this.tentative(step, { step: s, type, time, data: json });
      this.transport.enqueue("event", JSON.stringify(item));
    } catch (err) {
      this.internal(err);
      this.transport.reject("event() failed internally", 1);
    }
  }

  /**
   * Logs per-feature mean and std of inputs exactly as fed to the model (event `input_stats`), so the
   * server can tell un-normalized inputs and, with a validation batch (`split: "val"`), validation data
   * processed differently from training data. Never throws: unreadable input is warned about and dropped.
   *
   * @param x - a batch: (N, F) rows of features, (N, C, ...) per channel, or (N,) one feature; at most
   *   100,000 features (`statsFeaturesMax`)
   * @param options - `step` (default: the last step used), `split`: `"train"` (default) or `"val"`, 1..64 code points
   * @returns the statistics sent, or null when nothing was sent
   * @example
   * run.logInputStats(xTrain);
   * run.logInputStats(xVal, { split: "val" });
   */
  logInputStats(x: NumericArray, options: { step?: number; split?: string } = {}): InputStats | null {
    try {
      const stats: InputStats = inputStats(x);
      if (stats.mean.length > LIMITS.statsFeaturesMax) {
        this.warner.warn(
          "input_stats:features",
          `logInputStats(): ${stats.mean.length} features, at most ${LIMITS.statsFeaturesMax} (statsFeaturesMax); not sent`,
        );
        this.transport.reject("too many input features", 1);
        return null;
      }
      return this.sendStats("input_stats", stats, options) ? stats : null;
    } catch (err) {
      this.warner.warn("input_stats:read", `logInputStats() could not read its input: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  /**
   * Logs the range, mean and std of a model's predictions and of its targets (event `output_stats`), so
   * the server can tell an output activation that cannot reach the targets (a ReLU or sigmoid on a
   * regression output). Call it e.g. once an epoch on a validation batch. Never throws.
   *
   * @param pred - the model's outputs (numbers or nested arrays)
   * @param target - the targets, in the same units
   * @param options - `step` (default: the last step used), `split`: `"train"` (default) or `"val"`
   * @returns the statistics sent, or null when nothing was sent
   * @example
   * run.logOutputStats(predictions, targets, { split: "val" });
   */
  logOutputStats(pred: NumericArray, target: NumericArray, options: { step?: number; split?: string } = {}): OutputStats | null {
    try {
      const stats: OutputStats = outputStats(pred, target);
      return this.sendStats("output_stats", stats, options) ? stats : null;
    } catch (err) {
      this.warner.warn("output_stats:read", `logOutputStats() could not read its inputs: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  }

  private sendStats(type: string, stats: InputStats | OutputStats, options: { step?: number; split?: string }): boolean {
    if (options.split !== undefined) {
      const problem = nameProblem(options.split, LIMITS.statsSplitMaxLength, "split");
      if (problem) {
        this.warner.warn(`${type}:split:${problem}`, `${problem}; ${type} not sent`);
        this.transport.reject(problem, 1);
        return false;
      }
      stats.split = options.split;
    }
    this.event(type, stats as unknown as Record<string, unknown>, options.step);
    return true;
  }

  /**
   * Logs how many labels of a split fall in each class, counted here (only the counts are sent): the
   * event `label_stats` `{ counts: number[], n, split }` that lets the server tell a model answering
   * the majority class (diagnosis `majority_class`). Call it once per split with all its labels.
   * Never throws: labels that are not class indices are warned about once and not sent.
   *
   * @param labels - class indices 0..C-1 (an array or typed array), or one row per example (one-hot
   *   or probabilities: its largest entry counts; a one-entry row is a binary target)
   * @param options - `split`: "train" (default) or "val" ("validation", "test", ...); `numClasses`: C,
   *   so that classes absent from `labels` count as 0; `step`: default the last step used
   * @returns the statistics sent, or null when `labels` could not be read
   * @example
   * run.logLabelStats(yTrain);
   * run.logLabelStats(yVal, { split: "val", numClasses: 10 });
   */
  logLabelStats(labels: LabelsInput, options: { split?: string; numClasses?: number; step?: number } = {}): LabelStats | null {
    try {
      const split = options?.split ?? "train";
      const bad = splitProblem(split);
      if (bad) {
        this.warner.warn(`label_stats:split:${String(split).slice(0, 80)}`, `logLabelStats(): ${bad} (got ${describe(split)}); not logged`);
        this.transport.reject(bad, 1);
        return null;
      }
      let stats: LabelStats;
      try {
        stats = { ...labelCounts(labels, options?.numClasses), split };
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.warner.warn(`label_stats:${why.slice(0, 80)}`, `logLabelStats() could not read its labels: ${why}; not logged`);
        this.transport.reject(`label_stats: ${why}`, 1);
        return null;
      }
      this.event("label_stats", { ...stats }, options?.step);
      return stats;
    } catch (err) {
      this.internal(err);
      this.transport.reject("logLabelStats() failed internally", 1);
      return null;
    }
  }

  /**
   * Whether this trial of a sweep should stop early. Never throws.
   *
   * True when the server says the run diverged, or sits clearly below the sweep's other trials at the
   * same step (the sweep's median-stopping rule, see `sweep({ earlyStop })`); false for a run in no
   * sweep and while the server cannot be reached. Asks the server at most once a second (calls in
   * between answer from the latest reply), so it is cheap to call every step. The answer reflects
   * what the server has received: the latest log() may still be queued.
   *
   * @param options - `waitMs`: how long to wait for a fresh answer (default 500; 0 never waits)
   * @returns true or false; {@link Run.stopReason} holds the server's reason, a sentence starting `"diverged: "` or `"below the median: "`
   * @example
   * for (let epoch = 0; epoch < 3; epoch++) {
   *   run.log({ "val/acc": trainEpoch() });
   *   if (await run.shouldStop()) break;
   * }
   */
  async shouldStop(options: { waitMs?: number } = {}): Promise<boolean> {
    try {
      if (this.finishing) return false;
      this.stopAsker ??= new StopAsker(this.baseUrl);
      const given = isPlainObject(options) ? options.waitMs : undefined;
      const waitMs = given === undefined ? 500 : typeof given === "number" && given > 0 ? Math.min(given, 10_000) : 0;
      return await this.stopAsker.ask(this.id, waitMs);
    } catch {
      return false;
    }
  }

  /** The server's reason of the latest {@link Run.shouldStop} answer (`"diverged: …"`, `"below the median: …"`), or null. */
  get stopReason(): string | null {
    return this.stopAsker?.answer.reason ?? null;
  }

  /**
   * Sends everything logged so far and waits until the server acknowledged it. Not needed in a
   * training loop (data is sent in the background); useful before reading the data back.
   *
   * @param options - `timeoutMs`: give up waiting after this long (default: the finish timeout)
   * @returns whether everything was delivered; never rejects
   * @example
   * const { delivered } = await run.flush({ timeoutMs: 5000 });
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<DeliveryResult> {
    try {
      return await this.transport.flush(positive(options?.timeoutMs, this.finishTimeoutMs));
    } catch (err) {
      this.internal(err);
      return { delivered: false, pendingBatches: -1, spoolPath: null, rejectedPoints: 0, rejections: [] };
    }
  }

  /**
   * Sends what is still queued, marks the run finished (or crashed) and stops the background
   * sender. Waits at most `timeoutMs` (default 10 s, see {@link InitOptions.finishTimeoutMs}) and
   * resolves even when the server never answers: unsent batches then stay in the spool file and are
   * sent when the run is resumed with `init({ id })`. Calling it again returns the same promise.
   *
   * @param status - `"finished"` (default) or `"crashed"`
   * @param options - `timeoutMs`: how long to wait for the server
   * @returns whether everything was delivered, where the rest was left, and how many points were
   *   rejected and why (`rejectedPoints`, `rejections`); never rejects
   * @example
   * try {
   *   train(run);
   *   await run.finish();
   * } catch (err) {
   *   await run.finish("crashed");
   *   throw err;
   * }
   */
  finish(status: "finished" | "crashed" = "finished", options: { timeoutMs?: number } = {}): Promise<DeliveryResult> {
    if (this.finishing) return this.finishing;
    if (status !== "finished" && status !== "crashed") {
      this.warner.warn("status", `finish() status must be "finished" or "crashed", got ${describe(status)}; using "finished"`);
      status = "finished";
    }
    const timeoutMs = positive(options?.timeoutMs, this.finishTimeoutMs);
    this.finishing = this.transport
      .finish(status, timeoutMs)
      .catch((err: unknown) => {
        this.internal(err);
        return { delivered: false, pendingBatches: -1, spoolPath: null, rejectedPoints: 0, rejections: [] };
      })
      .finally(() => untrack(this));
    return this.finishing;
  }

  /** @internal the script ended without finish() */
  autoFinish(): void {
    if (this.finishing) return;
    void this.finish(process.exitCode ? "crashed" : "finished");
  }

  /** @internal the process is exiting */
  emergencySpool(): void {
    this.transport.emergencySpool();
  }

  private stepFor(step: number | undefined, where: string): number | null {
    if (step === undefined) return this.lastStep ?? 0;
    if (!isValidStep(step)) {
      this.warner.warn(`step:${where}`, `${where}() step must be an integer from 0 to 2^53-1, got ${describe(step)}; dropped`);
      this.transport.reject("step is not an integer from 0 to 2^53-1", 1);
      return null;
    }
    // Never move backwards: an auto step after this must not overwrite values already logged. While
    // the resume point is unknown the two cannot be compared; resumeAfter() takes the larger.
    if (this.floor !== null) this.explicitMax = Math.max(this.explicitMax, step);
    else this.lastStep = Math.max(this.lastStep ?? 0, step);
    return step;
  }

  /** A histogram or event item, marked tentative when its step was chosen here before the resume point was known. */
  private tentative<T extends { step: number }>(given: number | undefined, item: T): T | ({ unresolvedAfter: number } & T) {
    if (given !== undefined || this.floor === null) return item;
    // unresolvedAfter and step first: resolveItem() rewrites only the start of the JSON.
    const { step, ...rest } = item;
    return { unresolvedAfter: this.floor, step, ...rest } as { unresolvedAfter: number } & T;
  }

  /**
   * Whether `key` may be logged: it was logged before, or the run has fewer than `max` distinct keys
   * of this kind. A new key beyond the contract's per-run limit is dropped, warned about once, counted.
   */
  private admitKey(keys: Set<string>, key: string, max: number, kind: string): boolean {
    if (keys.has(key)) return true;
    if (keys.size < max) {
      keys.add(key);
      return true;
    }
    const reason = `more than ${max} distinct ${kind} keys in one run`;
    this.warner.warn(
      `keys:${kind}`,
      `run ${this.id} already has ${max} distinct ${kind} keys, the most one run may have; new ones (first ${preview(key)}) are dropped and counted`,
    );
    this.transport.reject(reason, 1);
    return false;
  }

  private internal(err: unknown): void {
    this.warner.warn("internal", `internal error, please report: ${(err as Error)?.stack ?? err}`);
  }
}

/** How many values a log() call held, for counting a call that was dropped; never throws. */
function countOf(metrics: unknown): number {
  try {
    return isPlainObject(metrics) ? Math.max(1, Object.keys(metrics).length) : 1;
  } catch {
    return 1;
  }
}

function isReadyHistogram(v: unknown): v is Histogram {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "edges" in v && "counts" in v;
}

function newRunId(): string {
  // 16 characters of [A-Za-z0-9_-]: 96 random bits, short enough for a URL.
  return randomBytes(12).toString("base64url");
}

function resolveUrl(raw: unknown, warner: OnceWarner): string {
  try {
    if (typeof raw !== "string") throw new Error("not a string");
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http(s)");
    return u.toString().replace(/\/+$/, "");
  } catch {
    warner.warn("url", `url must be an http(s) URL, got ${describe(raw)}; using ${DEFAULT_URL}`);
    return DEFAULT_URL;
  }
}

function positive(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;
}

function describe(v: unknown): string {
  if (typeof v === "string") return preview(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

/**
 * The spool directory: the option, else `BABYSIT_SPOOL_DIR` (a leading `~` is the home directory,
 * as Python's expanduser reads it), else `~/.babysit/spool`: the Python SDK's default, and one
 * place whatever directory a script was started in.
 */
export function defaultSpoolDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = os.homedir();
  const expand = (p: string) => (p === "~" ? home : p.startsWith("~/") ? path.join(home, p.slice(2)) : p);
  if (option) return path.resolve(expand(option));
  if (env.BABYSIT_SPOOL_DIR) return path.resolve(expand(env.BABYSIT_SPOOL_DIR));
  return path.join(home, ".babysit", "spool");
}
