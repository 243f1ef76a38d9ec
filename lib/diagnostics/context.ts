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
  /** first finite loss */
  first: number;
  /** reference starting level: max(first, median of the first 3 finite points) */
  initial: number;
  /** median of the recent window */
  recent: number;
  /** median of the last min_points points: reacts faster than `recent` */
  tail: number;
  recentFromIdx: number;
  recentPoints: number;
  /** robust step-to-step noise / level in the recent window */
  recentCv: number;
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

function findNumber(config: Record<string, any>, names: string[]): number | null {
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
    for (const a of ["leaky_relu", "leakyrelu", "gelu", "silu", "swish", "elu", "relu", "tanh", "sigmoid"]) {
      if (l.includes(a)) return a;
    }
  }
  return null;
}

function lossProfile(named: NamedSeries, t: Thresholds): LossProfile | null {
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
      best: NaN,
      bestStep: s.steps[0],
      nonFiniteFirstIdx: scan.first,
      nonFiniteCount: scan.count,
      lastIsFinite: false,
    };
  }
  const head = finiteSample(s.values, firstIdx, Math.min(n, firstIdx + 3));
  const first = s.values[firstIdx];
  const initial = Math.max(first, median(head));
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
    tail: median(finiteSample(s.values, Math.max(0, n - t.min_points), n)),
    recentFromIdx: from,
    recentPoints: n - from,
    recentCv: nz.level !== 0 ? nz.sigma / Math.abs(nz.level) : NaN,
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
    activation: activationOf(run.config ?? {}),
    loss() {
      if (loss === undefined) {
        const named = keys.scalars.train_loss ?? null;
        loss = named ? lossProfile(named, t) : null;
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
