import { z } from "zod";
import { LIMITS, nameProblem } from "../contract/limits";
import { AppError } from "../errors";
import { DEFAULT_EARLY_STOP } from "../sweeps/analysis";
import type { EarlyStop, Objective } from "../sweeps/types";
import { runId } from "./runs";

// The sweeps API's request shapes (docs/api.md "Sweeps"). A space is checked by validateSpace
// (lib/sweeps/sampler.ts), not here: its names are user data, which zod's records would rebuild
// into plain objects.

const name = (max: (typeof LIMITS)["sweepNameMaxLength"], what: string, missing: string) =>
  z
    .string({ error: missing })
    .trim()
    .superRefine((s, ctx) => {
      const problem = nameProblem(s, max, what);
      if (problem) ctx.addIssue({ code: "custom", message: problem.replace(`${what} `, "") });
    });

export const sweepName = name(LIMITS.sweepNameMaxLength, "sweep names", "must be a string");

const int = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be ${what}` })
    .int({ error: `must be ${what}` })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` });

export const objective = z.strictObject(
  {
    metric: z.string({ error: "must be a metric key" }).superRefine((s, ctx) => {
      const problem = nameProblem(s, LIMITS.keyMaxLength, "metric keys");
      if (problem) ctx.addIssue({ code: "custom", message: problem.replace("metric keys ", "") });
    }),
    goal: z.enum(["max", "min"], { error: "must be max or min" }),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys" ? `unknown field ${JSON.stringify(iss.keys[0])}: give metric and goal` : "must be {metric, goal}",
  },
) satisfies z.ZodType<Objective>;

export { DEFAULT_EARLY_STOP };

export const earlyStop = z.strictObject(
  {
    rule: z.enum(["median", "none"], { error: "must be median or none" }).default(DEFAULT_EARLY_STOP.rule),
    minTrials: int(1, LIMITS.sweepTrialsMax.value, "an integer").default(DEFAULT_EARLY_STOP.minTrials),
    warmupSteps: int(0, Number.MAX_SAFE_INTEGER, "a step (an integer)").default(DEFAULT_EARLY_STOP.warmupSteps),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `unknown field ${JSON.stringify(iss.keys[0])}: give rule, minTrials and warmupSteps`
        : "must be a JSON object",
  },
) satisfies z.ZodType<EarlyStop>;

// POST /api/v1/sweeps
export const createSweep = z.strictObject(
  {
    project: name(LIMITS.projectMaxLength, "project names", "is required"),
    name: name(LIMITS.sweepNameMaxLength, "sweep names", "is required"),
    space: z.unknown().optional(),
    objective: objective.optional(),
    seed: int(0, 2 ** 32 - 1, "an integer from 0 to 2^32-1").optional(),
    budget: int(1, LIMITS.sweepBudgetMax.value, "a number of trials (an integer)").optional(),
    earlyStop: earlyStop.optional(),
    parent: runId.optional(),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `unknown field ${JSON.stringify(iss.keys[0])}: give project, name, space, objective, seed, budget, earlyStop, parent`
        : "must be a JSON object",
  },
);
export type CreateSweepBody = z.infer<typeof createSweep>;

// POST /api/v1/sweeps/{id}/trials: nothing to say (an empty object or no body)
export const claimTrial = z.strictObject(
  {},
  { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field ${JSON.stringify(iss.keys[0])}: send {}` : "must be a JSON object") },
);

// POST /api/v1/sweeps/{id}/refine
export const refineSweep = z.strictObject(
  {
    top: int(1, LIMITS.sweepTrialsMax.value, "a number of trials (an integer)").default(3),
    name: sweepName.optional(),
    budget: int(1, LIMITS.sweepBudgetMax.value, "a number of trials (an integer)").optional(),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys" ? `unknown field ${JSON.stringify(iss.keys[0])}: give top, name and budget` : "must be a JSON object",
  },
);

// GET /api/v1/sweeps
/** An integer query parameter: decimal digits only, so a typo is a 400 naming it. */
const intQuery = (min: number, max: number) =>
  z
    .string({ error: "must be an integer" })
    .regex(/^-?[0-9]+$/, { error: "must be a decimal integer (digits only)" })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: `must be >= ${min}` })
        .max(max, { error: `must be <= ${max}` }),
    );

export const SWEEP_LIST_DEFAULT = 100;

/** The list's page cursor: where the previous page stopped (newest first: created_at, then rowid), opaque to clients. */
export interface SweepCursor {
  createdAt: number;
  rowid: number;
}

export const encodeSweepCursor = (c: SweepCursor) => Buffer.from(JSON.stringify([c.createdAt, c.rowid])).toString("base64url");

const cursor = z.string({ error: "must be a cursor" }).transform((s, ctx): SweepCursor => {
  let v: unknown = null;
  try {
    v = /^[A-Za-z0-9_-]{1,200}$/.test(s) ? JSON.parse(Buffer.from(s, "base64url").toString("utf8")) : null;
  } catch {}
  if (Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && Number.isSafeInteger(v[1])) return { createdAt: v[0], rowid: v[1] };
  ctx.addIssue({ code: "custom", message: "is not a cursor this list gave (pass nextCursor as it came)" });
  return z.NEVER;
});

export const listSweepsQuery = z.strictObject(
  {
    project: z.string({ error: "is required" }).min(1, { error: "must not be empty" }).optional(),
    limit: intQuery(1, LIMITS.sweepListMax.value).default(SWEEP_LIST_DEFAULT),
    cursor: cursor.optional(),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys" ? `${JSON.stringify(iss.keys[0])} is not a sweeps-list parameter; known: project, limit, cursor` : "bad query",
  },
);

/** A run's config.sweep as sent: which sweep (by name, in the run's project) the run is a trial of. */
export interface SweepLink {
  name: string;
  trial: number | null;
  /** as sent; validateSpace checks it */
  space: unknown;
}

const sweepLink = z.strictObject(
  {
    id: sweepName,
    trial: int(0, LIMITS.sweepBudgetMax.value, "a trial index (an integer)").optional(),
    space: z.unknown().optional(),
  },
  {
    error: (iss) =>
      iss.code === "unrecognized_keys"
        ? `unknown field ${JSON.stringify(iss.keys[0])}: config.sweep holds id (the sweep's name), trial and space`
        : 'must be {"id": "<sweep name>", "trial"?: <index>, "space"?: {...}}',
  },
);

/** config.sweep of a run being created, or null when the config names no sweep; a malformed one is a 400. */
export function sweepLinkOf(config: Record<string, unknown> | undefined): SweepLink | null {
  if (config === undefined || !Object.hasOwn(config, "sweep")) return null;
  const r = sweepLink.safeParse(config.sweep);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = ["config", "sweep", ...issue.path.map(String)].join(".");
    throw new AppError("invalid_body", `${where} ${issue.message}`);
  }
  return { name: r.data.id, trial: r.data.trial ?? null, space: r.data.space };
}
