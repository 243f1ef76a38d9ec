import { z } from "zod";
import { LIMITS, codePointLength, isWellFormed } from "../contract/limits";
import { TIME_PROBLEM, isTime } from "./log-batch";

// POST /api/v1/runs/{id}/logs: a batch of console lines, each numbered by the sender (`babysit run`
// counts its child's lines from 0), so that a batch sent twice stores every line once.

export const logLine = z.strictObject({
  n: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  stream: z.enum(["stdout", "stderr"]),
  text: z
    .string()
    .refine(isWellFormed, "must be well-formed Unicode (no lone surrogates)")
    .refine((s) => codePointLength(s) <= LIMITS.runLogLineMaxLength.value, `must be at most ${LIMITS.runLogLineMaxLength.value} code points`),
  /** Unix seconds when the line was printed; absent: when the server stores it. As every time of the API: milliseconds are refused. */
  time: z.custom<number>(isTime, { error: TIME_PROBLEM }).optional(),
});

export const logLinesBatch = z.strictObject({
  lines: z.array(logLine).min(1).max(LIMITS.runLogLinesPerBatch.value),
});

export type LogLineIn = z.infer<typeof logLine>;
