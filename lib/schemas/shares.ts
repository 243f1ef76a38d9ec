import { z } from "zod";
import { DEFAULT_SHARE_EXPIRY, SHARE_EXPIRIES } from "../contract/shares";

const choices = [...SHARE_EXPIRIES.keys()];

/** POST /api/v1/runs/{id}/shares: `expiresIn` is one of the contract's choices (default 7 days). */
export const createShare = z.object({
  expiresIn: z
    .string({ error: `must be one of ${choices.join(", ")}` })
    .refine((v) => SHARE_EXPIRIES.has(v), { error: `must be one of ${choices.join(", ")}` })
    .default(DEFAULT_SHARE_EXPIRY),
});
