// The run page's Data panel: what a run logged about its data (input_stats, label_stats and
// output_stats events) read for people. Per split the latest statistics, summarised so that a
// 784-pixel input stays readable; training and validation inputs compared feature by feature with
// the reading train_val_mismatch makes (each side's std floored at its typical feature std, a
// feature off by its std ratio either way or its mean shift in training stds), so the numbers on
// the page are the ones the alert speaks of; and how the statistics moved over the run.
// Split names and feature/class names are data: Maps and arrays, never object members.

import { DEFAULT_THRESHOLDS } from "../diagnostics/thresholds";
import { statsSplit } from "../diagnostics/rules/input-not-normalized";

export interface StatsEvent {
  type: string;
  step: number | null;
  data: unknown;
  /** What the Data section reads from this event, worked out by the server (lightenStats) over the
   * events before it: kept when the event's own numbers are left out of the page. */
  reading?: StatsReading;
  /** The data fields the server left out of this event (lightenStats): it is not the latest of its
   * split. GET /api/v1/runs/{id}?events=full lists every event whole. */
  omitted?: { fields: string[]; length: number };
}

/** An input statistics event's part in the history (NaN travels as null). */
export interface StatsReading {
  history?: { off: number | null; offCount: number };
  change?: { off: number | null; index: number; name: string | null; previousStep: number | null };
  /** why the section cannot read the event (its lists left out all the same) */
  unreadable?: string;
}

/** A statistics event the Data section could not read, and why. */
export interface Unreadable {
  type: string;
  split: string;
  step: number | null;
  reason: string;
}

/** A number as logged: finite, NaN or ±Infinity (the wire's strings read back), or null when absent. */
export function wireNum(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  return null;
}

function wireList(v: unknown): number[] | null {
  const l = wireListProblem(v, "");
  return typeof l === "string" ? null : l;
}

/** The numbers of a list as logged, or why it is not one (the field named as `field`). */
function wireListProblem(v: unknown, field: string): number[] | string {
  if (!Array.isArray(v)) return `${field} is ${v === undefined ? "missing" : "not a list"}`;
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) {
    const n = wireNum(v[i]);
    if (n === null) return `${field}[${i}] is not a number`;
    out.push(n);
  }
  return out;
}

function stringList(v: unknown, length: number): string[] | null {
  if (!Array.isArray(v) || v.length !== length) return null;
  return v.every((x) => typeof x === "string") ? (v as string[]) : null;
}

function record(d: unknown): Record<string, unknown> {
  return d && typeof d === "object" && !Array.isArray(d) ? (d as Record<string, unknown>) : Object.create(null);
}

/** The split name an event gives (trimmed), "train" when it gives none. */
export function splitName(data: unknown): string {
  const s = record(data).split;
  return typeof s === "string" && s.trim() !== "" ? s.trim() : "train";
}

function splitProblem(data: unknown): string | null {
  const s = record(data).split;
  return s === undefined || s === null || typeof s === "string" ? null : "split is not a string";
}

function median(xs: number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface NonFinite {
  nan: number;
  posInf: number;
  negInf: number;
}

function countNonFinite(...lists: (number[] | null)[]): NonFinite {
  const c = { nan: 0, posInf: 0, negInf: 0 };
  for (const l of lists)
    for (const x of l ?? []) {
      if (Number.isNaN(x)) c.nan++;
      else if (x === Number.POSITIVE_INFINITY) c.posInf++;
      else if (x === Number.NEGATIVE_INFINITY) c.negInf++;
    }
  return c;
}

export interface InputStats {
  split: string;
  step: number | null;
  /** "watch" when watch() sent it, null for a log_input_stats call (or unknown). */
  source: string | null;
  n: number | null;
  mean: number[];
  std: number[];
  /** Per-feature extremes and names, when the payload carries them. */
  min: number[] | null;
  max: number[] | null;
  names: string[] | null;
  shape: unknown[] | null;
}

function inputStatsOf(e: StatsEvent): InputStats | string {
  const d = record(e.data);
  const bad = splitProblem(d);
  if (bad) return bad;
  const mean = wireListProblem(d.mean, "mean");
  if (typeof mean === "string") return mean;
  const std = wireListProblem(d.std, "std");
  if (typeof std === "string") return std;
  if (mean.length !== std.length) return `mean has ${mean.length} entries, std ${std.length}`;
  if (mean.length === 0) return "mean and std are empty";
  const negative = std.findIndex((x) => x < 0);
  if (negative >= 0) return `std[${negative}] is negative`;
  const min = wireList(d.min);
  const max = wireList(d.max);
  const n = wireNum(d.n);
  return {
    split: splitName(d),
    step: e.step,
    source: typeof d.source === "string" ? d.source : null,
    n: n !== null && Number.isFinite(n) ? n : null,
    mean,
    std,
    min: min && min.length === mean.length ? min : null,
    max: max && max.length === mean.length ? max : null,
    names: stringList(d.names ?? d.features, mean.length),
    shape: Array.isArray(d.shape) ? d.shape : null,
  };
}

export interface InputSummary {
  features: number;
  /** median |mean| and median std over the finite features: the "typical" scale */
  typicalAbsMean: number;
  typicalStd: number;
  meanRange: [number, number] | null;
  stdRange: [number, number] | null;
  minOfMin: number | null;
  maxOfMax: number | null;
  /** features whose std is 0 (constant in what was measured) */
  constant: number;
  nonFinite: NonFinite;
  /** features with a non-finite mean or std */
  nonFiniteFeatures: number;
}

function range(xs: number[]): [number, number] | null {
  const f = xs.filter(Number.isFinite);
  if (!f.length) return null;
  let lo = f[0];
  let hi = f[0];
  for (const x of f) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

export function summarizeInputs(s: InputStats): InputSummary {
  let nonFiniteFeatures = 0;
  for (let i = 0; i < s.mean.length; i++) if (!Number.isFinite(s.mean[i]) || !Number.isFinite(s.std[i])) nonFiniteFeatures++;
  const mins = s.min ? range(s.min) : null;
  const maxs = s.max ? range(s.max) : null;
  return {
    features: s.mean.length,
    typicalAbsMean: median(s.mean.filter(Number.isFinite).map(Math.abs)),
    typicalStd: median(s.std.filter(Number.isFinite)),
    meanRange: range(s.mean),
    stdRange: range(s.std),
    minOfMin: mins ? mins[0] : null,
    maxOfMax: maxs ? maxs[1] : null,
    constant: s.std.filter((x) => x === 0).length,
    nonFinite: countNonFinite(s.mean, s.std, s.min, s.max),
    nonFiniteFeatures,
  };
}

export interface FeatureDiff {
  index: number;
  name: string | null;
  trainMean: number;
  trainStd: number;
  valMean: number;
  valStd: number;
  /** |val mean - train mean| in (floored) training stds */
  shift: number;
  /** val std / train std, each floored at its side's typical std */
  ratio: number;
  /** max(shift, ratio, 1/ratio): NaN when a side is not finite */
  off: number;
}

export interface InputComparison {
  features: number;
  /** features with finite statistics on both sides */
  compared: number;
  /** features off by >= factor */
  offCount: number;
  factor: number;
  extreme: number;
  share: number;
  /** whether train_val_mismatch's input reading would call this a mismatch */
  mismatch: boolean;
  /** the most different features, worst first (features whose numbers are not finite first of all) */
  worst: FeatureDiff[];
  /** features that could not be compared because a side is NaN or infinite */
  notFinite: number;
  /** the most different feature with finite numbers on both sides (the one the alert names) */
  worstFinite: FeatureDiff | null;
}

const T = DEFAULT_THRESHOLDS;

// the median positive finite std of a side: read once per event (the server reads every event
// against its neighbours to work out the history)
const stdFloors = new WeakMap<InputStats, number>();
function stdFloor(s: InputStats): number {
  let v = stdFloors.get(s);
  if (v === undefined) {
    v = median(s.std.filter((x) => Number.isFinite(x) && x > 0));
    stdFloors.set(s, v);
  }
  return v;
}

/**
 * Training vs validation inputs, feature by feature, as train_val_mismatch reads them (byInputs);
 * null when the two do not describe the same features.
 */
export function compareInputs(tr: InputStats, va: InputStats, top = 10): InputComparison | null {
  const F = tr.mean.length;
  if (va.mean.length !== F) return null;
  const floor = stdFloor(tr);
  const vf = stdFloor(va);
  const valFloor = Number.isNaN(vf) ? floor : vf;
  let compared = 0;
  let offCount = 0;
  let notFinite = 0;
  const diff = (i: number): FeatureDiff => {
    const [tm, ts, vm, vs] = [tr.mean[i], tr.std[i], va.mean[i], va.std[i]];
    let shift = Number.NaN;
    let ratio = Number.NaN;
    let off = Number.NaN;
    if ([tm, ts, vm, vs].every(Number.isFinite) && Number.isFinite(floor)) {
      const sRef = Math.max(ts, floor);
      shift = Math.abs(vm - tm) / sRef;
      ratio = Math.max(vs, valFloor) / sRef;
      off = Math.max(shift, ratio, 1 / ratio);
    }
    return { index: i, name: tr.names?.[i] ?? va.names?.[i] ?? null, trainMean: tm, trainStd: ts, valMean: vm, valStd: vs, shift, ratio, off };
  };
  // the `top` most different, worst first (a feature NaN or infinite on a side leads: it is the most
  // different of all), ties by index; kept as (rank, index) pairs, objects made only for them
  const best: [number, number][] = [];
  let worstFiniteAt = -1;
  let worstOff = 0;
  for (let i = 0; i < F; i++) {
    const [tm, ts, vm, vs] = [tr.mean[i], tr.std[i], va.mean[i], va.std[i]];
    const finite = Number.isFinite(tm) && Number.isFinite(ts) && Number.isFinite(vm) && Number.isFinite(vs);
    let rank: number;
    if (finite && Number.isFinite(floor)) {
      const sRef = Math.max(ts, floor);
      const ratio = Math.max(vs, valFloor) / sRef;
      const off = Math.max(Math.abs(vm - tm) / sRef, ratio, 1 / ratio);
      compared++;
      if (off >= T.tv_input_factor) offCount++;
      if (Number.isFinite(off) && off > worstOff) {
        worstOff = off;
        worstFiniteAt = i;
      }
      rank = Number.isNaN(off) ? -1 : off;
    } else {
      if (!finite) notFinite++;
      rank = finite ? -1 : Number.POSITIVE_INFINITY;
    }
    if (rank < 0 || top <= 0) continue;
    if (best.length === top && !(rank > best[best.length - 1][0])) continue;
    let at = best.length;
    while (at > 0 && rank > best[at - 1][0]) at--;
    best.splice(at, 0, [rank, i]);
    if (best.length > top) best.pop();
  }
  const share = compared ? offCount / compared : 0;
  return {
    features: F,
    compared,
    offCount,
    factor: T.tv_input_factor,
    extreme: T.tv_input_extreme,
    share,
    // one validation example says nothing about spread: the rule reads nothing from it either
    mismatch: compared > 0 && !(va.n !== null && va.n < 2) && (worstOff >= T.tv_input_extreme || share >= T.tv_input_share),
    worst: best.map(([, i]) => diff(i)),
    notFinite,
    worstFinite: worstFiniteAt >= 0 ? diff(worstFiniteAt) : null,
  };
}

export interface LabelStats {
  split: string;
  step: number | null;
  counts: number[];
  n: number;
  names: string[] | null;
  majority: number;
  majorityShare: number;
  /** classes with no example */
  empty: number;
}

function labelStatsOf(e: StatsEvent): LabelStats | string {
  const d = record(e.data);
  const bad = splitProblem(d);
  if (bad) return bad;
  const counts = wireListProblem(d.counts, "counts");
  if (typeof counts === "string") return counts;
  if (counts.length < 1) return "counts is empty";
  const wrong = counts.findIndex((c) => !Number.isFinite(c) || c < 0);
  if (wrong >= 0) return `counts[${wrong}] is not a count`;
  const n = counts.reduce((a, b) => a + b, 0);
  let majority = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i] > counts[majority]) majority = i;
  return {
    split: splitName(d),
    step: e.step,
    counts,
    n,
    names: stringList(d.names ?? d.classes, counts.length),
    majority,
    majorityShare: n > 0 ? counts[majority] / n : Number.NaN,
    empty: counts.filter((c) => c === 0).length,
  };
}

export interface OutputStats {
  split: string;
  step: number | null;
  n: number | null;
  pred: { min: number | null; max: number | null; mean: number | null; std: number | null };
  target: { min: number | null; max: number | null; mean: number | null; std: number | null };
  /** what loss_output_mismatch reads in them, in words; null when nothing stands out */
  note: string | null;
}

function outputStatsOf(e: StatsEvent): OutputStats | string {
  const d = record(e.data);
  const bad = splitProblem(d);
  if (bad) return bad;
  const side = (p: string) => ({
    min: wireNum(d[`${p}_min`]),
    max: wireNum(d[`${p}_max`]),
    mean: wireNum(d[`${p}_mean`]),
    std: wireNum(d[`${p}_std`]),
  });
  const pred = side("pred");
  const target = side("target");
  if (pred.min === null && pred.max === null && target.min === null && target.max === null) return "no prediction or target range";
  const n = wireNum(d.n);
  let note: string | null = null;
  const { min: pmin, max: pmax } = pred;
  const { min: tmin, max: tmax } = target;
  if ([pmin, pmax, tmin, tmax].every((x) => x !== null && Number.isFinite(x))) {
    if (pmin! >= 0 && tmin! < 0) note = "predictions never go below 0 while targets do (a ReLU-type output?)";
    else if (pmin! >= 0 && pmax! <= 1 && (tmin! < 0 || tmax! > 1)) note = "predictions stay inside [0, 1] while targets leave it (a sigmoid output?)";
  } else if ([pmin, pmax].some((x) => x !== null && !Number.isFinite(x))) note = "predictions are not finite";
  return { split: splitName(d), step: e.step, n: n !== null && Number.isFinite(n) ? n : null, pred, target, note };
}

export interface HistoryPoint {
  step: number | null;
  /** worst comparable feature's off (train vs val, as compareInputs) at that validation event; NaN when none */
  off: number;
  offCount: number;
}

export interface SplitChange {
  split: string;
  step: number | null;
  previousStep: number | null;
  /** worst feature off between the event and the one before it of the same split */
  off: number;
  index: number;
  name: string | null;
}

export interface DataStats {
  /** latest input statistics per split name, in the order splits first appeared */
  inputs: Map<string, InputStats>;
  inputCounts: Map<string, number>;
  labels: Map<string, LabelStats>;
  labelCounts: Map<string, number>;
  outputs: Map<string, OutputStats>;
  outputCounts: Map<string, number>;
  /** the latest training and validation inputs (as the diagnostics name splits) */
  train: InputStats | null;
  val: InputStats | null;
  comparison: InputComparison | null;
  /** each validation event against the training event latest at it */
  history: HistoryPoint[];
  /** the latest step at which a split's inputs changed by >= the mismatch factor from its previous event */
  changes: SplitChange[];
  /** statistics events that could not be read, and why */
  unreadable: Unreadable[];
  /** splits logged whose latest lists the page was not sent (past the first few splits: lightenStats) */
  hiddenSplits: string[];
  empty: boolean;
}

const INPUT_TYPES = new Set(["input_stats", "input_statistics", "data_stats"]);
const LABEL_TYPES = new Set(["label_stats"]);
const OUTPUT_TYPES = new Set(["output_stats"]);

const fromWire = (v: number | null | undefined) => (typeof v === "number" ? v : Number.NaN);
const toWire = (v: number) => (Number.isFinite(v) ? v : null);

function readingOf(e: StatsEvent): StatsReading | null {
  const r = e.reading;
  return r && typeof r === "object" && !Array.isArray(r) ? r : null;
}

/**
 * What the Data section shows of a run's statistics events, in order. An event the server left
 * out (`omitted`) counts, and its `reading` stands for what would have been read from it.
 * `onReading` hears each readable input event's reading (lightenStats keeps them).
 */
export function dataStats(events: readonly StatsEvent[], top = 10, onReading?: (index: number, r: StatsReading) => void): DataStats {
  const inputs = new Map<string, InputStats>();
  const inputCounts = new Map<string, number>();
  const labels = new Map<string, LabelStats>();
  const labelCounts = new Map<string, number>();
  const outputs = new Map<string, OutputStats>();
  const outputCounts = new Map<string, number>();
  const history: HistoryPoint[] = [];
  const lastChange = new Map<string, SplitChange>();
  const unreadable: Unreadable[] = [];
  let train: InputStats | null = null;
  let val: InputStats | null = null;
  const count = (m: Map<string, number>, split: string) => m.set(split, (m.get(split) ?? 0) + 1);
  const apply = (split: string, step: number | null, kind: string, r: StatsReading) => {
    if (r.change && typeof r.change === "object")
      lastChange.set(split, {
        split,
        step,
        previousStep: typeof r.change.previousStep === "number" ? r.change.previousStep : null,
        off: fromWire(r.change.off),
        index: typeof r.change.index === "number" ? r.change.index : 0,
        name: typeof r.change.name === "string" ? r.change.name : null,
      });
    if (kind === "val" && r.history && typeof r.history === "object")
      history.push({ step, off: fromWire(r.history.off), offCount: typeof r.history.offCount === "number" ? r.history.offCount : 0 });
  };
  events.forEach((e, index) => {
    const types = INPUT_TYPES.has(e.type) ? inputCounts : LABEL_TYPES.has(e.type) ? labelCounts : OUTPUT_TYPES.has(e.type) ? outputCounts : null;
    if (!types) return;
    if (e.omitted) {
      // left out by the server: not the latest of its split; what it adds to the history comes with it
      const split = splitProblem(e.data) ? "?" : splitName(e.data);
      const r = readingOf(e);
      if (typeof r?.unreadable === "string") unreadable.push({ type: e.type, split, step: e.step, reason: r.unreadable });
      else {
        count(types, split);
        if (types === inputCounts && r) apply(split, e.step, statsSplit(e.data), r);
      }
      return;
    }
    if (types === inputCounts) {
      const s = inputStatsOf(e);
      if (typeof s === "string") {
        unreadable.push({ type: e.type, split: splitProblem(e.data) ? "?" : splitName(e.data), step: e.step, reason: s });
        onReading?.(index, { unreadable: s });
        return;
      }
      const kind = statsSplit(e.data);
      const given = readingOf(e);
      let r: StatsReading;
      if (given) r = given;
      else {
        r = {};
        const prev = inputs.get(s.split);
        if (prev && prev.mean.length === s.mean.length) {
          const c = compareInputs(prev, s, 1);
          const w = c?.worstFinite ?? c?.worst[0];
          if (c && w && (c.mismatch || !Number.isFinite(w.off)))
            r.change = { off: toWire(w.off), index: w.index, name: w.name, previousStep: prev.step };
        }
        if (kind === "val") {
          const c = train ? compareInputs(train, s, 1) : null;
          r.history = { off: toWire(c?.worstFinite?.off ?? Number.NaN), offCount: c?.offCount ?? 0 };
        }
      }
      onReading?.(index, r);
      apply(s.split, s.step, kind, r);
      inputs.set(s.split, s);
      count(inputCounts, s.split);
      if (kind === "train") train = s;
      else if (kind === "val") val = s;
    } else if (types === labelCounts) {
      const s = labelStatsOf(e);
      if (typeof s === "string") {
        unreadable.push({ type: e.type, split: splitProblem(e.data) ? "?" : splitName(e.data), step: e.step, reason: s });
        onReading?.(index, { unreadable: s });
        return;
      }
      labels.set(s.split, s);
      count(labelCounts, s.split);
    } else {
      const s = outputStatsOf(e);
      if (typeof s === "string") {
        unreadable.push({ type: e.type, split: splitProblem(e.data) ? "?" : splitName(e.data), step: e.step, reason: s });
        onReading?.(index, { unreadable: s });
        return;
      }
      outputs.set(s.split, s);
      count(outputCounts, s.split);
    }
  });
  // splits in the order they first appeared (an omitted event may have come first)
  const ordered = new Map<string, InputStats>();
  for (const split of inputCounts.keys()) {
    const s = inputs.get(split);
    if (s) ordered.set(split, s);
  }
  return {
    inputs: ordered,
    inputCounts,
    labels,
    labelCounts,
    outputs,
    outputCounts,
    train,
    val,
    comparison: train && val ? compareInputs(train, val, top) : null,
    history,
    changes: [...lastChange.values()],
    unreadable,
    hiddenSplits: [...new Set([...[...inputCounts.keys()].filter((k) => !inputs.has(k)), ...[...labelCounts.keys()].filter((k) => !labels.has(k))])],
    empty: inputs.size + labels.size + outputs.size + unreadable.length === 0,
  };
}

// per-feature and per-class lists: what an older statistics event weighs (784 features ~ 30 KB)
// a run may name many splits: past these, a split's events all come without their lists
export const WHOLE_SPLITS = 8;

const HEAVY_FIELDS = new Map([
  ["input", ["mean", "std", "min", "max", "names", "features"]],
  ["label", ["counts", "names", "classes"]],
]);

/**
 * A run's events as its page and GET /api/v1/runs/{id} list them: every input and label statistics
 * event but the latest of its split loses its per-feature (per-class) lists, and every input event
 * carries the reading the Data section makes of it (its point in the history, a change of its split),
 * so the section shows what it would with every list. Events it cannot read are kept whole.
 */
export function lightenStats<E extends StatsEvent>(events: readonly E[]): (E & Pick<StatsEvent, "reading" | "omitted">)[] {
  const readings = new Map<number, StatsReading>();
  dataStats(events, 1, (i, r) => readings.set(i, r));
  const group = (e: E) => (INPUT_TYPES.has(e.type) ? "input" : LABEL_TYPES.has(e.type) ? "label" : null);
  // whole: the latest of each of a group's first splits, and the latest training and validation inputs
  const latest = new Map<string, number>();
  const splits = new Map<string, number>();
  const latestKind = new Map<string, number>();
  events.forEach((e, i) => {
    const g = group(e);
    if (!g || e.omitted || readings.get(i)?.unreadable !== undefined) return;
    if (g === "label" && typeof labelStatsOf(e) === "string") return;
    const split = splitName(e.data);
    splits.set(g, (splits.get(g) ?? 0) + (latest.has(`${g}\u0000${split}`) ? 0 : 1));
    if (latest.has(`${g}\u0000${split}`) || (splits.get(g) ?? 0) <= WHOLE_SPLITS) latest.set(`${g}\u0000${split}`, i);
    if (g === "input") latestKind.set(statsSplit(e.data), i);
  });
  const whole = new Set([...latest.values(), latestKind.get("train") ?? -1, latestKind.get("val") ?? -1]);
  return events.map((e, i) => {
    const g = group(e);
    const r = readings.get(i);
    if (!g || e.omitted) return e;
    const withReading = r ? { ...e, reading: r } : e;
    if (whole.has(i)) return withReading;
    const d = record(e.data);
    const heavy = HEAVY_FIELDS.get(g) ?? [];
    const kept: Record<string, unknown> = Object.create(null);
    const fields: string[] = [];
    for (const [k, v] of Object.entries(d)) {
      if (heavy.includes(k) && Array.isArray(v)) fields.push(k);
      else kept[k] = v;
    }
    if (!fields.length) return withReading;
    const list = d[g === "input" ? "mean" : "counts"];
    return { ...withReading, data: { ...kept }, omitted: { fields, length: Array.isArray(list) ? list.length : 0 } };
  });
}

/** A class's or feature's label: its logged name, or its index. */
export function itemLabel(prefix: string, index: number, names: string[] | null): string {
  const n = names?.[index];
  return n !== undefined ? n : `${prefix} ${index}`;
}
