import type { ParamImportance, ParamSpec, Scalar, Space } from "../sweeps/types";
import type { WireNumber } from "../values";
import type { Alert } from "./api-types";
import { formatValue } from "./format";

// The sweep page's reading of GET /api/v1/sweeps/{id} (docs/api.md, "Sweeps"): pure functions, so
// that the table's order, the charts' scales and the snippet are tested without a browser.
// Parameter names are user data: they index Maps and null-prototype records, and are shown as text.

export interface SweepTrialView {
  runId: string;
  name: string;
  index: number | null;
  status: string;
  params: Record<string, Scalar>;
  /** NaN and ±Infinity come as the wire strings (lib/values.ts): shown as such, never as 0 */
  objective: WireNumber | null;
  /** the objective as logged: a trial whose metric logged NaN/±Infinity has objective null (it
   *  failed: diverged) and that value here, as a wire string */
  objectiveRaw?: WireNumber | null;
  failed: boolean;
  failure: string | null;
  alerts: string[];
  curve: Array<[number, WireNumber]>;
  startedAt: number | null;
  finishedAt: number | null;
  durationS: number | null;
  /** stopped early: should-stop told the trial to stop (the median rule, or diverged); its status stays the run's own */
  pruned?: boolean;
  prune?: { rule: string; reason: string; step: number | null; at: number } | null;
}

export interface SweepLink {
  id: string;
  name: string;
  stage: number;
}

export interface SweepDetailView {
  id: string;
  name: string;
  project: string;
  space: Space;
  inferred: boolean;
  objective: { metric: string; goal: "max" | "min"; declared: boolean };
  seed: number;
  budget: number | null;
  stage: number;
  parentId: string | null;
  children: SweepLink[];
  createdAt: number;
  trials: SweepTrialView[];
  best: string[];
  importance: ParamImportance[];
  suggestion: Space | null;
  /** the sweep's alerts, as GET /api/v1/sweeps/{id}/alerts lists them */
  alerts?: Alert[];
}

export interface SweepListItem {
  id: string;
  name: string;
  project: string;
  stage: number;
  parentId: string | null;
  trials: number;
  running?: number;
  failed?: number;
  best: { runId: string; value: WireNumber } | null;
  objective?: { metric: string; goal: string } | null;
  createdAt: number;
  updatedAt?: number;
}

export type SweepAlertView = Alert;

export type Distribution = Exclude<ParamSpec, Scalar>;

export function isDistribution(spec: ParamSpec | undefined): spec is Distribution {
  return typeof spec === "object" && spec !== null && "distribution" in spec;
}

/** The space's parameter names in its own order, then any other parameter a trial carries. */
export function paramNames(sweep: Pick<SweepDetailView, "space" | "trials">): string[] {
  const names = new Set(Object.keys(sweep.space ?? {}));
  for (const t of sweep.trials) for (const k of Object.keys(t.params)) names.add(k);
  return [...names];
}

/**
 * The parameters the search varies: those the space draws from a distribution, or (no declared
 * space, or a parameter the space does not name) whose trials hold two values or more. A fixed
 * value ("epochs": 3) has one column in the trials table but no chart or parallel axis: a single
 * dot column says nothing.
 */
export function searchedNames(sweep: Pick<SweepDetailView, "space" | "trials">): string[] {
  return paramNames(sweep).filter((name) => {
    const spec = specOf(sweep.space, name);
    // a choice of one value (refine keeps the only value the best trials used) is fixed too
    if (spec !== undefined) return spec !== null && typeof spec === "object" && (spec.distribution !== "choice" || spec.values.length > 1);
    const seen = new Set<string>();
    for (const t of sweep.trials) if (Object.hasOwn(t.params, name)) seen.add(JSON.stringify(t.params[name]));
    return seen.size > 1;
  });
}

/** The value of `name` in a trial's params (undefined when the trial has none). */
export function paramOf(t: SweepTrialView, name: string): Scalar | undefined {
  return Object.hasOwn(t.params, name) ? t.params[name] : undefined;
}

export function specOf(space: Space | null | undefined, name: string): ParamSpec | undefined {
  return space && Object.hasOwn(space, name) ? space[name] : undefined;
}

/** What the trials table shows for a trial's objective: the value, else the non-finite value it
 *  logged ("NaN", "+Inf": a diverged trial shows what it logged), else "" for a failure or "–". */
export function objectiveText(t: Pick<SweepTrialView, "objective" | "objectiveRaw" | "failed">): string {
  if (t.objective !== null) return formatValue(t.objective);
  const raw = t.objectiveRaw ?? null;
  if (raw !== null) return formatValue(raw);
  return t.failed ? "" : "–";
}

/** A numeric objective value (NaN/±Inf decoded), null for none. */
export function objectiveNumber(v: WireNumber | null): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  return v === "NaN" ? NaN : v === "Infinity" ? Infinity : -Infinity;
}

/** How a parameter is drawn: log (log_uniform, or positive values spanning 2+ decades), linear, or categories. */
export type ParamScale = "log" | "linear" | "category";

export function paramScale(spec: ParamSpec | undefined, values: Scalar[]): ParamScale {
  if (isDistribution(spec)) {
    if (spec.distribution === "log_uniform") return "log";
    if (spec.distribution === "choice") return spec.values.every((v) => typeof v === "number") ? inferScale(spec.values as number[]) : "category";
    return "linear";
  }
  const present = values.filter((v) => v !== null && v !== undefined);
  if (!present.length || !present.every((v) => typeof v === "number" && Number.isFinite(v))) return "category";
  return inferScale(present as number[]);
}

// a scale parameter searched without a declared space: positive values over two decades or more
function inferScale(vs: number[]): ParamScale {
  if (!vs.length) return "linear";
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  return lo > 0 && hi / lo >= 100 ? "log" : "linear";
}

/** The searched range of a numeric parameter: the space's bounds, else the trials' extent. */
export function paramRange(spec: ParamSpec | undefined, values: Scalar[]): { low: number; high: number } | null {
  if (isDistribution(spec) && spec.distribution !== "choice") return { low: spec.low, high: spec.high };
  const nums = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (!nums.length) return null;
  return { low: Math.min(...nums), high: Math.max(...nums) };
}

/** Categories of a choice parameter: the space's values, then any other value trials used, as text. */
export function categories(spec: ParamSpec | undefined, values: Scalar[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (v: Scalar) => {
    const s = scalarText(v);
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  };
  if (isDistribution(spec) && spec.distribution === "choice") spec.values.forEach(add);
  values.filter((v) => v !== undefined).forEach(add);
  return out;
}

export function scalarText(v: Scalar | undefined): string {
  if (v === undefined) return "";
  if (v === null) return "null";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : String(v);
  return String(v);
}

export type TrialSortKey = { kind: "index" | "name" | "status" | "objective" | "alerts" | "duration" } | { kind: "param"; name: string };

/**
 * The table's order. Objective "best first" follows the goal; missing and non-finite objectives
 * sort after every number whatever the direction (they are failures, not extremes).
 */
export function sortTrials(trials: SweepTrialView[], key: TrialSortKey, desc: boolean, goal: "max" | "min"): SweepTrialView[] {
  const sign = desc ? -1 : 1;
  const cmp = (a: SweepTrialView, b: SweepTrialView): number => {
    switch (key.kind) {
      case "index":
        return nullsLast(a.index, b.index, sign);
      case "name":
        return sign * a.name.localeCompare(b.name);
      case "status":
        return sign * a.status.localeCompare(b.status);
      case "alerts":
        return sign * (a.alerts.length - b.alerts.length);
      case "duration":
        return nullsLast(a.durationS, b.durationS, sign);
      case "objective": {
        const fa = finiteOrNull(objectiveNumber(a.objective));
        const fb = finiteOrNull(objectiveNumber(b.objective));
        // "best first" is the natural reading: asc means best first
        return nullsLast(fa, fb, goal === "max" ? -sign : sign);
      }
      case "param": {
        const va = paramOf(a, key.name);
        const vb = paramOf(b, key.name);
        if (typeof va === "number" && typeof vb === "number") return nullsLast(finiteOrNull(va), finiteOrNull(vb), sign);
        if (va === undefined || vb === undefined) return va === vb ? 0 : va === undefined ? 1 : -1;
        return sign * scalarText(va).localeCompare(scalarText(vb));
      }
    }
  };
  return [...trials].sort((a, b) => cmp(a, b) || (a.index ?? Infinity) - (b.index ?? Infinity) || a.runId.localeCompare(b.runId));
}

const finiteOrNull = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);

function nullsLast(a: number | null, b: number | null, sign: number): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return sign * (a - b);
}

/** Python's spelling of a scalar (names and strings as string literals: JSON's escapes are Python's). */
export function pythonLiteral(v: Scalar): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : v > 0 ? 'float("inf")' : v < 0 ? 'float("-inf")' : 'float("nan")';
  return JSON.stringify(v);
}

function pythonSpec(spec: ParamSpec): string {
  if (!isDistribution(spec)) return pythonLiteral(spec);
  switch (spec.distribution) {
    case "log_uniform":
      return `babysit.log_uniform(${pythonLiteral(spec.low)}, ${pythonLiteral(spec.high)})`;
    case "uniform":
      return `babysit.uniform(${pythonLiteral(spec.low)}, ${pythonLiteral(spec.high)})`;
    case "int_uniform":
      return `babysit.int_uniform(${pythonLiteral(spec.low)}, ${pythonLiteral(spec.high)})`;
    case "choice":
      return `babysit.choice([${spec.values.map(pythonLiteral).join(", ")}])`;
  }
}

/** The next stage as Python: a babysit.sweep(...) call with the suggested space, and its loop. */
/** `name`: the sweep the snippet joins, by default the next stage of `sweep` (`<name>-s<stage + 1>`, its
 *  parent `sweep`); the sweep itself when `name` is its own (an empty stage: the snippet that runs it). */
export function suggestionSnippet(
  sweep: Pick<SweepDetailView, "id" | "project" | "name" | "stage" | "objective" | "parentId">,
  space: Space,
  trials = 20,
  name = `${sweep.name}-s${sweep.stage + 1}`,
): string {
  const entries = Object.keys(space).map((k) => `        ${JSON.stringify(k)}: ${pythonSpec(space[k])},`);
  return [
    "import babysit",
    "",
    "sweep = babysit.sweep(",
    `    project=${JSON.stringify(sweep.project)},`,
    `    name=${JSON.stringify(name)},`,
    // the parent makes the new sweep this one's next stage (the server sets its stage), linked on both pages
    ...(name === sweep.name
      ? sweep.parentId
        ? [`    parent=${JSON.stringify(sweep.parentId)},  # stage ${sweep.stage} of the search`]
        : []
      : [`    parent=${JSON.stringify(sweep.id)},  # this sweep: the new one is its stage ${sweep.stage + 1}`]),
    "    space={",
    ...entries,
    "    },",
    `    objective=${JSON.stringify(sweep.objective.metric)},`,
    `    goal=${JSON.stringify(sweep.objective.goal)},`,
    ")",
    `for trial in sweep.trials(${trials}):`,
    "    run = trial.init()",
    "    ...  # train with trial.config, log the objective",
    "    run.finish()",
    "",
  ].join("\n");
}

/** A space entry in words: "log-uniform 1e-4 … 0.1", "one of relu, tanh", "fixed 32". */
export function specText(spec: ParamSpec | undefined, fmt: (v: number) => string): string {
  if (spec === undefined) return "";
  if (!isDistribution(spec)) return `fixed ${scalarText(spec)}`;
  switch (spec.distribution) {
    case "log_uniform":
      return `log-uniform ${fmt(spec.low)} … ${fmt(spec.high)}`;
    case "uniform":
      return `uniform ${fmt(spec.low)} … ${fmt(spec.high)}`;
    case "int_uniform":
      return `integer ${fmt(spec.low)} … ${fmt(spec.high)}`;
    case "choice":
      return `one of ${spec.values.map(scalarText).join(", ")}`;
  }
}

/**
 * The coarse-to-fine chain this sweep belongs to: its ancestors from the first stage, itself,
 * then its descendants (each stage's children), from the project's sweep list.
 */
export function stageChain(self: Pick<SweepDetailView, "id" | "name" | "stage" | "parentId" | "children">, all: SweepListItem[]): SweepLink[][] {
  const byId = new Map(all.map((s) => [s.id, s]));
  const ancestors: SweepLink[] = [];
  const seen = new Set([self.id]);
  let p = self.parentId;
  while (p && !seen.has(p)) {
    seen.add(p);
    const s = byId.get(p);
    if (!s) {
      ancestors.unshift({ id: p, name: p, stage: ancestors.length ? ancestors[0].stage - 1 : self.stage - 1 });
      break;
    }
    ancestors.unshift({ id: s.id, name: s.name, stage: s.stage });
    p = s.parentId;
  }
  const stages: SweepLink[][] = ancestors.map((a) => [a]);
  stages.push([{ id: self.id, name: self.name, stage: self.stage }]);
  let level: SweepLink[] = self.children;
  while (level.length) {
    const fresh = level.filter((c) => !seen.has(c.id));
    if (!fresh.length) break;
    for (const c of fresh) seen.add(c.id);
    stages.push(fresh);
    const ids = new Set(fresh.map((c) => c.id));
    level = all.filter((s) => s.parentId !== null && ids.has(s.parentId)).map((s) => ({ id: s.id, name: s.name, stage: s.stage }));
  }
  return stages;
}

/** Position of a value on a parallel-coordinates axis, 0 (bottom) … 1 (top); null when it has none. */
export function axisPosition(v: Scalar | undefined, scale: ParamScale, range: { low: number; high: number } | null, cats: string[]): number | null {
  if (v === undefined) return null;
  if (scale === "category") {
    const i = cats.indexOf(scalarText(v));
    if (i < 0) return null;
    return cats.length === 1 ? 0.5 : i / (cats.length - 1);
  }
  if (typeof v !== "number" || !Number.isFinite(v) || !range) return null;
  const f = scale === "log" ? Math.log : (x: number) => x;
  if (scale === "log" && (v <= 0 || range.low <= 0)) return null;
  const lo = f(range.low);
  const hi = f(range.high);
  if (hi === lo) return 0.5;
  return Math.min(1, Math.max(0, (f(v) - lo) / (hi - lo)));
}
