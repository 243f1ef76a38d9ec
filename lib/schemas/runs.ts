import { z } from "zod";
import { LIMITS, nameProblem } from "../contract/limits";
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

export const createRun = z.object({
  project: trimmedName(LIMITS.projectMaxLength, "project names", "is required"),
  name: trimmedName(LIMITS.runNameMaxLength, "run names", "must be a string").optional(),
  config: config.optional(),
  id: runId.optional(),
});

export const finishRun = z.object({
  status: z.enum(["finished", "crashed"]).default("finished"),
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

export const listRunsQuery = z.object({
  project: textParam.optional(),
  status: z.enum(["running", "finished", "crashed", "stale"]).optional(),
  sort: z.enum(["created", "-created", "name", "-name"]).default("-created"),
  limit: intParam(1, 1000).default(200),
});

export const histogramsQuery = z.object({
  key: textParam,
  limit: intParam(1, 2000).default(200),
});

export { step };

export const imagesQuery = z.object({
  key: textParam,
  limit: intParam(1, 100).default(1),
});
