// What every rule gets: the run, resolved keys and thresholds, and summaries that several rules
// share (computed once per diagnose() call, lazily).

import { resolveKeys, type NamedSeries, type ResolvedKeys } from "./keys";
import { accuracyScale, finiteSample, median, noise, nonFiniteScan, recentRange, smoothed } from "./series";
import { resolveThresholds, type Thresholds } from "./thresholds";
import type { Diagnosis, RunData, Severity } from "./types";

export interface LossProfile {
  key: string;
  n: number;
  firstStep: number;
  lastStep: number;
  /** first finite loss (with pool > 3: the mean of the first `pool` finite points) */
  first: number;
  /** reference starting level: max(first, median of the first 3 finite points), or with pool > 3 the
   * mean of the first `pool` finite points (the expected loss of the untrained model) */
  initial: number;
  /** median of the recent window */
  recent: number;
  /** median of the last max(min_points, pool) points: reacts faster than `recent` */
  tail: number;
  /** consecutive points pooled to read a level: 1, or ceil(loss_pool_samples / batch size) when each
   * point is the loss of a few samples (small batches: config.batch_size, or per-point noise from the start) */
  pool: number;
  /** the pool a level needs (ceil(loss_pool_samples / batch size)): larger than `pool` while the run
   * has fewer than 4 pools of points, when levels are read from too few samples to mean anything */
  poolWanted: number;
  /** why `pool` is > 1: "batch_size" or "noise"; null when it is 1 */
  poolReason: "batch_size" | "noise" | null;
  /** samples per point: config.batch_size, or read from the noise of the first points (a loss of
   * single samples varies by about its level: ~1 / cv^2), or null */
  batchSize: number | null;
  recentFromIdx: number;
  recentPoints: number;
  /** robust step-to-step noise / level in the recent window */
  recentCv: number;
  /** recentCv less two standard errors of its estimate (noiseSe): the noise the window shows for sure (two:
   * the rules that read it test at every evaluation, and over tens of them one s.e. is crossed by chance) */
  recentCvLow: number;
  /** lowest level of the smoothed curve, and where */
  best: number;
  bestStep: number;
  nonFiniteFirstIdx: number;
  nonFiniteCount: number;
  lastIsFinite: boolean;
}

export interface Context {
  run: RunData;
  t: Thresholds;
  keys: ResolvedKeys;
  numClasses: number | null;
  /** samples per minibatch from the config (batch_size, ...), or null */
  batchSize: number | null;
  /** "relu" | "tanh" | "sigmoid" | ... from the config, lower case, or null */
  activation: string | null;
  loss(): LossProfile | null;
  /** accuracy series rescaled to 0..1 (percent is detected) */
  accScale(role: "train_acc" | "val_acc"): number;
  /** per-call cache for summaries several rules share */
  memo<T>(key: string, compute: () => T): T;
}

export interface Rule {
  code: string;
  evaluate(ctx: Context): Diagnosis | null;
}

export function diagnosis(
  code: string,
  severity: Severity,
  step: number | null | undefined,
  title: string,
  message: string,
  evidence: Diagnosis["evidence"],
): Diagnosis {
  return { code, severity, step: Number.isFinite(step) ? (step as number) : 0, title, message, evidence };
}

export function findNumber(config: Record<string, any>, names: string[]): number | null {
  const places = [config, config?.hyperparams, config?.model, config?.dataset, config?.data, config?.params];
  for (const place of places) {
    if (!place || typeof place !== "object") continue;
    for (const name of names) {
      const v = place[name];
      if (typeof v === "number" && Number.isFinite(v)) return v;
      if (typeof v === "string" && /^\d+$/.test(v.trim())) return Number(v);
    }
  }
  return null;
}

export function numClassesOf(config: Record<string, any>): number | null {
  const c = findNumber(config, ["num_classes", "n_classes", "nb_classes", "num_labels", "classes", "n_labels"]);
  if (c !== null) return c >= 2 ? Math.round(c) : null;
  for (const place of [config, config?.model, config?.dataset, config?.data]) {
    const classes = place?.classes ?? place?.class_names ?? place?.labels;
    if (Array.isArray(classes) && classes.length >= 2) return classes.length;
  }
  return null;
}

/** Samples per training minibatch from the config, or null when it does not say. */
export function batchSizeOf(config: Record<string, any>): number | null {
  const b = findNumber(config, ["batch_size", "batchsize", "batchSize", "train_batch_size", "per_device_train_batch_size", "mini_batch_size", "bs"]);
  return b !== null && b >= 1 ? Math.round(b) : null;
}

/**
 * The config names a linear model (logistic / softmax regression, a linear classifier or probe): the
 * name read from `model`, `model_name`, `architecture` or `arch` (not "linear head" / "linear output",
 * the last layer of a deeper net). Null when it does not.
 */
export function linearModelOf(config: Record<string, any>): string | null {
  for (const name of ["model", "model_name", "architecture", "arch"]) {
    const v = config?.[name];
    if (typeof v !== "string") continue;
    if (/^\s*linear\s*$/i.test(v) || /logistic[ _-]?regression|softmax[ _-]?regression|linear[ _-]?(model|classifier|probe)/i.test(v)) return v;
  }
  return null;
}

/**
 * The run's model is linear. The Python SDK's watch() says what the model is made of in a `model`
 * event: linear when every one says one Linear layer holds every trainable parameter (a GRU or an
 * embedding before a linear head has parameters watch() does not measure), not linear when one says
 * otherwise. Without the event (an older SDK, a replayed log, no watch()): the config names a linear
 * model (linearModelOf) and watch(), if it ran, measured at most one layer with weights.
 */
export function linearModel(ctx: Context): { params: number | null; named: string | null } | null {
  let params: number | null = null;
  for (const ev of ctx.run.events) {
    if (ev.type !== "model" || !ev.data || typeof ev.data !== "object") continue;
    const d = ev.data as Record<string, unknown>;
    const p = d.params;
    if (!(d.weighted_layers === 1 && typeof p === "number" && p > 0 && d.params_watched === p)) return null;
    params = p;
  }
  const named = linearModelOf(ctx.run.config ?? {});
  if (params !== null) return { params, named };
  if (named === null) return null;
  let weighted = 0;
  for (const f of ctx.keys.layers.values()) if (f.update_ratio || f.weight_std || f.weight_mean) weighted++;
  return weighted <= 1 ? { params: null, named } : null;
}

// A name counts where no letter comes right before it: "relu" holds "elu", "leakyrelu" and "prelu" hold
// "relu", "hardswish" holds "swish" (those longer names come first and are matched as such).
const ACTIVATION_NAMES: [string, RegExp][] = [
  "leaky_relu",
  "leakyrelu",
  "prelu",
  "hardswish",
  "gelu",
  "silu",
  "swish",
  "mish",
  "selu",
  "celu",
  "elu",
  "softplus",
  "relu",
  "tanh",
  "sigmoid",
].map((a) => [a, new RegExp(`(?<![a-z])${a}`)]);

export function activationOf(config: Record<string, any>): string | null {
  const candidates = [
    config?.hyperparams?.activation,
    config?.activation,
    config?.model?.activation,
    typeof config?.model === "string" ? config.model : null,
  ];
  for (const c of candidates) {
    if (typeof c !== "string") continue;
    const l = c.toLowerCase();
    for (const [a, re] of ACTIVATION_NAMES) if (re.test(l)) return a;
  }
  return null;
}

/**
 * How many consecutive loss points make one level reading. A point is the mean loss of one minibatch;
 * with batches of a few samples (one: a single sample's loss, 0.001 or 10 around a mean of ln 3),
 * single points and medians of three are noise, and a median of per-sample losses is not their mean.
 */
function lossPool(
  values: number[],
  firstIdx: number,
  t: Thresholds,
  batchSize: number | null,
): { pool: number; wanted: number; reason: LossProfile["poolReason"]; batch: number | null } {
  const n = values.length;
  const cap = Math.max(1, Math.floor((n - firstIdx) / 4));
  if (batchSize !== null) {
    const wanted = Math.ceil(t.loss_pool_samples / batchSize);
    const p = Math.min(cap, wanted);
    return p > 3 ? { pool: p, wanted, reason: "batch_size", batch: batchSize } : { pool: 1, wanted, reason: null, batch: batchSize };
  }
  // No batch size: read it from the data. At the start every minibatch of a reasonable size gives
  // about the same loss (the model barely moved); points far apart from one another are single samples.
  const early = noise(values, firstIdx, Math.min(n, firstIdx + 4 * t.min_points));
  const cv = early.sigma / early.level;
  if (early.pairs >= t.min_points && early.level > 0 && cv > t.loss_pool_cv) {
    const batch = Math.max(1, Math.round(1 / (cv * cv)));
    const wanted = Math.ceil(t.loss_pool_samples / batch);
    const p = Math.min(cap, wanted);
    if (p > 3) return { pool: p, wanted, reason: "noise", batch };
  }
  return { pool: 1, wanted: 1, reason: null, batch: null };
}

/**
 * Relative standard error of noise()'s estimate from `pairs` differences: a MAD-based sigma is off by
 * about 1.17 / sqrt(k) of itself (k differences of normal noise). A window of 30 points reads a noise
 * level to ~21 %: a cv read as 0.52 against a limit of 0.5 is not evidence of anything.
 */
export function noiseSe(pairs: number): number {
  return pairs > 1 ? Math.min(1, 1.17 / Math.sqrt(pairs)) : 1;
}

/** Mean of the finite values among [from, to). */
export function finiteMean(values: number[], from: number, to: number): number {
  let sum = 0;
  let k = 0;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (Number.isFinite(v)) {
      sum += v;
      k++;
    }
  }
  return k > 0 ? sum / k : NaN;
}

function lossProfile(named: NamedSeries, t: Thresholds, batchSize: number | null): LossProfile | null {
  const { s, key } = named;
  const n = s.values.length;
  const scan = nonFiniteScan(s.values);
  let firstIdx = 0;
  while (firstIdx < n && !Number.isFinite(s.values[firstIdx])) firstIdx++;
  if (firstIdx >= n) {
    return {
      key,
      n,
      firstStep: s.steps[0],
      lastStep: s.steps[n - 1],
      first: NaN,
      initial: NaN,
      recent: NaN,
      tail: NaN,
      recentFromIdx: 0,
      recentPoints: n,
      recentCv: NaN,
      recentCvLow: NaN,
      best: NaN,
      bestStep: s.steps[0],
      pool: 1,
      poolWanted: 1,
      poolReason: null,
      batchSize,
      nonFiniteFirstIdx: scan.first,
      nonFiniteCount: scan.count,
      lastIsFinite: false,
    };
  }
  const { pool, wanted, reason, batch } = lossPool(s.values, firstIdx, t, batchSize);
  const head = finiteSample(s.values, firstIdx, Math.min(n, firstIdx + 3));
  const first = pool > 3 ? finiteMean(s.values, firstIdx, Math.min(n, firstIdx + pool)) : s.values[firstIdx];
  const initial = pool > 3 ? first : Math.max(first, median(head));
  const { from } = recentRange(n, t.recent_frac, t.min_points);
  const recent = median(finiteSample(s.values, from, n));
  const nz = noise(s.values, from, n);
  const curve = smoothed(s, 0, n);
  let best = Infinity;
  let bestStep = s.steps[firstIdx];
  for (const p of curve) {
    if (p.value < best) {
      best = p.value;
      bestStep = p.step;
    }
  }
  return {
    key,
    n,
    firstStep: s.steps[firstIdx],
    lastStep: s.steps[n - 1],
    first,
    initial,
    recent,
    tail: median(finiteSample(s.values, Math.max(0, n - Math.max(t.min_points, pool)), n)),
    pool,
    poolWanted: wanted,
    poolReason: reason,
    batchSize: batch,
    recentFromIdx: from,
    recentPoints: n - from,
    recentCv: nz.level !== 0 ? nz.sigma / Math.abs(nz.level) : NaN,
    recentCvLow: nz.level !== 0 ? (nz.sigma / Math.abs(nz.level)) * Math.max(0, 1 - 2 * noiseSe(nz.pairs)) : NaN,
    best: Number.isFinite(best) ? best : recent,
    bestStep,
    nonFiniteFirstIdx: scan.first,
    nonFiniteCount: scan.count,
    lastIsFinite: Number.isFinite(s.values[n - 1]),
  };
}

export function buildContext(run: RunData): Context {
  const t = resolveThresholds(run.config);
  const keys = resolveKeys(run);
  const batchSize = batchSizeOf(run.config ?? {});
  let loss: LossProfile | null | undefined;
  const scales: Record<string, number> = {};
  const cache = new Map<string, unknown>();
  return {
    memo<T>(key: string, compute: () => T): T {
      if (!cache.has(key)) cache.set(key, compute());
      return cache.get(key) as T;
    },
    run,
    t,
    keys,
    numClasses: numClassesOf(run.config ?? {}),
    batchSize,
    activation: activationOf(run.config ?? {}),
    loss() {
      if (loss === undefined) {
        const named = keys.scalars.train_loss ?? null;
        loss = named ? lossProfile(named, t, batchSize) : null;
      }
      return loss;
    },
    accScale(role) {
      if (scales[role] === undefined) {
        const named = keys.scalars[role];
        scales[role] = named ? accuracyScale(named.s) : 1;
      }
      return scales[role];
    },
  };
}
