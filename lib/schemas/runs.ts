import { z } from "zod";
import { LIMITS, nameProblem } from "../contract/limits";
import { configProblem } from "./config";
import { step } from "./log-batch";

export const runId = z
  .string({ error: "must be a string" })
  .regex(new RegExp(`^[A-Za-z0-9_-]{1,${LIMITS.runIdMaxLength.value}}$`), {
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

const intParam = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be an integer" })
    .int({ error: "must be an integer" })
    .min(min, { error: `must be >= ${min}` })
    .max(max, { error: `must be <= ${max}` });

export const seriesQuery = z
  .object({
    key: z.string().min(1).optional(),
    keys: z.string().min(1).optional(),
    points: intParam(1, 10_000).default(1000),
    from: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
    to: intParam(0, Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((q) => q.key || q.keys, { error: "key is required", path: ["key"] });

export const listRunsQuery = z.object({
  project: z.string().min(1).optional(),
  status: z.enum(["running", "finished", "crashed", "stale"]).optional(),
  sort: z.enum(["created", "-created", "name", "-name"]).default("-created"),
  limit: intParam(1, 1000).default(200),
});

export const histogramsQuery = z.object({
  key: z.string().min(1, { error: "key is required" }),
  limit: intParam(1, 2000).default(200),
});

export { step };

export const imagesQuery = z.object({
  key: z.string().min(1, { error: "key is required" }),
  limit: intParam(1, 100).default(1),
});
