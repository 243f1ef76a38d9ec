import { z } from "zod";
import { LIMITS, codePointLength, isWellFormed, nameProblem } from "../contract/limits";
import { ACCOUNT_NAME_MAX } from "../auth/config";
import { AppError } from "../errors";
import { configProblem } from "./config";
import { step } from "./log-batch";

export const runId = z.string({ error: "must be a string" }).regex(new RegExp(`^[A-Za-z0-9_-]{1,${LIMITS.runIdMaxLength.value}}$`), {
  error: `must be 1-${LIMITS.runIdMaxLength.value} characters of A-Z a-z 0-9 _ -`,
});

/** A trimmed name: the message gives the reason, the path (project, name) names the field. */
const trimmedName = (max: (typeof LIMITS)["projectMaxLength"], what: string, missing: string) =>
  z
    .string({ error: missing })
    .trim()
    .superRefine((s, ctx) => {
      const problem = nameProblem(s, max, what);
      if (problem) ctx.addIssue({ code: "custom", message: problem.replace(`${what} `, "") });
    });

/** The config as sent (zod's record would rebuild it and drop a key named "__proto__"), within the limits. */
const config = z
  .custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
    error: "must be a JSON object",
  })
  .superRefine((c, ctx) => {
    const problem = configProblem(c);
    if (problem) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  });

/** A run's startedAt / finishedAt as sent: unix seconds within the contract's times (its sanity is lib/runs/run-times.ts). */
const runTime = z
  .number({ error: "must be a number of Unix seconds" })
  .min(0, { error: "must be Unix seconds from 0" })
  .max(LIMITS.timeMax.value, { error: `must be at most ${LIMITS.timeMax.value} (${LIMITS.timeMax.unit}; milliseconds are refused)` });

export const createRun = z.object({
  /** When the SDK's init() ran: kept for a new run when sane, else the server's clock (a resume keeps the run's start). */
  startedAt: runTime.optional(),
  project: trimmedName(LIMITS.projectMaxLength, "project names", "is required"),
  name: trimmedName(LIMITS.runNameMaxLength, "run names", "must be a string").optional(),
  config: config.optional(),
  // /api/v1/runs/bulk is a route of its own: a run with that id could not be read
  id: runId.refine((id) => id !== "bulk", { error: 'must not be "bulk" (a reserved path)' }).optional(),
});

const tag = trimmedName(LIMITS.tagMaxLength, "tags", "must be a string");

/** Plain text: any characters but C0 controls other than tab and newline (a CR LF becomes LF). */
const notes = z
  .string({ error: "must be a string" })
  .transform((s) => s.replace(/\r\n?/g, "\n"))
  .superRefine((s, ctx) => {
    const problem = notesProblem(s);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

function notesProblem(s: string): string | null {
  if (!isWellFormed(s)) return "must be well-formed Unicode (no lone surrogates)";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c <= 0x1f && c !== 0x09 && c !== 0x0a) || c === 0x7f) return "must not contain control characters other than tab and newline";
  }
  const max = LIMITS.notesMaxLength;
  if (codePointLength(s) > max.value) return `must be at most ${max.value} ${max.unit}`;
  return null;
}

/** A set of tags: duplicates (after trimming) count once; stored and answered in code point order. */
const tags = z
  .array(tag, { error: "must be an array of strings" })
  .transform((t) => [...new Set(t)].sort())
  .refine((t) => t.length <= LIMITS.tagsPerRun.value, { error: `must hold at most ${LIMITS.tagsPerRun.value} ${LIMITS.tagsPerRun.unit}` });

// PATCH /api/v1/runs/{id}: unknown fields are refused (a typo must not look like success)
export const updateRun = z
  .strictObject(
    {
      name: trimmedName(LIMITS.runNameMaxLength, "run names", "must be a string").optional(),
      archived: z.boolean({ error: "must be true or false" }).optional(),
      tags: tags.optional(),
      notes: notes.optional(),
      // a user's name: the run's new owner (administering the run: its owner or an admin)
      owner: z
        .string({ error: "must be a user's name" })
        .min(1, { error: "must be a user's name" })
        .max(ACCOUNT_NAME_MAX, { error: `must be at most ${ACCOUNT_NAME_MAX} characters (a user's name)` })
        .optional(),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys"
          ? `unknown field ${JSON.stringify(iss.keys[0])}: give name, archived, tags, notes or owner`
          : "must be a JSON object",
    },
  )
  .refine((p) => p.name !== undefined || p.archived !== undefined || p.tags !== undefined || p.notes !== undefined || p.owner !== undefined, {
    error: "give at least one of name, archived, tags, notes, owner",
  });

export const BULK_ACTIONS = ["delete", "archive", "unarchive", "tag", "untag"] as const;

// POST /api/v1/runs/bulk
export const bulkRuns = z
  .strictObject(
    {
      ids: z
        .array(runId, { error: "must be an array of run ids" })
        .min(1, { error: "must name at least one run" })
        .max(LIMITS.bulkRunsMax.value, { error: `must name at most ${LIMITS.bulkRunsMax.value} ${LIMITS.bulkRunsMax.unit}` })
        .superRefine((ids, ctx) => {
          const seen = new Set<string>();
          ids.forEach((id, i) => {
            if (seen.has(id)) ctx.addIssue({ code: "custom", path: [i], message: "is given twice; name each run once" });
            seen.add(id);
          });
        }),
      action: z.enum(BULK_ACTIONS, { error: `must be one of ${BULK_ACTIONS.join(", ")}` }),
      tag: tag.optional(),
    },
    {
      error: (iss) =>
        iss.code === "unrecognized_keys" ? `unknown field ${JSON.stringify(iss.keys[0])}: give ids, action and tag` : "must be a JSON object",
    },
  )
  .superRefine((b, ctx) => {
    const tagged = b.action === "tag" || b.action === "untag";
    if (tagged && b.tag === undefined) ctx.addIssue({ code: "custom", path: ["tag"], message: `is required with action ${b.action}` });
    if (!tagged && b.tag !== undefined)
      ctx.addIssue({ code: "custom", path: ["tag"], message: `goes with action tag or untag only, not ${b.action}` });
  });

export const finishRun = z.object({
  status: z.enum(["finished", "crashed"]).default("finished"),
  /** When the SDK's finish() ran: kept when sane and not before the run's start, else the server's clock. */
  finishedAt: runTime.optional(),
});

// Query parameters are strict: an integer is decimal digits and nothing else (no hex, exponent,
// spaces or empty value, which Number() would read as something), so that a typo is a 400 naming
// the parameter instead of another answer than the one asked for.
const DECIMAL = /^-?[0-9]+$/;

const intParam = (min: number, max: number) =>
  z
    .string({ error: "must be an integer" })
    .regex(DECIMAL, { error: "must be a decimal integer (digits only)" })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` }),
    );

/** A text parameter: given means not empty. */
const textParam = z.string({ error: "is required" }).min(1, { error: "must not be empty" });

const keysParam = textParam.transform((s, ctx) => {
  const keys = s.split(",");
  if (keys.some((k) => k === "")) {
    ctx.addIssue({ code: "custom", message: "must be keys separated by commas, with no empty entry" });
    return z.NEVER;
  }
  const max = LIMITS.seriesKeysPerRequest;
  if (keys.length > max.value) {
    ctx.addIssue({ code: "custom", message: `must name at most ${max.value} ${max.unit} per request, got ${keys.length}` });
    return z.NEVER;
  }
  return keys;
});

export const seriesQuery = z
  .object({
    key: textParam.optional(),
    keys: keysParam.optional(),
    points: intParam(1, 10_000).default(1000),
    from: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
    to: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.key === undefined && q.keys === undefined) ctx.addIssue({ code: "custom", path: ["key"], message: "(or keys) is required" });
    else if (q.key !== undefined && q.keys !== undefined)
      ctx.addIssue({ code: "custom", path: ["keys"], message: "cannot be given with key: give one of them" });
    else if (q.from !== undefined && q.to !== undefined && q.from > q.to) {
      ctx.addIssue({ code: "custom", path: ["from"], message: `must be <= to (got from=${q.from}, to=${q.to})` });
    }
  });

/** A user text in the runs list's query (search, tag, key, value): a name by the contract's rules. */
const filterText = (what: string) =>
  textParam.superRefine((s, ctx) => {
    const problem = nameProblem(s, LIMITS.runFilterMaxLength, what);
    if (problem) ctx.addIssue({ code: "custom", message: problem.replace(`${what} `, "") });
  });

/** A JSON array of keys (`["lr","batch size"]`): any key, commas and all, stays one key. */
const keyList = (what: string) =>
  textParam.transform((s, ctx) => {
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      v = undefined;
    }
    const max = LIMITS.runListColumnsMax;
    if (!Array.isArray(v) || v.some((k) => typeof k !== "string" || nameProblem(k, LIMITS.runFilterMaxLength, what) !== null)) {
      ctx.addIssue({
        code: "custom",
        message: `must be a JSON array of ${what} (each 1-${LIMITS.runFilterMaxLength.value} ${LIMITS.runFilterMaxLength.unit})`,
      });
      return z.NEVER;
    }
    if (v.length > max.value) {
      ctx.addIssue({ code: "custom", message: `must name at most ${max.value} ${max.unit}, got ${v.length}` });
      return z.NEVER;
    }
    return [...new Set(v as string[])];
  });

export const RUN_SORTS = ["created", "-created", "name", "-name", "config", "-config", "metric", "-metric"] as const;

// Config filters (config.<key>=...) are taken out of the query before this schema (list-runs.ts).
export const listRunsQuery = z
  .object({
    project: textParam.optional(),
    status: z.enum(["running", "finished", "crashed", "stale"]).optional(),
    q: filterText("the search text").optional(),
    tag: filterText("the tag").optional(),
    owner: filterText("the owner").optional(),
    // a sweep's id (lib/sweeps): its trials
    sweep: runId.optional(),
    archived: z.enum(["false", "true", "all"], { error: "must be false (the default), true or all" }).default("false"),
    sort: z.enum(RUN_SORTS, { error: `must be one of ${RUN_SORTS.join(", ")}` }).default("-created"),
    sortKey: filterText("the sort key").optional(),
    sortAgg: z.enum(["last", "min", "max"], { error: "must be last, min or max" }).default("last"),
    keys: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
    configColumns: keyList("config keys").optional(),
    metricColumns: keyList("metric keys").optional(),
    limit: intParam(1, 1000).default(200),
    offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0),
  })
  .superRefine((q, ctx) => {
    const keyed = q.sort.endsWith("config") || q.sort.endsWith("metric");
    if (keyed && q.sortKey === undefined) ctx.addIssue({ code: "custom", path: ["sortKey"], message: `is required with sort=${q.sort}` });
    if (!keyed && q.sortKey !== undefined) ctx.addIssue({ code: "custom", path: ["sortKey"], message: "goes with sort=config or sort=metric only" });
  });

/** The runs list's own parameters (config.<key> and metric.<key> filters aside). */
const LIST_PARAMS: ReadonlySet<string> = new Set(Object.keys(listRunsQuery.shape));

export const histogramsQuery = z.object({
  key: textParam,
  limit: intParam(1, 2000).default(200),
});

export { step };

export const imagesQuery = z.object({
  key: textParam,
  limit: intParam(1, 100).default(1),
});

/** A JSON number as the query may give one (no hex, no Infinity, no spaces). */
const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

export type ConfigFilterValue =
  | { kind: "number"; value: number }
  | { kind: "text"; value: string }
  | { kind: "literal"; value: "true" | "false" | "null" }
  | { kind: "range"; min?: number; max?: number };

/**
 * Takes the config.<key>=<value> filters out of a runs-list query (what is left goes to
 * listRunsQuery). The key after "config." is one top-level config key, taken literally. A value is
 * a number (equal to it), `lo..hi` (an inclusive range; either side may be left out), true, false,
 * null, a JSON string ("0.1" in quotes: the text 0.1), or any other text (equal to it).
 */
export function splitConfigFilters(query: Record<string, string>): {
  rest: Record<string, string>;
  config: Map<string, ConfigFilterValue>;
  metric: MetricFilter[];
} {
  const rest: Record<string, string> = Object.create(null);
  const config = new Map<string, ConfigFilterValue>();
  const metric: MetricFilter[] = [];
  const bad = (name: string, why: string) => new AppError("invalid_query", `${JSON.stringify(name.slice(0, 100))} ${why}`);
  for (const name of Object.keys(query)) {
    if (name.startsWith("metric.")) {
      const max = LIMITS.runMetricFiltersMax;
      if (metric.length >= max.value) throw bad(name, `is one metric filter too many: at most ${max.value} ${max.unit} per query`);
      metric.push(metricFilter(name, query[name], (why) => bad(name, why)));
      continue;
    }
    if (!name.startsWith("config.")) {
      // a parameter the list does not know is refused, never ignored: ignoring it answered a
      // misspelt filter (minValue=1, metric filters before they existed) with every run
      if (!LIST_PARAMS.has(name)) {
        throw bad(name, `is not a runs-list parameter; known: ${[...LIST_PARAMS].join(", ")}, config.<key>, metric.<key> (docs/api.md)`);
      }
      rest[name] = query[name];
      continue;
    }
    const key = name.slice("config.".length);
    const keyProblem = nameProblem(key, LIMITS.runFilterMaxLength, "the config key");
    if (keyProblem) throw bad(name, `names no usable config key: ${keyProblem}`);
    const raw = query[name];
    const valueProblem = nameProblem(raw, LIMITS.runFilterMaxLength, "the value");
    if (valueProblem) throw bad(name, valueProblem.replace("the value ", "must have a value that "));
    const max = LIMITS.runConfigFiltersMax;
    if (config.size >= max.value) throw bad(name, `is one config filter too many: at most ${max.value} ${max.unit} per query`);
    config.set(
      key,
      configFilterValue(raw, (why) => bad(name, why)),
    );
  }
  return { rest, config, metric };
}

/** One metric filter: runs whose `agg` value of `key` lies in [min, max] (an open side: undefined). */
export interface MetricFilter {
  key: string;
  agg: "last" | "min" | "max";
  min?: number;
  max?: number;
}

const METRIC_AGGS = ["last", "min", "max"] as const;

/**
 * `metric.<key>=<lo>..<hi>` (the last value), `metric.<key>:max=` / `:min=` / `:last=` (the sortAgg
 * names); a plain number is an equal range. One trailing `:last`, `:min` or `:max` is the summary,
 * the rest the key, taken literally: a key that itself ends in `:max` is `metric.<key>:max:last`.
 */
function metricFilter(name: string, raw: string, bad: (why: string) => AppError): MetricFilter {
  let key = name.slice("metric.".length);
  let agg: MetricFilter["agg"] = "last";
  for (const a of METRIC_AGGS) {
    if (key.endsWith(`:${a}`)) {
      key = key.slice(0, -(a.length + 1));
      agg = a;
      break;
    }
  }
  const keyProblem = nameProblem(key, LIMITS.runFilterMaxLength, "the metric key");
  if (keyProblem) throw bad(`names no usable metric key: ${keyProblem}`);
  const valueProblem = nameProblem(raw, LIMITS.runFilterMaxLength, "the value");
  if (valueProblem) throw bad(valueProblem.replace("the value ", "must have a value that "));
  const v = raw.includes("..") || JSON_NUMBER.test(raw) ? configFilterValue(raw, bad) : null;
  if (v?.kind === "number") return { key, agg, min: v.value, max: v.value };
  if (v?.kind === "range") return { key, agg, min: v.min, max: v.max };
  throw bad("must be a range of numbers like 0.9..1, 0.9.. or ..0.1 (or one number)");
}

function configFilterValue(raw: string, bad: (why: string) => AppError): ConfigFilterValue {
  if (raw === "true" || raw === "false" || raw === "null") return { kind: "literal", value: raw };
  if (JSON_NUMBER.test(raw)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) throw bad("must be a number a double can hold");
    return { kind: "number", value };
  }
  if (raw.startsWith('"')) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw bad('must be a whole JSON string when it starts with a quote, e.g. "0.1"');
    }
    return { kind: "text", value: v as string };
  }
  const dots = raw.indexOf("..");
  if (dots >= 0) {
    const lo = raw.slice(0, dots);
    const hi = raw.slice(dots + 2);
    const side = (s: string) => (s === "" ? undefined : JSON_NUMBER.test(s) && Number.isFinite(Number(s)) ? Number(s) : null);
    const min = side(lo);
    const max = side(hi);
    if (min === null || max === null || (min === undefined && max === undefined)) {
      throw bad('must be a range of numbers like 0.001..0.1, 0.01.. or ..0.1 (or quote a text with "..")');
    }
    if (min !== undefined && max !== undefined && min > max) throw bad(`must be a range from low to high (got ${lo}..${hi})`);
    return { kind: "range", min, max };
  }
  return { kind: "text", value: raw };
}
