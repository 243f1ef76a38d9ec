import { z } from "zod";
import { LIMITS, type Limit, NON_FINITE_STRINGS, nameProblem } from "../contract/limits";
import { exceedsDepth } from "./config";
import { statsEventProblem } from "./stats-events";
import { labelStatsProblem } from "./label-stats";

// The wire contract of POST /api/v1/runs/{id}/log (docs/api.md). Every limit comes from
// lib/contract/limits.ts; the checks shared with the hand-written hot path (parse-log-batch.ts)
// live here once, so the two cannot disagree on a key, a time or an epoch.

const NUMBER_OR_NON_FINITE = 'must be a number or one of "NaN", "Infinity", "-Infinity"';
const nonFinite = z.enum(NON_FINITE_STRINGS, { error: NUMBER_OR_NON_FINITE });
export const wireNumber = z.union([z.number(), nonFinite], { error: NUMBER_OR_NON_FINITE });

export const step = z
  .number({ error: "must be a non-negative integer" })
  .int({ error: "must be a non-negative integer" })
  .min(0, { error: "must be a non-negative integer" })
  .max(LIMITS.stepMax.value, { error: "must be at most 2^53-1" });

export const TIME_PROBLEM = `must be Unix seconds from 0 to ${LIMITS.timeMax.value} (milliseconds are refused)`;
export const EPOCH_PROBLEM = `must be a finite number from -${LIMITS.epochAbsMax.value} to ${LIMITS.epochAbsMax.value}`;

export function isTime(v: unknown): boolean {
  return typeof v === "number" && v >= 0 && v <= LIMITS.timeMax.value; // NaN fails both comparisons
}

export function isEpoch(v: unknown): boolean {
  return typeof v === "number" && Math.abs(v) <= LIMITS.epochAbsMax.value;
}

/** Why a metric key breaks the contract (empty, too long in code points, lone surrogate, control character), or null. */
export function metricKeyProblem(key: string): string | null {
  return nameProblem(key, LIMITS.keyMaxLength, "metric keys");
}

/** A string field checked like a name: the message is the reason, the path names the field. */
export function nameField(max: Limit, what: string) {
  return z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    const problem = nameProblem(s, max, what);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

const time = z.custom<number>(isTime, { error: TIME_PROBLEM });
const epoch = z.custom<number>(isEpoch, { error: EPOCH_PROBLEM });

/** A JSON object taken as sent: zod's record would rebuild it and drop a key named "__proto__". */
const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === "object" && v !== null && !Array.isArray(v), {
  error: "must be a JSON object",
});

// metric key -> value, each key checked before its value (the hot path walks them the same way)
const metrics = z.custom<Record<string, number | (typeof NON_FINITE_STRINGS)[number]>>().superRefine((m, ctx) => {
  if (typeof m !== "object" || m === null || Array.isArray(m)) {
    ctx.addIssue({ code: "custom", message: "must be an object of key -> value" });
    return;
  }
  for (const key in m) {
    const problem = metricKeyProblem(key);
    if (problem) {
      ctx.addIssue({ code: "custom", path: [key], message: problem });
      return;
    }
    if (!wireNumber.safeParse(m[key]).success) {
      ctx.addIssue({ code: "custom", path: [key], message: NUMBER_OR_NON_FINITE });
      return;
    }
  }
});

export const row = z.object({
  step,
  time: time.optional(),
  epoch: epoch.optional(),
  metrics,
});

export const histogram = z
  .object({
    step,
    key: nameField(LIMITS.keyMaxLength, "histogram keys"),
    edges: z
      .array(z.number().finite())
      .min(2)
      .max(LIMITS.histogramBins.value + 1),
    counts: z.array(z.number().finite().min(0)).min(1).max(LIMITS.histogramBins.value),
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

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/; // no alternation or nesting: linear on any input

/** Why an image event's data breaks the contract, as [field, reason], or null. */
export function imageProblem(d: Record<string, unknown>): [string, string] | null {
  if (typeof d.key !== "string") return ["key", "must be a string"];
  const keyProblem = nameProblem(d.key, LIMITS.keyMaxLength, "image keys");
  if (keyProblem) return ["key", keyProblem];
  for (const side of ["width", "height"] as const) {
    const v = d[side];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= LIMITS.imageSideMax.value)) {
      return [side, `must be an integer from 1 to ${LIMITS.imageSideMax.value} ${LIMITS.imageSideMax.unit}`];
    }
  }
  const png = d.png_base64;
  if (typeof png !== "string" || png.length % 4 !== 0 || !BASE64.test(png)) return ["png_base64", "must be base64 text"];
  const bytes = (png.length / 4) * 3 - (png.endsWith("==") ? 2 : png.endsWith("=") ? 1 : 0);
  if (bytes > LIMITS.imageBytesMax.value) return ["png_base64", `must decode to at most ${LIMITS.imageBytesMax.value} bytes`];
  // stored as is and drawn as <img src="data:image/png;base64,…">: it must be the PNG it says it is
  const head = Buffer.from(png.slice(0, 32), "base64"); // signature, IHDR length and type, width, height
  if (head.length < 24 || !head.subarray(0, 8).equals(PNG_SIGNATURE) || head.toString("latin1", 12, 16) !== "IHDR") {
    return ["png_base64", "must be a PNG image"];
  }
  const w = head.readUInt32BE(16);
  const h = head.readUInt32BE(20);
  if (w !== d.width || h !== d.height) return ["png_base64", `is a ${w}x${h} PNG, but width and height say ${d.width}x${d.height}`];
  return null;
}

export const event = z
  .object({
    type: nameField(LIMITS.eventTypeMaxLength, "event types"),
    step: step.optional().nullable(),
    time: time.optional(),
    data: jsonObject.default({}),
  })
  .superRefine((e, ctx) => {
    // stored with JSON.stringify, which recurses: a deeper object would overflow the stack
    if (exceedsDepth(e.data, LIMITS.jsonDepth.value)) {
      ctx.addIssue({ code: "custom", path: ["data"], message: `must be nested at most ${LIMITS.jsonDepth.value} levels deep` });
      return;
    }
    if (e.type === "label_stats") {
      const problem = labelStatsProblem(e.data);
      if (problem) ctx.addIssue({ code: "custom", path: ["data", ...problem[0]], message: problem[1] });
      return;
    }
    const stats = statsEventProblem(e.type, e.data);
    if (stats)
      ctx.addIssue({ code: "custom", path: ["data", ...stats[0].split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p))], message: stats[1] });
    if (e.type !== "image") return;
    const problem = imageProblem(e.data);
    if (problem) ctx.addIssue({ code: "custom", path: ["data", problem[0]], message: problem[1] });
  });

/** Why a batch naming more distinct metric keys than a run may hold is refused whole, before any work. */
export const TOO_MANY_BATCH_KEYS = `is one key too many: a batch may name at most ${LIMITS.keysPerRun.value} distinct metric keys (keysPerRun, the most one run may hold)`;

const rows = z
  .array(row)
  .max(LIMITS.rowsPerBatch.value)
  .superRefine((rs, ctx) => {
    const seen = new Set<string>();
    for (let i = 0; i < rs.length; i++) {
      const m = rs[i]?.metrics; // a row that failed its own checks is reported by them
      if (typeof m !== "object" || m === null) continue;
      for (const key of Object.keys(m)) {
        seen.add(key);
        if (seen.size > LIMITS.keysPerRun.value) {
          ctx.addIssue({ code: "custom", path: [i, "metrics", key], message: TOO_MANY_BATCH_KEYS });
          return;
        }
      }
    }
  });

export const logBatch = z.object({
  seq: step,
  rows: rows.default([]),
  histograms: z.array(histogram).max(LIMITS.histogramsPerBatch.value).default([]),
  events: z.array(event).max(LIMITS.eventsPerBatch.value).default([]),
});

export type LogBatch = z.infer<typeof logBatch>;
