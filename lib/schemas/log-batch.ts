import { z } from "zod";

// The wire contract of POST /api/v1/runs/{id}/log (docs/api.md).

export const MAX_ROWS = 10_000;
export const MAX_BINS = 1_000;

const nonFinite = z.enum(["NaN", "Infinity", "-Infinity"], {
  error: 'must be a number or one of "NaN", "Infinity", "-Infinity"',
});
export const wireNumber = z.union([z.number(), nonFinite], {
  error: 'must be a number or one of "NaN", "Infinity", "-Infinity"',
});

export const step = z
  .number({ error: "must be a non-negative integer" })
  .int({ error: "must be a non-negative integer" })
  .min(0, { error: "must be a non-negative integer" })
  .max(Number.MAX_SAFE_INTEGER, { error: "must be at most 2^53-1" });

// Keys like train/loss or act/fc1/dead_frac: 1..200 printable characters.
export const metricKey = z
  .string()
  .min(1, { error: "metric keys must not be empty" })
  .max(200, { error: "metric keys must be at most 200 characters" })
  .regex(/^[^\u0000-\u001f\u007f]+$/, { error: "metric keys must not contain control characters" });

const time = z.number({ error: "must be Unix seconds (a finite number)" }).finite().min(0);

export const row = z.object({
  step,
  time: time.optional(),
  epoch: z.number().finite().optional(),
  metrics: z.record(metricKey, wireNumber),
});

export const histogram = z
  .object({
    step,
    key: metricKey,
    edges: z.array(z.number().finite()).min(2).max(MAX_BINS + 1),
    counts: z.array(z.number().finite().min(0)).min(1).max(MAX_BINS),
    time: time.optional(),
  })
  .superRefine((h, ctx) => {
    if (h.edges.length !== h.counts.length + 1) {
      ctx.addIssue({
        code: "custom",
        path: ["edges"],
        message: `must have counts.length + 1 = ${h.counts.length + 1} entries, got ${h.edges.length}`,
      });
    }
    for (let i = 1; i < h.edges.length; i++) {
      if (h.edges[i] < h.edges[i - 1]) {
        ctx.addIssue({ code: "custom", path: ["edges", i], message: "edges must be non-decreasing" });
        break;
      }
    }
  });

export const event = z.object({
  type: z.string().min(1).max(64),
  step: step.optional().nullable(),
  time: time.optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});

export const logBatch = z.object({
  seq: step,
  rows: z.array(row).max(MAX_ROWS).default([]),
  histograms: z.array(histogram).max(1_000).default([]),
  events: z.array(event).max(1_000).default([]),
});

export type LogBatch = z.infer<typeof logBatch>;
