// The babysitter of a hyperparameter search: reads the trials of a sweep together (their configs,
// objective values, failures and own alerts) and says what the search itself does wrong — the best
// value on the edge of a range, a parameter that does not matter, a range so wide most trials fail —
// and what to search next. Pure functions: no I/O, deterministic (the permutation test is seeded).

import { LIMITS, nameProblem } from "@/lib/contract/limits";
import { RESERVED_PARAM_NAMES } from "./sampler";
import type { Distribution, EarlyStop, Goal, Objective, ParamImportance, Scalar, Space, SweepAlert, TrialSummary } from "./types";

// ------------------------------------------------------------------------------ thresholds

/** Fewer finished trials with an objective than this and the rules stay silent (too few to judge). */
export const MIN_TRIALS = 5;
/** The "best" trials: the top few, not one lucky trial, define the region refine narrows around. */
export const DEFAULT_TOP = 3;
/** A best value within this fraction of the range (in scale units) of an edge sits "on" it. */
export const EDGE_BAND = 0.1;
/** ...and within this fraction the objective may still be "improving towards" the edge. */
export const EDGE_ZONE = 0.25;
/** Rank correlation x sqrt(n-1) (a z score) needed with the best on the edge: one-sided 95%. With
 *  the top trials' agreement below, a flat parameter raises it in 2-5% of sweeps (measured over 200
 *  seeded sweeps of 8-40 trials) and a best past the edge is found in 85% at 8 trials, 100% at 20. */
export const BOUNDARY_Z = 1.645;
/** ...and with the best only near the edge (the objective still rising towards it): one-sided 99%. */
export const TREND_Z = 2.326;
/** Refine keeps this much room around the top trials (fraction of their spread, each side). */
export const NARROW_MARGIN = 0.5;
/** ...and never narrows a range below this fraction of its old width (one trial is not a region). */
export const MIN_WIDTH_FRACTION = 0.2;
/** Past an edge where the best sit, refine moves the range past it by at most this fraction of its old width
 *  (the new range is centred on the edge: as far past it as the top trials reach inside). */
export const WIDEN_FRACTION = 0.5;
/** ...and by at least this fraction: top trials crowded on the edge still move the next stage a step past it. */
export const WIDEN_MIN_FRACTION = 0.25;
/** An inferred numeric parameter is log-scale when all its values are > 0 and span this ratio (2 decades). */
export const LOG_SCALE_RATIO = 100;
/** A parameter is "flat" only with at least this many trials: fewer cannot tell a weak effect from none. */
export const FLAT_MIN_TRIALS = 12;
/** ...an importance below this (|rank correlation| or tercile correlation ratio)... */
export const FLAT_MAX_IMPORTANCE = 0.3;
/** ...and a shuffled objective matching it at least this often (permutation p-value: no evidence of an effect). */
export const FLAT_MIN_P = 0.2;
/** Permutations of the flat test (deterministic PRNG). */
export const PERMUTATIONS = 199;
/** "Most trials fail": this share of the judged trials diverged, crashed without an objective or learned nothing. */
export const WIDE_BAD_FRACTION = 0.5;
/** A parameter "separates" failed from working trials when one interval of it classifies this share right. */
export const SEPARATION_MIN = 0.85;
/** A trial alert code explains the bad results of the search when this share of the judged trials share it (and 2+). */
export const FAILING_FRACTION = 0.25;
/** Training "breaks past the edge" when this share of the trials beyond the best value diverged. */
export const BEYOND_DIVERGED_SHARE = 0.5;
/** Early stopping: a minimizing objective this many times its first value has exploded (diverged). */
export const EXPLODE_FACTOR = 10;

export const SWEEP_ALERT_CODES = [
  "search_trials_failing",
  "search_range_too_wide",
  "search_boundary",
  "search_flat_parameter",
  "search_too_few_trials",
] as const;

export const DEFAULT_EARLY_STOP: EarlyStop = { rule: "median", minTrials: 4, warmupSteps: 0 };

/** Trial alert codes that mean "learned nothing" (as opposed to a bad but real result). */
const NO_LEARNING_CODES = new Set(["no_learning"]);

/** The trial alert codes that explain a bad result, and what each says about the search (search_trials_failing). */
const ADVICE: ReadonlyMap<string, string> = new Map([
  ["divergence", "the range reaches values (usually the learning rate) too high to train: lower its upper end"],
  ["lr_too_high", "the learning-rate range is too high: lower it"],
  ["exploding_gradients", "lower the learning-rate range or clip gradients"],
  ["lr_too_low", "the learning-rate range is too low: raise it"],
  ["no_learning", "these trials learned nothing: check their learning rate and the data before searching further"],
  ["loss_plateau", "these trials stalled: a learning rate too low or too high, or a schedule that decays too early"],
  ["dead_relu", "a model or initialization problem, not a range: fix it before searching further"],
  ["vanishing_gradients", "a model or initialization problem, not a range: fix it before searching further"],
  ["symmetric_init", "a model or initialization problem, not a range: fix it before searching further"],
  ["bad_initial_loss", "a model or initialization problem, not a range: fix it before searching further"],
  ["overfitting", "more regularization (weight decay, dropout) in the range, or more data"],
  ["underfitting", "more capacity or a longer schedule in the range"],
]);

// ------------------------------------------------------------------------------ small statistics

// reduce, not Math.max(...xs): a spread of a long array overflows the stack
const maxOf = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
const minOf = (xs: number[]) => xs.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Ranks 1..n, ties sharing their average rank. */
function ranks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) r[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

function pearson(a: number[], b: number[]): number | null {
  const n = a.length;
  if (n < 3) return null;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

/** Spearman rank correlation, null with fewer than 3 points or a constant side. */
export function spearman(a: number[], b: number[]): number | null {
  return pearson(ranks(a), ranks(b));
}

/** Correlation ratio of y over groups (ids 0..k-1), adjusted for the number of groups (epsilon-squared, then its root). */
function groupEffect(groups: number[], y: number[]): number | null {
  const n = y.length;
  let k = 0;
  for (const g of groups) k = Math.max(k, g + 1);
  const sums = new Float64Array(k);
  const counts = new Float64Array(k);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    sums[groups[i]] += y[i];
    counts[groups[i]]++;
    mean += y[i];
  }
  mean /= n;
  let used = 0;
  for (let g = 0; g < k; g++) if (counts[g] > 0) used++;
  if (n < 3 || used < 2) return null;
  let total = 0;
  for (let i = 0; i < n; i++) total += (y[i] - mean) ** 2;
  if (total === 0) return null;
  let between = 0;
  for (let g = 0; g < k; g++) if (counts[g] > 0) between += counts[g] * (sums[g] / counts[g] - mean) ** 2;
  const eps = (between - (used - 1) * ((total - between) / Math.max(1, n - used))) / total;
  return Math.sqrt(Math.max(0, eps));
}

/** Terciles of x by rank: 0, 1, 2. */
function terciles(x: number[]): number[] {
  const r = ranks(x);
  return r.map((v) => Math.min(2, Math.floor(((v - 1) * 3) / x.length)));
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(y: number[], rand: () => number): number[] {
  const a = [...y];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** 3 significant digits, for ranges a person copies. */
const sig = (x: number) => Number(x.toPrecision(3));
const fmt = (x: number) => String(sig(x));
/** 3 significant digits, rounded outward: a range a person copies still holds what it must. */
function sigOut(x: number, dir: "down" | "up"): number {
  const r = sig(x);
  // exp(log(x)) drifts by an ulp or so: 1.0000000000000002 is 1, not a reason to round up to 1.01
  if (x === 0 || (dir === "down" ? r <= x : r >= x) || Math.abs(r - x) <= Math.abs(x) * 1e-12) return r;
  const step = 10 ** (Math.floor(Math.log10(Math.abs(x))) - 2);
  return sig(dir === "down" ? r - step : r + step);
}

// ------------------------------------------------------------------------------ axes

interface NumericAxis {
  kind: "numeric";
  name: string;
  spec: Extract<Distribution, { low: number }>;
  low: number;
  high: number;
  log: boolean;
  int: boolean;
}
interface ChoiceAxis {
  kind: "choice";
  name: string;
  values: Scalar[];
}
type Axis = NumericAxis | ChoiceAxis;

const f = (ax: NumericAxis, v: number) => (ax.log ? Math.log(v) : v);
const fInv = (ax: NumericAxis, u: number) => (ax.log ? Math.exp(u) : u);
/** Position of v in the axis range in scale units: 0 at low, 1 at high. */
const pos = (ax: NumericAxis, v: number) => (f(ax, v) - f(ax, ax.low)) / (f(ax, ax.high) - f(ax, ax.low));

function axesOf(space: Space): Axis[] {
  const out: Axis[] = [];
  for (const name of Object.keys(space)) {
    const spec = space[name];
    if (spec === null || typeof spec !== "object") continue;
    if (spec.distribution === "choice") {
      out.push({ kind: "choice", name, values: spec.values });
      continue;
    }
    const int = spec.distribution === "int_uniform";
    const log = spec.distribution === "log_uniform" || (int && spec.low > 0 && spec.high / spec.low >= LOG_SCALE_RATIO);
    out.push({ kind: "numeric", name, spec, low: spec.low, high: spec.high, log, int });
  }
  return out;
}

function paramOf(t: TrialSummary, name: string): Scalar | undefined {
  return Object.hasOwn(t.params, name) ? t.params[name] : undefined;
}

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The space a sweep searched when none was declared: every config value that varies across its
 * trials. Numbers -> uniform / int_uniform over the values seen, log_uniform when all are > 0 and
 * span 2 decades; strings and booleans -> choice (unless every trial has its own, like a path).
 */
export function inferSpace(trials: TrialSummary[]): Space {
  const seen = new Map<string, Scalar[]>();
  for (const t of trials) {
    for (const name of Object.keys(t.params)) {
      const list = seen.get(name) ?? [];
      list.push(t.params[name]);
      seen.set(name, list);
    }
  }
  const space: Space = Object.create(null);
  let count = 0;
  for (const [name, values] of seen) {
    if (count >= LIMITS.sweepParamsMax.value) break;
    if (RESERVED_PARAM_NAMES.includes(name) || nameProblem(name, LIMITS.sweepParamNameMaxLength, "name")) continue;
    if (values.every(isNum)) {
      const lo = minOf(values);
      const hi = maxOf(values);
      if (!(hi > lo)) continue;
      if (values.every(Number.isSafeInteger)) {
        space[name] = { distribution: "int_uniform", low: lo, high: hi };
      } else if (lo > 0 && hi / lo >= LOG_SCALE_RATIO && lo >= LIMITS.sweepLogUniformMin.value && hi <= LIMITS.sweepLogUniformMax.value) {
        space[name] = { distribution: "log_uniform", low: lo, high: hi };
      } else if (Number.isFinite(hi - lo)) {
        space[name] = { distribution: "uniform", low: lo, high: hi };
      } else continue;
      count++;
      continue;
    }
    if (!values.every((v) => typeof v === "string" || typeof v === "boolean")) continue;
    const distinct = [...new Set(values)];
    const identifierLike = distinct.length === values.length && values.length >= 4;
    if (distinct.length < 2 || identifierLike || distinct.length > LIMITS.sweepChoiceValuesMax.value) continue;
    space[name] = { distribution: "choice", values: distinct };
    count++;
  }
  return space;
}

// ------------------------------------------------------------------------------ trials

const goodness = (goal: Goal, v: number) => (goal === "max" ? v : -v);

/** Finished (or stopped) trials with a finite objective, not failed: the ones that say how good a value is. */
function scoredTrials(trials: TrialSummary[], goal: Goal, withRunning = false): TrialSummary[] {
  return trials
    .filter((t) => !t.failed && (withRunning || t.status !== "running") && isNum(t.objective))
    .sort((a, b) => goodness(goal, b.objective as number) - goodness(goal, a.objective as number));
}

/** Trials whose outcome is known: finished, or failed already while running. */
const judged = (trials: TrialSummary[]) => trials.filter((t) => t.failed || t.status !== "running");

const diverged = (t: TrialSummary) => t.failed && (t.failure === "diverged" || t.alerts.includes("divergence"));

const isBad = (t: TrialSummary) => t.failed || t.alerts.some((c) => NO_LEARNING_CODES.has(c));

// ------------------------------------------------------------------------------ refine

interface RefinedNumeric {
  spec: Distribution;
  /** the edge widened past, or the edge the best sit on that a natural bound (0, 1) keeps from widening */
  widened: "low" | "high" | null;
  blocked: "low" | "high" | null;
}

/**
 * True when training breaks past the best value towards an edge: of the finished trials beyond it,
 * at least BEYOND_DIVERGED_SHARE diverged. Where trials diverge on the near side too (at random, not
 * by region), one diverged trial beyond proves nothing: it takes 2 and twice the near side's share.
 */
function divergesBeyond(ax: NumericAxis, best: number, side: "low" | "high", trials: TrialSummary[]): boolean {
  let n = 0;
  let bad = 0;
  let nNear = 0;
  let badNear = 0;
  for (const x of judged(trials)) {
    const v = paramOf(x, ax.name);
    if (!isNum(v)) continue;
    if (side === "high" ? v > best : v < best) {
      n++;
      if (diverged(x)) bad++;
    } else {
      nNear++;
      if (diverged(x)) badNear++;
    }
  }
  if (bad === 0 || bad < BEYOND_DIVERGED_SHARE * n) return false;
  return badNear === 0 || (bad >= 2 && bad / n >= (2 * badNear) / nNear);
}

/** Which edge the best trial sits on (within EDGE_BAND), unless training diverges beyond it. */
function bestEdge(ax: NumericAxis, best: number, trials: TrialSummary[]): "low" | "high" | null {
  const t = pos(ax, best);
  if (t >= 1 - EDGE_BAND && !divergesBeyond(ax, best, "high", trials)) return "high";
  if (t <= EDGE_BAND && !divergesBeyond(ax, best, "low", trials)) return "low";
  return null;
}

function refineNumeric(ax: NumericAxis, top: number[], edge: "low" | "high" | null): RefinedNumeric {
  const lo0 = f(ax, ax.low);
  const hi0 = f(ax, ax.high);
  const w = hi0 - lo0;
  const fs = top.map((v) => f(ax, v));
  const kLo = minOf(fs);
  const kHi = maxOf(fs);
  const margin = Math.max((kHi - kLo) * NARROW_MARGIN, (w * MIN_WIDTH_FRACTION) / 2);
  let lo = Math.max(lo0, kLo - margin);
  let hi = Math.min(hi0, kHi + margin);
  // On an edge the best sit on, the better region probably lies past it: the next range is centred
  // on that edge, reaching as far past it as the top trials (with their margin) reach inside, at least
  // WIDEN_MIN_FRACTION and at most WIDEN_FRACTION of the old width each side: never wider than the old
  // range, moved, not grown.
  if (edge === "high") {
    const reach = Math.min(Math.max(hi0 - (kLo - margin), w * WIDEN_MIN_FRACTION), w * WIDEN_FRACTION);
    lo = Math.max(lo0, hi0 - reach);
    hi = Math.max(hi0, kHi) + reach;
  }
  if (edge === "low") {
    const reach = Math.min(Math.max(kHi + margin - lo0, w * WIDEN_MIN_FRACTION), w * WIDEN_FRACTION);
    hi = Math.min(hi0, lo0 + reach);
    lo = Math.min(lo0, kLo) - reach;
  }
  // a bound kept as it was stays exact: exp(log(0.01)) is 0.010000000000000002, which rounding
  // outward would turn into 0.0101, a range a little past the one searched for no reason
  let low = lo === lo0 ? ax.low : fInv(ax, lo);
  let high = hi === hi0 ? ax.high : fInv(ax, hi);
  // natural bounds widening never crosses: 0 for non-negative ranges (a rate, a dropout), 1 for
  // ranges within [0, 1] (a probability, a momentum); 1 for integer counts from 1 (layers, units)
  if (!ax.log) {
    if (ax.low >= 0) low = Math.max(low, ax.int && ax.low >= 1 ? 1 : 0);
    if (ax.low >= 0 && ax.high <= 1) high = Math.min(high, 1);
  } else {
    low = Math.max(low, LIMITS.sweepLogUniformMin.value);
    high = Math.min(high, LIMITS.sweepLogUniformMax.value);
  }
  if (ax.int) {
    low = Math.floor(low);
    high = Math.ceil(high);
    if (high <= low) high = low + 1;
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || !Number.isSafeInteger(high - low + 1)) {
      low = ax.low;
      high = ax.high;
    }
  } else {
    const l = sigOut(low, "down");
    const h = sigOut(high, "up");
    if (h > l && (!ax.log || l > 0)) {
      low = l;
      high = h;
    }
  }
  // a range too narrow for doubles (or overflowing) stays as it was: still a valid space
  if (!(high > low) || !Number.isFinite(high - low) || (ax.log && !(low > 0))) {
    low = ax.low;
    high = ax.high;
  }
  const widened = edge === "high" && high > ax.high ? "high" : edge === "low" && low < ax.low ? "low" : null;
  const spec: Distribution = { distribution: ax.spec.distribution, low, high };
  return { spec, widened, blocked: edge && !widened ? edge : null };
}

function refineChoice(ax: ChoiceAxis, top: TrialSummary[]): Distribution {
  const used = ax.values.filter((v) => top.some((t) => paramOf(t, ax.name) === v));
  return { distribution: "choice", values: used.length > 0 ? used : [...ax.values] };
}

/**
 * The trials best first, equal objectives (a tie: accuracy on a small validation set often is)
 * ordered by how near their value of this parameter lies to the best trial's, in scale units: a tie
 * says nothing about which value is better, so the top trials are the ones that form a region with the
 * best, not whichever of the tied trials happened to start first.
 */
function tiesNearBest(ax: Axis, sorted: TrialSummary[], goal: Goal): TrialSummary[] {
  if (ax.kind !== "numeric" || sorted.length < 2) return sorted;
  const best = paramOf(sorted[0], ax.name);
  if (!isNum(best) || (ax.log && best <= 0)) return sorted;
  const fb = f(ax, best);
  const dist = (t: TrialSummary) => {
    const v = paramOf(t, ax.name);
    return isNum(v) && (!ax.log || v > 0) ? Math.abs(f(ax, v) - fb) : Number.POSITIVE_INFINITY;
  };
  return sorted
    .map((t, i) => ({ t, i, d: dist(t) }))
    .sort((a, b) => goodness(goal, b.t.objective as number) - goodness(goal, a.t.objective as number) || a.d - b.d || a.i - b.i)
    .map((x) => x.t);
}

/**
 * The next stage's space: each numeric range narrowed around the `top` best trials (in log space
 * for log-scale parameters), widened past an edge instead where the best trial sits on it (and no
 * diverged trial lies beyond); choice parameters keep the values the top trials used; fixed values
 * stay. Trials count when they did not fail and have an objective, running ones with their best so
 * far (the API refuses a refine with fewer than 2). Always a valid space (validateSpace accepts it);
 * the space itself when no trial has a score.
 */
export function refineSpace(space: Space, trials: TrialSummary[], goal: Goal, top: number): Space {
  // a stage may be refined before all its trials end: a running trial's best so far counts here
  const scored = scoredTrials(trials, goal, true);
  const out: Space = Object.create(null);
  const k = Math.max(1, Math.floor(top));
  for (const name of Object.keys(space)) out[name] = space[name];
  if (scored.length === 0) return out;
  // a pruned trial (stopped early by should-stop) was not trained to the end: its best so far does
  // not pick the region to narrow around unless no trial ran to its end
  const full = scored.filter((t) => !t.pruned);
  const pool = full.length > 0 ? full : scored;
  for (const ax of axesOf(space)) {
    const withValue = pool.filter((t) => (ax.kind === "numeric" ? isNum(paramOf(t, ax.name)) : paramOf(t, ax.name) !== undefined));
    const topK = tiesNearBest(ax, withValue, goal).slice(0, k);
    if (topK.length === 0) continue;
    if (ax.kind === "choice") {
      out[ax.name] = refineChoice(ax, topK);
      continue;
    }
    const values = topK.map((t) => paramOf(t, ax.name) as number).filter((v) => !ax.log || v > 0);
    if (values.length === 0) continue;
    // the edge the search_boundary alert names, so that its "search lr in [...] next" and the
    // suggested range (and Refine) agree; else the best trial's own edge
    const edge = boundaryEdge(ax, scored, trials, goal)?.edge ?? bestEdge(ax, values[0], trials);
    out[ax.name] = refineNumeric(ax, values, edge).spec;
  }
  return out;
}

// ------------------------------------------------------------------------------ importance

interface ParamStats extends ParamImportance {
  axis: Axis;
  /** permutation p-value of the effect (numeric: max(|rho|, tercile effect); choice: group effect) */
  p: number | null;
  detail: Record<string, unknown>;
}

function fnv32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function paramStats(ax: Axis, scored: TrialSummary[]): ParamStats {
  const rows = scored.filter((t) => {
    const v = paramOf(t, ax.name);
    return ax.kind === "numeric" ? isNum(v) && (!ax.log || v > 0) : v !== undefined;
  });
  const y = rows.map((t) => t.objective as number);
  const n = rows.length;
  const base = { param: ax.name, axis: ax, n };
  if (ax.kind === "choice") {
    const byValue = new Map<string, number[]>();
    const key = (v: Scalar | undefined) => JSON.stringify(v);
    rows.forEach((t, i) => {
      const list = byValue.get(key(paramOf(t, ax.name))) ?? [];
      list.push(y[i]);
      byValue.set(key(paramOf(t, ax.name)), list);
    });
    const medians = [...byValue.entries()].map(([v, ys]) => ({ value: JSON.parse(v) as Scalar, median: median(ys), n: ys.length }));
    const range = n > 0 ? maxOf(y) - minOf(y) : 0;
    const importance = medians.length >= 2 && range > 0 ? (maxOf(medians.map((m) => m.median)) - minOf(medians.map((m) => m.median))) / range : null;
    const ids = new Map([...byValue.keys()].map((k, i) => [k, i]));
    const groupIds = rows.map((t) => ids.get(key(paramOf(t, ax.name))) as number);
    const stat = (ry: number[]) => groupEffect(groupIds, ry) ?? 0;
    const flatCandidate = n >= FLAT_MIN_TRIALS && importance !== null && importance < FLAT_MAX_IMPORTANCE;
    return { ...base, rho: null, importance, p: flatCandidate ? permutationP(stat, ranks(y), ax.name) : null, detail: { medians } };
  }
  const x = rows.map((t) => f(ax, paramOf(t, ax.name) as number));
  const rho = spearman(x, y);
  const groups = terciles(x);
  const rx = ranks(x);
  const stat = (ry: number[]) => Math.max(Math.abs(pearson(rx, ry) ?? 0), groupEffect(groups, ry) ?? 0);
  const effect = groupEffect(groups, ranks(y));
  const importance = rho === null && effect === null ? null : Math.max(Math.abs(rho ?? 0), effect ?? 0);
  // the permutation test only decides "flat": run it where that is still in question
  const flatCandidate = n >= FLAT_MIN_TRIALS && importance !== null && importance < FLAT_MAX_IMPORTANCE;
  const tercileMedians = [0, 1, 2].map((g) => {
    const ys = y.filter((_, i) => groups[i] === g);
    return ys.length ? median(ys) : null;
  });
  return { ...base, rho, importance, p: flatCandidate ? permutationP(stat, ranks(y), ax.name) : null, detail: { tercileMedians } };
}

/** Share of shuffles of the objective's ranks `y` whose statistic is at least the observed one. */
function permutationP(stat: (y: number[]) => number, y: number[], name: string): number | null {
  if (y.length < 3) return null;
  const observed = stat(y);
  const rand = mulberry32(fnv32(name) ^ y.length);
  let atLeast = 0;
  for (let i = 0; i < PERMUTATIONS; i++) if (stat(shuffled(y, rand)) >= observed - 1e-12) atLeast++;
  return (atLeast + 1) / (PERMUTATIONS + 1);
}

// ------------------------------------------------------------------------------ separation

interface Separation {
  param: string;
  accuracy: number;
  /** numeric: the interval of working values; choice: the working values */
  working: { low: number; high: number } | { values: Scalar[] };
  /** numeric: where the bad trials lie relative to the working interval (null for a choice) */
  badSide: "above" | "below" | "both" | null;
  n: number;
}

/** The interval of one parameter that best holds the working trials and none of the bad (max-subarray). */
function separate(ax: Axis, trials: TrialSummary[], bad: (t: TrialSummary) => boolean): Separation | null {
  const rows = trials.filter((t) => (ax.kind === "numeric" ? isNum(paramOf(t, ax.name)) : paramOf(t, ax.name) !== undefined));
  const n = rows.length;
  const nBad = rows.filter(bad).length;
  if (n < 4 || nBad === 0 || nBad === n) return null;
  if (ax.kind === "choice") {
    const tally = new Map<string, [number, number]>();
    for (const t of rows) {
      const k = JSON.stringify(paramOf(t, ax.name));
      const e = tally.get(k) ?? [0, 0];
      e[bad(t) ? 1 : 0]++;
      tally.set(k, e);
    }
    const good = [...tally.entries()].filter(([, [w, b]]) => w > b);
    if (good.length === 0 || good.length === tally.size) return null;
    const correct = [...tally.values()].reduce((s, [w, b]) => s + Math.max(w, b), 0);
    return { param: ax.name, accuracy: correct / n, working: { values: good.map(([k]) => JSON.parse(k) as Scalar) }, badSide: null, n };
  }
  const groups = new Map<number, number>();
  for (const t of rows) {
    const v = paramOf(t, ax.name) as number;
    groups.set(v, (groups.get(v) ?? 0) + (bad(t) ? -1 : 1));
  }
  const xs = [...groups.keys()].sort((a, b) => a - b);
  let best = Number.NEGATIVE_INFINITY;
  let bestFrom = 0;
  let bestTo = 0;
  let run = 0;
  let from = 0;
  xs.forEach((x, i) => {
    if (run <= 0) {
      run = 0;
      from = i;
    }
    run += groups.get(x) as number;
    if (run > best) {
      best = run;
      bestFrom = from;
      bestTo = i;
    }
  });
  const accuracy = (nBad + best) / n;
  const lowBad = bestFrom > 0;
  const highBad = bestTo < xs.length - 1;
  if (!lowBad && !highBad) return null; // the failures lie among the working values: no interval of this parameter
  return {
    param: ax.name,
    accuracy,
    working: { low: xs[bestFrom], high: xs[bestTo] },
    badSide: lowBad && highBad ? "both" : highBad ? "above" : "below",
    n,
  };
}

function bestSeparation(axes: Axis[], trials: TrialSummary[], bad: (t: TrialSummary) => boolean): Separation | null {
  let best: Separation | null = null;
  for (const ax of axes) {
    const s = separate(ax, trials, bad);
    if (s && (!best || s.accuracy > best.accuracy)) best = s;
  }
  return best;
}

function describeSeparation(s: Separation, what: string): string {
  if ("values" in s.working)
    return `Every working trial used ${s.param} in ${JSON.stringify(s.working.values)} (${pct(s.accuracy)} of ${s.n} trials sorted right)`;
  const { low, high } = s.working;
  const side =
    s.badSide === "above"
      ? `Trials with ${s.param} above ${fmt(high)} ${what}`
      : s.badSide === "below"
        ? `Trials with ${s.param} below ${fmt(low)} ${what}`
        : `Trials with ${s.param} outside [${fmt(low)}, ${fmt(high)}] ${what}`;
  return `${side}; the working ones had ${s.param} in [${fmt(low)}, ${fmt(high)}] (${pct(s.accuracy)} of ${s.n} trials sorted right)`;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const show = (v: Scalar) => (typeof v === "number" ? fmt(v) : JSON.stringify(v));

// ------------------------------------------------------------------------------ the alerts

export interface SweepAnalysis {
  /** the declared space, or the one inferred from the trials */
  space: Space;
  inferred: boolean;
  /** the top trials, best first (at most DEFAULT_TOP) */
  best: TrialSummary[];
  alerts: SweepAlert[];
  /** one per searched parameter (fixed ones left out), most important first */
  importance: ParamImportance[];
  /** the next stage's space (nextSpace over the top DEFAULT_TOP), null with fewer than 2 scored trials */
  suggestion: Space | null;
  /** the parameters search_flat_parameter names, each with the value the next stage fixes it at */
  flat: Array<{ param: string; value: Scalar }>;
}

/** The edge the best trials of a numeric parameter sit on or trend towards (the search_boundary rule), or null. */
function boundaryEdge(ax: NumericAxis, scored: TrialSummary[], trials: TrialSummary[], goal: Goal) {
  if (scored.length < MIN_TRIALS) return null;
  const rows = scored.filter((t) => isNum(paramOf(t, ax.name)) && (!ax.log || (paramOf(t, ax.name) as number) > 0));
  if (rows.length < MIN_TRIALS) return null;
  const xs = rows.map((t) => pos(ax, paramOf(t, ax.name) as number));
  const gs = rows.map((t) => goodness(goal, t.objective as number));
  const rho = spearman(xs, gs);
  if (rho === null) return null;
  const z = rho * Math.sqrt(rows.length - 1);
  const tBest = xs[0];
  const best = paramOf(rows[0], ax.name) as number;
  // the top trials agree: most of them sit in the half of the range next to the edge, not one lucky trial
  const topT = xs.slice(0, DEFAULT_TOP);
  const inZone = (side: "low" | "high") => topT.filter((t) => (side === "high" ? t >= 0.5 : t <= 0.5)).length * 2 > topT.length;
  let edge: "low" | "high" | null = null;
  if (((tBest >= 1 - EDGE_BAND && z >= BOUNDARY_Z) || (tBest >= 1 - EDGE_ZONE && z >= TREND_Z)) && inZone("high")) edge = "high";
  else if (((tBest <= EDGE_BAND && z <= -BOUNDARY_Z) || (tBest <= EDGE_ZONE && z <= -TREND_Z)) && inZone("low")) edge = "low";
  if (!edge) return null;
  if (divergesBeyond(ax, best, edge, trials)) return null;
  return { edge, rows, rho, tBest, best };
}

function boundaryFindings(axes: Axis[], scored: TrialSummary[], trials: TrialSummary[], goal: Goal, metric: string) {
  const out: Array<{ text: string; evidence: Record<string, unknown> }> = [];
  for (const ax of axes) {
    if (ax.kind !== "numeric") continue;
    const found = boundaryEdge(ax, scored, trials, goal);
    if (!found) continue;
    const { edge, rows, rho, tBest, best } = found;
    // the same top trials refineSpace takes (ties broken towards the best), so the alert names the suggestion's range
    const topValues = tiesNearBest(ax, rows, goal)
      .slice(0, DEFAULT_TOP)
      .map((t) => paramOf(t, ax.name) as number);
    const refined = refineNumeric(ax, topValues, edge);
    if (!refined.widened) continue; // a natural bound (0, 1): the best value is the bound itself, not a region past it
    const next = refined.spec as { low: number; high: number };
    const edgeValue = edge === "high" ? ax.high : ax.low;
    const scale = ax.log ? "log" : "linear";
    const onEdge = edge === "high" ? tBest >= 1 - EDGE_BAND : tBest <= EDGE_BAND;
    const where = onEdge ? `at the ${edge === "high" ? "upper" : "lower"} edge` : `near the ${edge === "high" ? "upper" : "lower"} edge`;
    out.push({
      text:
        `${ax.name}: the best trials sit ${where} of [${fmt(ax.low)}, ${fmt(ax.high)}]${ax.log ? " (log scale)" : ""}: best ${fmt(best)} ` +
        `(${metric} ${fmt(rows[0].objective as number)}), and ${metric} ${goal === "max" ? "rises" : "falls"} towards ${fmt(edgeValue)} ` +
        `(rank correlation ${Math.abs(rho).toFixed(2)} over ${rows.length} trials). The better region probably lies ${edge === "high" ? "above" : "below"} ${fmt(edgeValue)}: ` +
        `search ${ax.name} in [${fmt(next.low)}, ${fmt(next.high)}] next.`,
      evidence: {
        param: ax.name,
        edge,
        scale,
        range: [ax.low, ax.high],
        best: { runId: rows[0].runId, value: best, objective: rows[0].objective, position: tBest },
        topValues,
        rho,
        n: rows.length,
        next: [next.low, next.high],
      },
    });
  }
  return out;
}

function alert(code: string, severity: SweepAlert["severity"], title: string, message: string, evidence: Record<string, unknown>): SweepAlert {
  return { code, severity, title, message, evidence };
}

/**
 * Everything the babysitter says about a sweep: the space (declared or inferred), the best trials,
 * the sweep alerts (each with what is wrong, why, what to try and the numbers), how much each
 * parameter matters, and the next stage's space.
 */
export function analyzeSweep(input: { space: Space | null; objective: Objective; trials: TrialSummary[] }): SweepAnalysis {
  const { objective, trials } = input;
  const { goal, metric } = objective;
  const inferred = input.space === null;
  const space = input.space ?? inferSpace(trials);
  const axes = axesOf(space);
  const scored = scoredTrials(trials, goal);
  const done = judged(trials);
  const failed = trials.filter((t) => t.failed);
  const running = trials.filter((t) => t.status === "running" && !t.failed);
  const stats = axes.map((ax) => paramStats(ax, scored));
  const importance: ParamImportance[] = stats
    .map(({ param, rho, importance: imp, n }) => ({ param, rho, importance: imp, n }))
    .sort((a, b) => (b.importance ?? -1) - (a.importance ?? -1));
  const alerts: SweepAlert[] = [];

  // trials whose own alerts explain their bad results, grouped by code
  const worseHalf = new Set(scored.slice(Math.ceil(scored.length / 2)).map((t) => t.runId));
  const groups = new Map<string, TrialSummary[]>();
  for (const t of done) {
    if (!t.failed && !worseHalf.has(t.runId)) continue;
    // only alerts that explain a bad result (noisy_loss, say, does not)
    const codes = new Set(t.alerts.filter((c) => ADVICE.has(c)));
    if (t.failure === "diverged") codes.add("divergence");
    for (const c of codes) {
      const list = groups.get(c);
      if (list) list.push(t);
      else groups.set(c, [t]);
    }
  }
  const sharedCodes = [...groups.entries()]
    .filter(([, ts]) => ts.length >= 2 && ts.length >= FAILING_FRACTION * done.length)
    .sort((a, b) => b[1].length - a[1].length);
  if (sharedCodes.length > 0) {
    const [code, ts] = sharedCodes[0];
    const has = (t: TrialSummary) => t.alerts.includes(code) || (code === "divergence" && t.failure === "diverged");
    const sep = bestSeparation(axes, done, has);
    const sepText = sep && sep.accuracy >= SEPARATION_MIN ? ` ${describeSeparation(sep, `raised ${code}`)}.` : "";
    const advice = ADVICE.get(code) ?? "see these trials' alerts";
    const allFailed = done.length > 0 && failed.length === done.length;
    alerts.push(
      alert(
        "search_trials_failing",
        allFailed ? "critical" : "warning",
        `${ts.length} of ${done.length} trials raised ${code}`,
        `${ts.length} of ${done.length} finished trials raised ${code}${
          sharedCodes.length > 1
            ? ` (also: ${sharedCodes
                .slice(1, 4)
                .map(([c, x]) => `${c} ${x.length}`)
                .join(", ")})`
            : ""
        }: their own alerts explain their bad results, so they say nothing about the values they tried.${sepText} What to try: ${advice}.`,
        {
          trials: done.length,
          failed: failed.length,
          groups: sharedCodes.map(([c, x]) => ({
            code: c,
            trials: x.length,
            share: x.length / done.length,
            runIds: x.slice(0, 10).map((t) => t.runId),
          })),
          separation: sep && sep.accuracy >= SEPARATION_MIN ? sep : null,
        },
      ),
    );
  }

  // a range so wide most trials diverge or learn nothing
  const bad = done.filter(isBad);
  if (done.length >= 4 && bad.length >= WIDE_BAD_FRACTION * done.length) {
    const sep = bestSeparation(axes, done, isBad);
    const ok = sep && sep.accuracy >= SEPARATION_MIN;
    let suggest = "";
    let suggested: unknown = null;
    if (ok && sep && "low" in sep.working) {
      const ax = axes.find((a) => a.name === sep.param) as NumericAxis;
      // the working interval, up to the old edge on a side where no trial failed; rounded outward
      const low = sep.badSide === "below" || sep.badSide === "both" ? sigOut(sep.working.low, "down") : ax.low;
      const high = sep.badSide === "above" || sep.badSide === "both" ? sigOut(sep.working.high, "up") : ax.high;
      suggested = { param: sep.param, low, high };
      suggest = ` Search ${sep.param} in [${fmt(low)}, ${fmt(high)}] instead.`;
    } else if (ok && sep && "values" in sep.working) {
      suggested = { param: sep.param, values: sep.working.values };
      suggest = ` Keep ${sep.param} to ${JSON.stringify(sep.working.values)}.`;
    }
    const why =
      bad.length === done.length
        ? " None worked, so the range holds no working region yet: shift or shrink it (the trials' own alerts say which way)."
        : ok && sep
          ? ` ${describeSeparation(sep, "failed")}.${suggest}`
          : ` No single parameter separates the failed trials from the working ones${sep ? ` (best: ${sep.param}, ${pct(sep.accuracy)} sorted right)` : ""}.`;
    alerts.push(
      alert(
        "search_range_too_wide",
        "warning",
        `${bad.length} of ${done.length} trials diverged or learned nothing`,
        `${bad.length} of ${done.length} finished trials diverged, crashed or learned nothing: the search spends most of its trials outside the region that trains.${why}`,
        {
          trials: done.length,
          bad: bad.length,
          share: bad.length / done.length,
          failures: Object.fromEntries(
            [...new Set(bad.map((t) => t.failure ?? "no_learning"))].map((k) => [k, bad.filter((t) => (t.failure ?? "no_learning") === k).length]),
          ),
          separation: ok ? sep : null,
          suggested,
        },
      ),
    );
  }

  // the best on an edge
  const edges = boundaryFindings(axes, scored, trials, goal, metric);
  if (edges.length > 0) {
    alerts.push(
      alert(
        "search_boundary",
        "warning",
        `Best ${edges.map((e) => e.evidence.param).join(", ")} on the edge of the searched range`,
        `${edges.map((e) => e.text).join(" ")}${inferred ? " (The range was inferred from the trials' configs: no space was declared.)" : ""}`,
        { params: edges.map((e) => e.evidence), inferred },
      ),
    );
  }

  // parameters that do not matter
  const flat = stats.filter(
    (s) =>
      s.n >= FLAT_MIN_TRIALS &&
      s.importance !== null &&
      s.importance < FLAT_MAX_IMPORTANCE &&
      s.p !== null &&
      s.p >= FLAT_MIN_P &&
      !edges.some((e) => e.evidence.param === s.param),
  );
  const bestParams = scored[0]?.params;
  const fixed: Array<{ param: string; value: Scalar }> = [];
  for (const s of flat) if (bestParams && Object.hasOwn(bestParams, s.param)) fixed.push({ param: s.param, value: bestParams[s.param] });
  if (flat.length > 0) {
    const matters = importance.filter((i) => !flat.some((s) => s.param === i.param) && (i.importance ?? 0) >= FLAT_MAX_IMPORTANCE).slice(0, 3);
    alerts.push(
      alert(
        "search_flat_parameter",
        "info",
        `${flat.map((s) => s.param).join(", ")} ${flat.length > 1 ? "do" : "does"} not change ${metric} beyond noise`,
        `${flat
          .map((s) => {
            const fix =
              bestParams && Object.hasOwn(bestParams, s.param)
                ? ` (the suggested next stage fixes it at the best trial's ${show(bestParams[s.param])})`
                : "";
            return `${s.param}: importance ${(s.importance as number).toFixed(2)} over ${s.n} trials, and a shuffled objective shows as large an effect ${pct(s.p as number)} of the time${fix}.`;
          })
          .join(
            " ",
          )} Fix ${flat.length > 1 ? "them" : "it"} and spend the trials on the parameters that matter${matters.length ? `: ${matters.map((m) => `${m.param} (importance ${(m.importance as number).toFixed(2)})`).join(", ")}` : ""}.`,
        { params: flat.map((s) => ({ param: s.param, importance: s.importance, rho: s.rho, p: s.p, n: s.n, ...s.detail })) },
      ),
    );
  }

  if (scored.length < MIN_TRIALS) {
    alerts.push(
      alert(
        "search_too_few_trials",
        "info",
        `${scored.length} of ${MIN_TRIALS} trials needed to judge the search`,
        `${scored.length} trial${scored.length === 1 ? "" : "s"} finished with ${metric} (${failed.length} failed, ${running.length} running); the search rules (edges, flat parameters) need at least ${MIN_TRIALS}. Run more trials.`,
        { scored: scored.length, needed: MIN_TRIALS, trials: trials.length, failed: failed.length, running: running.length },
      ),
    );
  }

  const suggestion = scored.length >= 2 && axes.length > 0 ? nextSpace(space, trials, goal, DEFAULT_TOP, fixed) : null;
  return { space, inferred, best: scored.slice(0, DEFAULT_TOP), alerts, importance, suggestion, flat: fixed };
}

/**
 * The next stage's space as the page suggests it and refine makes it: refineSpace, with each
 * parameter search_flat_parameter names fixed at the best trial's value (the alert's advice: a
 * parameter that does not matter is neither narrowed nor widened, it stops costing trials).
 */
export function nextSpace(space: Space, trials: TrialSummary[], goal: Goal, top: number, flat: Array<{ param: string; value: Scalar }>): Space {
  const out = refineSpace(space, trials, goal, top);
  for (const { param, value } of flat) if (Object.hasOwn(out, param)) out[param] = value;
  return out;
}

// ------------------------------------------------------------------------------ early stopping

/** True when a curve of the objective diverged: a non-finite value, or (minimizing) a value past
 *  EXPLODE_FACTOR times its first. */
export function curveDiverged(curve: Array<[number, number]>, goal: Goal): { diverged: boolean; step: number | null; value: number | null } {
  const first = curve.find(([, v]) => Number.isFinite(v));
  for (const [step, v] of curve) {
    if (!Number.isFinite(v)) return { diverged: true, step, value: v };
    if (goal === "min" && first && first[1] > 0 && v > EXPLODE_FACTOR * first[1]) return { diverged: true, step, value: v };
  }
  return { diverged: false, step: null, value: null };
}

/** Best finite value of a curve up to a step (max or min by goal), null when none. */
export function bestUpTo(curve: Array<[number, number]>, goal: Goal, step = Number.POSITIVE_INFINITY): number | null {
  let best: number | null = null;
  for (const [s, v] of curve) {
    if (s > step || !Number.isFinite(v)) continue;
    if (best === null || goodness(goal, v) > goodness(goal, best)) best = v;
  }
  return best;
}

/**
 * Median stopping for coarse stages: stop a trial that diverged (at any step, whatever the rule), or
 * — with rule "median", from `warmupSteps` on — whose best objective so far is worse than the median
 * of the other trials' best up to the same step, once `minTrials` others reached that step.
 */
export function shouldStop(
  trial: Array<[number, number]>,
  others: Array<Array<[number, number]>>,
  goal: Goal,
  opts: EarlyStop,
): { stop: boolean; reason: string | null; evidence: Record<string, unknown> } {
  if (trial.length === 0) return { stop: false, reason: null, evidence: { points: 0 } };
  const d = curveDiverged(trial, goal);
  if (d.diverged) {
    const first = trial.find(([, v]) => Number.isFinite(v));
    return {
      stop: true,
      reason: Number.isFinite(d.value as number)
        ? `diverged: the objective reached ${fmt(d.value as number)} at step ${d.step}, over ${EXPLODE_FACTOR}x its first value ${fmt(first?.[1] ?? 0)}`
        : `diverged: the objective is ${d.value} at step ${d.step}`,
      evidence: { rule: "diverged", step: d.step, value: String(d.value), first: first?.[1] ?? null },
    };
  }
  const step = maxOf(trial.map(([s]) => s));
  const evidence: Record<string, unknown> = { rule: opts.rule, step, warmupSteps: opts.warmupSteps, minTrials: opts.minTrials };
  if (opts.rule !== "median") return { stop: false, reason: null, evidence };
  if (step < opts.warmupSteps) return { stop: false, reason: null, evidence };
  const best = bestUpTo(trial, goal, step);
  const peers: number[] = [];
  for (const o of others) {
    if (o.length === 0 || maxOf(o.map(([s]) => s)) < step) continue;
    const b = bestUpTo(o, goal, step);
    if (b !== null) peers.push(b);
  }
  evidence.best = best;
  evidence.others = peers.length;
  if (best === null || peers.length < opts.minTrials) return { stop: false, reason: null, evidence };
  const med = median(peers);
  evidence.median = med;
  if (goodness(goal, best) < goodness(goal, med)) {
    return {
      stop: true,
      reason: `below the median: best ${fmt(best)} by step ${step}, the median of ${peers.length} other trials at that step is ${fmt(med)}`,
      evidence,
    };
  }
  return { stop: false, reason: null, evidence };
}

// ------------------------------------------------------------------------------ objective

/** The objective a sweep optimizes: the declared one, or best val/acc if logged, else the lowest
 *  val/loss, else train/loss, else loss. */
export function resolveObjective(declared: Objective | null, loggedKeys: Set<string>): Objective & { declared: boolean } {
  if (declared) return { metric: declared.metric, goal: declared.goal, declared: true };
  if (loggedKeys.has("val/acc")) return { metric: "val/acc", goal: "max", declared: false };
  for (const metric of ["val/loss", "train/loss"]) if (loggedKeys.has(metric)) return { metric, goal: "min", declared: false };
  return { metric: "loss", goal: "min", declared: false };
}
