import { z } from "zod";
import { step } from "./log-batch";

export const runId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: "must be 1-64 characters of A-Z a-z 0-9 _ -" });

export const createRun = z.object({
  project: z.string().trim().min(1, { error: "is required" }).max(100),
  name: z.string().trim().min(1).max(200).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
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
