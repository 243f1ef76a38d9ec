// Hyperparameter search (sweeps): search spaces, the seeded sampler, and sweeps that hand out trials.
// The sampler is lib/sweeps/types.ts's, bit for bit: the server and the Python SDK draw the same
// values for the same seed, trial index and parameter name (tests/fixtures/sweeps/sampler-vectors.json).
// Each process asks the server for its next trial, so any number of workers share one sweep.
// When the server cannot be reached, trials are sampled here from the same seed (0, 1, 2, ...) with a
// warning: training goes on, and the runs, spooled like any run, join the sweep through their
// config's `sweep` entry (which then carries the space too) once they reach the server.
import { LIMITS, isPlainObject, isWellFormed, nameProblem } from "./encode.js";
import { OnceWarner, say } from "./output.js";
import { DEFAULT_URL, init, type InitOptions, type Run } from "./run.js";
import { authHeaders, describeError } from "./transport.js";

export type Scalar = number | string | boolean | null;
export type Distribution =
  | { distribution: "log_uniform"; low: number; high: number }
  | { distribution: "uniform"; low: number; high: number }
  | { distribution: "int_uniform"; low: number; high: number }
  | { distribution: "choice"; values: Scalar[] };
export type ParamSpec = Distribution | Scalar;
/** Parameter name -> distribution or fixed value (the wire form the API stores). */
export type Space = Record<string, ParamSpec>;
export type Goal = "max" | "min";

const DISTRIBUTIONS = ["log_uniform", "uniform", "int_uniform", "choice"] as const;
/** config.sweep links a run to its sweep, config.babysit is babysit's own: no parameter takes these names. */
const RESERVED_PARAM = "sweep";
const RESERVED_PARAM_NAMES = ["sweep", "babysit"];
/** Limits of a space: the contract's (lib/contract/limits.ts), copied in encode.ts. */
export const SPACE_LIMITS = {
  sweepParamsMax: LIMITS.sweepParamsMax,
  sweepParamNameMaxLength: LIMITS.sweepParamNameMaxLength,
  sweepChoiceValuesMax: LIMITS.sweepChoiceValuesMax,
  sweepLogUniformMin: LIMITS.sweepLogUniformMin,
  sweepLogUniformMax: LIMITS.sweepLogUniformMax,
} as const;
const MAX_PARAMS = SPACE_LIMITS.sweepParamsMax;
const MAX_CHOICES = SPACE_LIMITS.sweepChoiceValuesMax;
const SWEEP_NAME_MAX_LENGTH = LIMITS.sweepNameMaxLength;
const SEED_LIMIT = 2 ** 32;

/** The server refused to create or refine a sweep; `code` and `status` are its error code and HTTP status. */
export class SweepError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "SweepError";
  }
}

// ---------------------------------------------------------------------- space helpers

function finite(x: unknown, what: string): number {
  if (typeof x !== "number") throw new TypeError(`${what} must be a number, got ${show(x)}`);
  if (!Number.isFinite(x)) throw new RangeError(`${what} must be finite, got ${x}`);
  return x;
}

/**
 * A scale parameter (learning rate, weight decay): sampled uniformly in log space between `low`
 * and `high`, so 1e-4..1e-3 gets as many trials as 1e-2..1e-1.
 *
 * @param low - smallest value, > 0
 * @param high - largest value, > low
 * @returns `{ distribution: "log_uniform", low, high }`
 * @throws RangeError when low <= 0 or high <= low; TypeError for a bound that is not a number
 * @example
 * logUniform(1e-4, 1e-1) // { distribution: "log_uniform", low: 0.0001, high: 0.1 }
 */
export function logUniform(low: number, high: number): Distribution {
  const lo = finite(low, "logUniform low");
  const hi = finite(high, "logUniform high");
  if (lo <= 0) throw new RangeError(`logUniform low must be > 0 (it is sampled in log space), got ${low}`);
  if (!(hi > lo)) throw new RangeError(`logUniform high must be > low, got low=${low} high=${high}`);
  if (lo < SPACE_LIMITS.sweepLogUniformMin || hi > SPACE_LIMITS.sweepLogUniformMax) {
    throw new RangeError(
      `logUniform bounds must lie within [${SPACE_LIMITS.sweepLogUniformMin}, ${SPACE_LIMITS.sweepLogUniformMax}], got low=${low} high=${high}`,
    );
  }
  return { distribution: "log_uniform", low: lo, high: hi };
}

/**
 * A parameter sampled uniformly between `low` and `high` (dropout, momentum).
 *
 * @throws RangeError when high <= low; TypeError for a bound that is not a number
 * @example
 * uniform(0, 0.5) // { distribution: "uniform", low: 0, high: 0.5 }
 */
export function uniform(low: number, high: number): Distribution {
  const lo = finite(low, "uniform low");
  const hi = finite(high, "uniform high");
  if (!(hi > lo)) throw new RangeError(`uniform high must be > low, got low=${low} high=${high}`);
  if (!Number.isFinite(hi - lo)) throw new RangeError(`uniform range is too wide (high - low overflows), got low=${low} high=${high}`);
  return { distribution: "uniform", low: lo, high: hi };
}

/**
 * An integer parameter: each of low, low + 1, ..., high equally likely (both ends included).
 *
 * @throws RangeError when a bound is not a safe integer or high <= low (a single value is a fixed value: write it bare)
 * @example
 * intUniform(1, 4) // { distribution: "int_uniform", low: 1, high: 4 }
 */
export function intUniform(low: number, high: number): Distribution {
  for (const [v, what] of [
    [low, "intUniform low"],
    [high, "intUniform high"],
  ] as const) {
    finite(v, what);
    if (!Number.isSafeInteger(v)) throw new RangeError(`${what} must be an integer, got ${v}`);
  }
  if (high <= low)
    throw new RangeError(`intUniform high must be > low (a single value is a fixed value: write it bare), got low=${low} high=${high}`);
  if (!Number.isSafeInteger(high - low + 1)) throw new RangeError("intUniform range is too wide (more than 2^53 - 1 values)");
  return { distribution: "int_uniform", low, high };
}

function scalar(v: unknown, what: string): Scalar {
  if (v === null || typeof v === "boolean") return v;
  if (typeof v === "string") {
    if (!isWellFormed(v)) throw new RangeError(`${what} must be well-formed Unicode`);
    return v;
  }
  if (typeof v === "number") return finite(v, what);
  throw new TypeError(`${what} must be a number, string, boolean or null, got ${show(v)}`);
}

/**
 * A categorical parameter: one of `values`, each equally likely.
 *
 * @param values - 1..1000 numbers, strings, booleans or nulls, e.g. `["relu", "tanh"]`
 * @throws RangeError / TypeError when empty, too long, or a value is not a scalar (an array, an object, NaN)
 * @example
 * choice([32, 64, 128]) // { distribution: "choice", values: [32, 64, 128] }
 */
export function choice(values: readonly Scalar[]): Distribution {
  if (!Array.isArray(values)) throw new TypeError(`choice takes an array of values, e.g. choice(["relu", "tanh"]), got ${show(values)}`);
  if (values.length === 0) throw new RangeError("choice needs at least one value");
  if (values.length > MAX_CHOICES) throw new RangeError(`choice takes at most ${MAX_CHOICES} values, got ${values.length}`);
  return { distribution: "choice", values: values.map((v, i) => scalar(v, `choice values[${i}]`)) };
}

/**
 * Checks a search space and returns it in wire form (a null-prototype record). A space maps parameter
 * names (1..200 code points, no control characters, not `"sweep"` or `"babysit"`; at most 100) to a
 * distribution ({@link logUniform}, {@link uniform}, {@link intUniform}, {@link choice}, or their
 * object form) or a fixed value (number, string, boolean, null: the same in every trial).
 *
 * @throws TypeError / RangeError naming the parameter and what is wrong
 * @example
 * validateSpace({ lr: logUniform(1e-4, 1e-1), epochs: 3 });
 */
export function validateSpace(space: unknown): Space {
  if (!isPlainObject(space)) throw new TypeError(`space must be an object of parameter name -> distribution or fixed value, got ${show(space)}`);
  const entries = Object.entries(space);
  if (entries.length === 0) throw new RangeError("space must name at least one parameter");
  if (entries.length > MAX_PARAMS) throw new RangeError(`space may have at most ${MAX_PARAMS} parameters, got ${entries.length}`);
  const out: Space = Object.create(null);
  for (const [name, spec] of entries) {
    const problem = nameProblem(name, SPACE_LIMITS.sweepParamNameMaxLength, "a parameter name");
    if (problem) throw new RangeError(`space: ${problem}, got ${show(name)}`);
    if (RESERVED_PARAM_NAMES.includes(name)) {
      throw new RangeError(
        `space: the parameter name "${name}" is reserved in a run's config (config.sweep links a run to its sweep); name the parameter otherwise`,
      );
    }
    out[name] = paramSpec(name, spec);
  }
  return out;
}

function paramSpec(name: string, spec: unknown): ParamSpec {
  if (Array.isArray(spec)) {
    throw new TypeError(`space["${name}"]: an array is not a distribution; use choice([...]) to pick one of its values`);
  }
  if (spec !== null && typeof spec === "object") {
    const o = spec as Record<string, unknown>;
    const kind = o.distribution;
    if (!DISTRIBUTIONS.includes(kind as (typeof DISTRIBUTIONS)[number])) {
      throw new RangeError(`space["${name}"]: distribution must be one of ${DISTRIBUTIONS.join(", ")}, got ${show(kind)}`);
    }
    const want = kind === "choice" ? ["values"] : ["low", "high"];
    const keys = Object.keys(o).filter((k) => k !== "distribution");
    if (keys.length !== want.length || !want.every((k) => keys.includes(k))) {
      throw new RangeError(`space["${name}"]: a ${kind} takes ${want.join(" and ")}, got ${Object.keys(o).sort().join(", ")}`);
    }
    try {
      if (kind === "choice") return choice(o.values as Scalar[]);
      const make = kind === "log_uniform" ? logUniform : kind === "uniform" ? uniform : intUniform;
      return make(o.low as number, o.high as number);
    } catch (err) {
      const e = err as Error;
      throw new (e.constructor as ErrorConstructor)(`space["${name}"]: ${e.message}`);
    }
  }
  try {
    return scalar(spec, `space["${name}"]`);
  } catch (err) {
    const e = err as Error;
    throw new (e.constructor as ErrorConstructor)(`${e.message} (a fixed value, or a distribution from logUniform / uniform / intUniform / choice)`);
  }
}

// ---------------------------------------------------------------------- the sampler (lib/sweeps/types.ts)

const M64 = (1n << 64n) - 1n;
const encoder = new TextEncoder();

function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of encoder.encode(text)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & M64;
  return h;
}

/** @internal the unit draw in [0, 1) of parameter `name` for trial `index` */
export function unit(seed: number, index: number, name: string): number {
  const state = ((BigInt(seed) << 32n) ^ BigInt(index) ^ fnv1a64(name)) & M64;
  let z = (state + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  z ^= z >> 31n;
  return Number(z >> 11n) / 2 ** 53;
}

// ln and exp of lib/sweeps/sampler.ts, operation for operation: Math.log / Math.exp differ between
// JavaScript engines and C libraries by an ulp now and then, so the sampler uses its own, built from
// + - * / only, which IEEE 754 rounds the same everywhere (the Python SDK has the same code).
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const INV_LN2 = Math.LOG2E;
const SQRT2 = Math.SQRT2;
const LN_TERMS = 12;
const EXP_TERMS = 16;
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** 2^k for an integer k in [-1022, 1023], exactly. */
function pow2(k: number): number {
  u64[0] = BigInt(k + 1023) << 52n;
  return f64[0] as number;
}

function portableLn(x: number): number {
  f64[0] = x;
  let e = Number(((u64[0] as bigint) >> 52n) & 0x7ffn) - 1023;
  let m = x / pow2(e);
  if (m > SQRT2) {
    m = m / 2;
    e = e + 1;
  }
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / (2 * LN_TERMS + 1);
  for (let k = LN_TERMS - 1; k >= 0; k--) p = 1 / (2 * k + 1) + s2 * p;
  return e * LN2_HI + (e * LN2_LO + 2 * s * p);
}

function portableExp(y: number): number {
  const k = Math.floor(y * INV_LN2 + 0.5);
  const r = y - k * LN2_HI - k * LN2_LO;
  let p = 1;
  for (let n = EXP_TERMS; n >= 1; n--) p = 1 + (r * p) / n;
  return p * pow2(k);
}

function checkSeed(seed: unknown): number {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed >= SEED_LIMIT) {
    throw new RangeError(`seed must be an integer with 0 <= seed < 2^32, got ${show(seed)}`);
  }
  return seed;
}

/**
 * Trial `index` of a sweep with this `space` and `seed`: the values the server hands out too.
 *
 * @param space - a search space (see {@link validateSpace})
 * @param seed - integer, 0 <= seed < 2^32
 * @param index - trial index, integer >= 0
 * @returns name -> value (a null-prototype record): numbers for the ranges, one of the values for a choice, fixed values as they are
 * @example
 * sample({ lr: logUniform(1e-4, 1e-1), epochs: 3 }, 7, 0); // { lr: 0.00020924134723760348, epochs: 3 }
 */
export function sample(space: unknown, seed: number, index: number): Record<string, Scalar> {
  checkSeed(seed);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`index must be an integer >= 0, got ${show(index)}`);
  const clean = validateSpace(space);
  const out: Record<string, Scalar> = Object.create(null);
  for (const [name, spec] of Object.entries(clean)) {
    if (spec === null || typeof spec !== "object") {
      out[name] = spec;
      continue;
    }
    const u = unit(seed, index, name);
    if (spec.distribution === "uniform") out[name] = spec.low + u * (spec.high - spec.low);
    else if (spec.distribution === "log_uniform") {
      const a = portableLn(spec.low);
      const v = portableExp(a + u * (portableLn(spec.high) - a));
      out[name] = Math.min(spec.high, Math.max(spec.low, v));
    } else if (spec.distribution === "int_uniform") out[name] = Math.min(spec.high, spec.low + Math.floor(u * (spec.high - spec.low + 1)));
    else out[name] = spec.values[Math.floor(u * spec.values.length)] as Scalar;
  }
  return out;
}

/** The seed of a sweep created without one: derived from project and name, so every worker (and a rerun) draws the same trials. */
export function defaultSeed(project: string, name: string): number {
  return Number(fnv1a64(`${project}\u0000${name}`) >> 32n);
}

// ---------------------------------------------------------------------- sweeps and trials

/** Options of {@link sweep}. */
export interface SweepOptions {
  /** Project name (as for init()). */
  project: string;
  /** Sweep name, unique in the project, 1..200 code points: what a run's `config.sweep.id` refers to. */
  name: string;
  /** Parameter name -> distribution or fixed value, see {@link validateSpace}. */
  space: Record<string, ParamSpec>;
  /** The metric to optimise, e.g. `"val/acc"`. Default: the server's choice (best val/acc if logged, else lowest val/loss, else lowest train/loss). */
  objective?: string;
  /** `"max"` or `"min"`. Default `"min"` when the metric's name says loss/err/mse/mae/perplexity, else `"max"`. */
  goal?: Goal;
  /** 0 <= seed < 2^32. Default: the server picks one (every worker gets the stored seed); while the server cannot be reached, one derived from project and name. */
  seed?: number;
  /** Most trials over all workers. Default: no limit (then give trials(n)). */
  budget?: number;
  /** `{ rule: "median", minTrials: 4, warmupSteps: 0 }` (the default) configures run.shouldStop(); `false` turns it off. */
  earlyStop?: { rule?: "median" | "none"; minTrials?: number; warmupSteps?: number } | false;
  /** Server URL. Default `BABYSIT_URL`, else `http://127.0.0.1:3000`. */
  url?: string;
  /** How long to keep trying the server when creating the sweep or claiming a trial before sampling locally, in ms. Default 5000. */
  timeoutMs?: number;
  /** Do not print the sweep's address. Default: `BABYSIT_QUIET` is 1, true or yes. */
  quiet?: boolean;
  /**
   * The sweep this one refines, by id or as a {@link Sweep}: the new sweep is the parent's next stage
   * (`stage` = the parent's + 1), linked to it on the sweep pages. It must be a sweep of the same
   * project (else the server refuses: 400 `invalid_body`). {@link Sweep.refine} does this for you;
   * `parent` is for a next stage written by hand (the sweep page's snippet).
   */
  parent?: string | Sweep;
}

/** status 0: no answer (then `error` says why). */
type Answer = { status: number; body: Record<string, unknown> | null; error: string };

/** One trial of a sweep: its index and sampled hyperparameters. Get them from {@link Sweep.trials}. */
export class Trial {
  /** The run made by {@link Trial.init} (null before). */
  run: Run | null = null;

  /** @internal */
  constructor(
    /** The sweep it belongs to. */
    readonly sweep: Sweep,
    /** The trial's index in the sweep (0, 1, 2, ...): the sampler's input, unique in the sweep. */
    readonly index: number,
    /** name -> value: the sampled values (fixed values of the space included). */
    readonly config: Record<string, Scalar>,
    /** True when the trial was sampled here because the server could not be reached. */
    readonly local: boolean,
  ) {}

  /**
   * Starts this trial's run: init() in the sweep's project, on its server, with
   * `config = { ...your config, ...trial.config, sweep: { id: <sweep name>, trial: index } }` (plus
   * the space when the trial was sampled locally, so the server can make the sweep).
   *
   * @param options - what init() takes besides `project` and `url` (`name` defaults to `"<sweep name>-<index>"`)
   * @example
   * for await (const trial of sweep.trials(10)) {
   *   const run = await trial.init({ config: { epochs: 3 } });
   *   train(trial.config.lr as number, run);
   *   await run.finish();
   * }
   */
  async init(options: Omit<InitOptions, "project" | "url"> = {}): Promise<Run> {
    const o = (isPlainObject(options) ? options : {}) as InitOptions;
    for (const k of ["project", "url"] as const) {
      if (k in o) throw new TypeError(`trial.init(): ${k} comes from the sweep; do not pass it`);
    }
    const extra = isPlainObject(o.config) ? (o.config as Record<string, unknown>) : {};
    const clash = Object.keys(extra).filter((k) => Object.hasOwn(this.config, k) || k === RESERVED_PARAM);
    if (clash.length)
      this.sweep.warner.warn(
        `clash:${clash.join(",").slice(0, 100)}`,
        `trial.init(): config keys ${clash.join(", ")} are the sweep's; the trial's values are used`,
      );
    const link: Record<string, unknown> = { id: this.sweep.name, trial: this.index };
    if (this.local) link.space = this.sweep.space;
    const config: Record<string, unknown> = { ...extra, ...this.config, [RESERVED_PARAM]: link };
    const name = o.name ?? [...`${this.sweep.name}-${this.index}`].slice(0, LIMITS.runNameMaxLength).join("");
    this.run = await init({ ...o, name, config, project: this.sweep.project, url: this.sweep.baseUrl });
    return this.run;
  }
}

/** A hyperparameter search: a space, an objective, and the trials drawn from it. Make one with {@link sweep}. */
export class Sweep {
  /** The server's sweep id (null while the server could not be reached). */
  id: string | null = null;
  /** The sweep's page, e.g. `http://127.0.0.1:3000/sweeps/<id>` (null while offline). */
  url: string | null = null;
  /** 1 for a first sweep, the parent's + 1 for one made by {@link Sweep.refine}. */
  stage = 1;
  parentId: string | null = null;
  /** True when trials are sampled locally (the server could not be reached). */
  offline = false;
  /** @internal */
  readonly warner = new OnceWarner();
  private nextLocal = 0;
  private current: Trial | null = null;
  /** @internal false when the seed is the derived default (not sent to the server) */
  seedGiven = true;

  /** @internal use {@link sweep} */
  constructor(
    public project: string,
    public name: string,
    public space: Space,
    public objective: string | null,
    public goal: Goal | null,
    public seed: number,
    public budget: number | null,
    readonly earlyStop: Record<string, unknown> | null,
    readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly quiet: boolean,
  ) {}

  /** One request, retried with backoff while the server is away or busy (5xx, 408, 429) until `deadline`. */
  private async call(method: string, path: string, body: unknown, deadline: number): Promise<Answer> {
    let delay = 100;
    for (;;) {
      const left = deadline - Date.now();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), Math.max(200, Math.min(10_000, left)));
      let why: string;
      try {
        const res = await fetch(this.baseUrl + path, {
          method,
          headers: authHeaders(),
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: controller.signal,
        });
        const text = await res.text();
        let parsed: Record<string, unknown> | null = null;
        try {
          const j = JSON.parse(text);
          parsed = isPlainObject(j) ? j : null;
        } catch {
          parsed = null;
        }
        if (res.status < 500 && res.status !== 408 && res.status !== 429) return { status: res.status, body: parsed, error: "" };
        why = errorText(res.status, parsed);
      } catch (err) {
        why = describeError(err);
      } finally {
        clearTimeout(timer);
      }
      if (Date.now() + delay > deadline) return { status: 0, body: null, error: why };
      await new Promise((r) => setTimeout(r, delay * (0.75 + Math.random() * 0.5)));
      delay = Math.min(2000, delay * 2);
    }
  }

  /** @internal */
  adopt(view: unknown): void {
    if (!isPlainObject(view)) return;
    if (typeof view.id === "string") {
      this.id = view.id;
      this.url = this.baseUrl + (typeof view.url === "string" && view.url.startsWith("/") ? view.url : `/sweeps/${encodeURIComponent(view.id)}`);
    }
    if (typeof view.name === "string" && view.name) this.name = view.name;
    if (typeof view.project === "string" && view.project) this.project = view.project;
    if (isPlainObject(view.space) && Object.keys(view.space).length) this.space = Object.assign(Object.create(null), view.space);
    const obj = view.objective;
    if (isPlainObject(obj) && typeof obj.metric === "string" && (obj.goal === "max" || obj.goal === "min")) {
      this.objective = obj.metric;
      this.goal = obj.goal;
    }
    if (Number.isInteger(view.seed)) this.seed = view.seed as number;
    if (Number.isInteger(view.stage)) this.stage = view.stage as number;
    if (view.budget === null || Number.isInteger(view.budget)) this.budget = view.budget as number | null;
    if (view.parentId === null || typeof view.parentId === "string") this.parentId = view.parentId as string | null;
  }

  /** @internal */
  async create(parent?: string): Promise<void> {
    const body: Record<string, unknown> = { project: this.project, name: this.name, space: this.space };
    // else the server picks one (and every later worker gets the stored one): a derived seed sent by
    // a script would contradict the seed of a sweep that runs made on the fly
    if (this.seedGiven) body.seed = this.seed;
    if (this.objective !== null) body.objective = { metric: this.objective, goal: this.goal };
    if (this.budget !== null) body.budget = this.budget;
    if (this.earlyStop !== null) body.earlyStop = this.earlyStop;
    if (parent !== undefined) body.parent = parent;
    const res = await this.call("POST", "/api/v1/sweeps", body, Date.now() + this.timeoutMs);
    if (res.status === 0) return this.goOffline(`the server at ${this.baseUrl} could not be reached (${res.error})`);
    if (res.status === 401)
      return this.goOffline(
        `the server refused the API key (${errorText(res.status, res.body)}); its runs are spooled until BABYSIT_API_KEY holds a valid key`,
      );
    if ((res.status === 200 || res.status === 201) && isPlainObject(res.body?.sweep)) {
      this.adopt(res.body.sweep);
      if (!this.quiet) say(`babysit: sweep ${this.project} / ${this.name} (stage ${this.stage}) -> ${this.url}`);
      return;
    }
    if (res.status === 404 && !isPlainObject(res.body?.error))
      return this.goOffline(`the server at ${this.baseUrl} has no sweeps API (an older babysit?)`);
    throw new SweepError(`sweep("${this.name}"): the server refused it: ${errorText(res.status, res.body)}`, errorCode(res.body), res.status);
  }

  private goOffline(why: string): void {
    this.offline = true;
    this.warner.warn(
      "offline",
      `sweep ${this.name}: ${why}; sampling its trials here from seed ${this.seed} (trial 0, 1, 2, ...); the runs are spooled and join the sweep once they reach the server`,
    );
  }

  private localTrial(): Trial | null {
    const index = this.nextLocal;
    if (this.budget !== null && index >= this.budget) return null;
    this.nextLocal++;
    return new Trial(this, index, sample(this.space, this.seed, index), true);
  }

  private async claim(): Promise<Trial | null> {
    if (this.offline || this.id === null) return this.localTrial();
    const res = await this.call("POST", `/api/v1/sweeps/${encodeURIComponent(this.id)}/trials`, {}, Date.now() + this.timeoutMs);
    if (res.status === 0 || res.status === 401) {
      this.goOffline(`the server stopped answering (${res.status === 0 ? res.error : errorText(res.status, res.body)})`);
      return this.localTrial();
    }
    const t = res.body?.trial;
    if (res.status === 201 && isPlainObject(t) && Number.isSafeInteger(t.index) && isPlainObject(t.config)) {
      const index = t.index as number;
      this.nextLocal = Math.max(this.nextLocal, index + 1);
      return new Trial(this, index, Object.assign(Object.create(null), t.config) as Record<string, Scalar>, false);
    }
    if (res.status === 409 && errorCode(res.body) === "sweep_complete") return null;
    // Neither a trial nor "complete" (the sweep was deleted, a key that may not write...): stop
    // rather than train trials nobody will see.
    this.warner.warn(
      `claim:${res.status}`,
      `sweep ${this.name}: the server gave no trial (${errorText(res.status, res.body)}); no more trials from this process`,
    );
    return null;
  }

  /**
   * Yields up to `n` trials, one at a time, each claimed from the server when the previous one is
   * done (a run the loop body left unfinished is finished first). Stops early when the sweep's budget
   * is used up over all workers (the server answers 409 `sweep_complete`). With the server away,
   * samples locally.
   *
   * @param n - trials for this process to run (default: until the sweep's budget is used up)
   * @throws RangeError when neither `n` nor the sweep's budget is given, or `n` is not an integer >= 0
   * @example
   * for await (const trial of sweep.trials(5)) {
   *   const run = await trial.init();
   *   run.log({ "val/acc": train(trial.config) });
   *   await run.finish();
   * }
   */
  trials(n?: number): AsyncGenerator<Trial, void, undefined> {
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) throw new RangeError(`trials(n): n must be an integer >= 0, got ${show(n)}`);
    if (n === undefined && this.budget === null)
      throw new RangeError("trials(): give the number of trials, trials(n), or create the sweep with a budget");
    return this.iterate(n);
  }

  // A run left unfinished is finished when the next trial is claimed, not when the loop is left:
  // a loop left by an exception must not mark its run "finished" (the exit handler says "crashed").
  private async *iterate(n: number | undefined): AsyncGenerator<Trial, void, undefined> {
    for (let count = 0; n === undefined || count < n; count++) {
      await this.endCurrent();
      const trial = await this.claim();
      if (trial === null) return;
      this.current = trial;
      yield trial;
    }
    await this.endCurrent();
  }

  private async endCurrent(): Promise<void> {
    const run = this.current?.run;
    this.current = null;
    if (run) await run.finish().catch(() => undefined); // a second finish() returns the first one's result
  }

  /**
   * Creates the next stage (coarse to fine): a child sweep whose ranges are narrowed around the `top`
   * best trials (in log space for log_uniform), widened past an edge where the best sit on it.
   *
   * @param options - `top` (default 3), `name` (default `"<name>-s<stage>"`), `budget` (default none)
   * @returns the child Sweep, or null (with a warning) when there is none to make yet: fewer than 2
   *   trials have an objective (409 `too_few_trials`), or the server cannot be reached
   * @example
   * const fine = await sweep.refine({ top: 3 });
   * if (fine) for await (const trial of fine.trials(10)) { ... }
   */
  async refine(options: { top?: number; name?: string; budget?: number } = {}): Promise<Sweep | null> {
    const o = isPlainObject(options) ? options : {};
    const top = o.top ?? 3;
    if (!Number.isSafeInteger(top) || (top as number) < 1) throw new RangeError(`refine({ top }): an integer >= 1, got ${show(top)}`);
    if (o.budget !== undefined && (!Number.isSafeInteger(o.budget) || (o.budget as number) < 1)) {
      throw new RangeError(`refine({ budget }): an integer >= 1, got ${show(o.budget)}`);
    }
    const name = o.name === undefined ? undefined : checkName(o.name);
    await this.endCurrent();
    if (this.id === null) {
      this.warner.warn("refine-offline", `sweep ${this.name}: refine() needs the server, which could not be reached; nothing refined`);
      return null;
    }
    const body: Record<string, unknown> = { top };
    if (name !== undefined) body.name = name;
    if (o.budget !== undefined) body.budget = o.budget;
    const res = await this.call("POST", `/api/v1/sweeps/${encodeURIComponent(this.id)}/refine`, body, Date.now() + this.timeoutMs);
    if (res.status === 0) {
      this.warner.warn("refine", `sweep ${this.name}: refine() could not reach the server (${res.error}); nothing refined`);
      return null;
    }
    if ((res.status === 200 || res.status === 201) && isPlainObject(res.body?.sweep)) {
      const child = new Sweep(
        this.project,
        this.name,
        this.space,
        this.objective,
        this.goal,
        this.seed,
        (o.budget as number | undefined) ?? null,
        this.earlyStop,
        this.baseUrl,
        this.timeoutMs,
        this.quiet,
      );
      child.adopt(res.body.sweep);
      if (!this.quiet) say(`babysit: sweep ${child.project} / ${child.name} (stage ${child.stage}, refined from ${this.name}) -> ${child.url}`);
      return child;
    }
    if (res.status === 400)
      throw new SweepError(`refine(): the server refused it: ${errorText(res.status, res.body)}`, errorCode(res.body), res.status);
    this.warner.warn(`refine:${res.status}`, `sweep ${this.name}: nothing refined (${errorText(res.status, res.body)})`);
    return null;
  }

  /**
   * The server's view of the sweep (GET /api/v1/sweeps/{id}: space, objective, every trial with its
   * params, status, objective value and alerts, the best trials, the suggested next space), or null
   * when the server cannot be reached. Never throws.
   *
   * @example
   * const view = await sweep.get();
   * console.log(view?.trials);
   */
  async get(): Promise<Record<string, unknown> | null> {
    if (this.id === null) return null;
    const res = await this.call("GET", `/api/v1/sweeps/${encodeURIComponent(this.id)}`, undefined, Date.now() + this.timeoutMs);
    if (res.status === 200 && isPlainObject(res.body?.sweep)) return res.body.sweep;
    return null;
  }
}

function checkName(name: unknown): string {
  const trimmed = typeof name === "string" ? name.trim() : name;
  const problem = nameProblem(trimmed, SWEEP_NAME_MAX_LENGTH, "the sweep name");
  if (problem) throw new RangeError(`${problem}, got ${show(name)}`);
  return trimmed as string;
}

function goalFor(metric: string): Goal {
  const low = metric.toLowerCase();
  return ["loss", "err", "perplexity", "mse", "mae"].some((w) => low.includes(w)) ? "min" : "max";
}

function earlyStopOption(opts: unknown): Record<string, unknown> | null {
  if (opts === undefined || opts === null) return null;
  if (opts === false) return { rule: "none" };
  if (!isPlainObject(opts)) throw new TypeError("earlyStop must be an object like { rule: 'median', minTrials: 4, warmupSteps: 0 }, or false");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(opts)) {
    if (k !== "rule" && k !== "minTrials" && k !== "warmupSteps")
      throw new RangeError(`earlyStop takes rule, minTrials and warmupSteps, got ${show(k)}`);
    const least = k === "minTrials" ? 1 : 0;
    if (k !== "rule" && (!Number.isSafeInteger(v) || (v as number) < least))
      throw new RangeError(`earlyStop ${k} must be an integer >= ${least}, got ${show(v)}`);
    out[k] = v;
  }
  out.rule ??= "median";
  if (out.rule !== "median" && out.rule !== "none") throw new RangeError(`earlyStop rule must be "median" or "none", got ${show(out.rule)}`);
  return out;
}

/**
 * Creates a sweep (or joins it: every worker calls this with the same options) and returns it.
 * POST /api/v1/sweeps; the same (project, name) again is the same sweep when space, objective and
 * budget agree. The API key, like init()'s, comes from `BABYSIT_API_KEY`.
 *
 * When the server cannot be reached it resolves anyway, sampling locally (`sweep.offline`), with a
 * warning: training goes on and its runs join the sweep when they sync.
 *
 * @param options - see {@link SweepOptions}; `project`, `name` and `space` are required
 * @throws TypeError / RangeError for a bad option (space, name, goal, seed, budget), and
 *   {@link SweepError} when the server refuses the sweep, e.g. 409 `sweep_conflict`: that name exists
 *   with another space, objective or budget
 * @example
 * import { sweep, logUniform, choice } from "babysit";
 *
 * const s = await sweep({ project: "digits", name: "coarse", objective: "val/acc", goal: "max", budget: 20,
 *   space: { lr: logUniform(1e-4, 1), hidden: choice([32, 64]), epochs: 3 } });
 * for await (const trial of s.trials()) { ... }
 */
export async function sweep(options: SweepOptions): Promise<Sweep> {
  if (!isPlainObject(options)) throw new TypeError("sweep() takes an options object, e.g. sweep({ project, name, space })");
  const o = options as SweepOptions;
  const projectIn = typeof o.project === "string" ? o.project.trim() : o.project;
  const problem = nameProblem(projectIn, LIMITS.projectMaxLength, "the project name");
  if (problem) throw new RangeError(`${problem}, got ${show(o.project)}`);
  const project = projectIn as string;
  const name = checkName(o.name);
  const space = validateSpace(o.space);
  if (o.objective !== undefined) {
    const p = nameProblem(o.objective, LIMITS.keyMaxLength, "the objective metric key");
    if (p) throw new RangeError(`${p}, got ${show(o.objective)}`);
  }
  if (o.goal !== undefined && o.goal !== "max" && o.goal !== "min") throw new RangeError(`goal must be "max" or "min", got ${show(o.goal)}`);
  if (o.goal !== undefined && o.objective === undefined)
    throw new RangeError(`goal "${o.goal}" needs the objective metric it applies to, e.g. objective: "val/acc"`);
  const goal = o.objective === undefined ? null : (o.goal ?? goalFor(o.objective));
  const seed = o.seed === undefined ? defaultSeed(project, name) : checkSeed(o.seed);
  if (o.budget !== undefined && (!Number.isSafeInteger(o.budget) || o.budget < 1)) {
    throw new RangeError(`budget must be an integer >= 1 (trials over all workers), got ${show(o.budget)}`);
  }
  const earlyStop = earlyStopOption(o.earlyStop);
  const parent = parentId(o.parent);
  if (o.timeoutMs !== undefined && !(typeof o.timeoutMs === "number" && o.timeoutMs >= 0))
    throw new RangeError(`timeoutMs must be a number >= 0, got ${show(o.timeoutMs)}`);
  const raw = o.url ?? process.env.BABYSIT_URL ?? DEFAULT_URL;
  let baseUrl: string;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    baseUrl = raw.replace(/\/+$/, "");
  } catch {
    throw new RangeError(`babysit url must look like http://host:port, got ${show(raw)}`);
  }
  const quiet = typeof o.quiet === "boolean" ? o.quiet : ["1", "true", "yes"].includes((process.env.BABYSIT_QUIET ?? "").toLowerCase());
  const s = new Sweep(project, name, space, o.objective ?? null, goal, seed, o.budget ?? null, earlyStop, baseUrl, o.timeoutMs ?? 5000, quiet);
  s.seedGiven = o.seed !== undefined;
  await s.create(parent);
  return s;
}

function parentId(parent: unknown): string | undefined {
  if (parent === undefined || parent === null) return undefined;
  if (parent instanceof Sweep) {
    if (parent.id === null) throw new RangeError(`parent ${parent.name} has no id: it was made while the server could not be reached`);
    return parent.id;
  }
  if (typeof parent === "string" && parent.trim() !== "") return parent.trim();
  throw new TypeError(`parent must be a sweep id (a non-empty string) or a Sweep, got ${show(parent)}`);
}

function errorCode(body: Record<string, unknown> | null | undefined): string {
  const e = body?.error;
  return isPlainObject(e) && typeof e.code === "string" ? e.code : "error";
}

function errorText(status: number, body: Record<string, unknown> | null | undefined): string {
  const e = body?.error;
  if (isPlainObject(e)) return `${status} ${typeof e.code === "string" ? e.code : "?"}: ${typeof e.message === "string" ? e.message : ""}`;
  return `HTTP ${status}`;
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 50)}…` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : typeof v;
}
