import { z } from "zod";
import { LIMITS, nameProblem } from "../contract/limits";
import { ACCOUNT_NAME_MAX, KEY_DEFAULT_EXPIRY_DAYS, KEY_EXPIRY_DAYS_MAX, KEY_NAME_MAX, KEY_PROJECTS_MAX, PASSWORD_MAX } from "../auth/config";
import { passwordProblem, userNameProblem } from "../auth/users";

// Bodies of team mode's routes (lib/auth/routes.ts).

/** POST /api/v1/auth/login: a wrong name and a wrong password get the same answer, so only lengths are checked here. */
export const login = z.object({
  name: z
    .string()
    .min(1)
    .max(ACCOUNT_NAME_MAX * 4),
  password: z
    .string()
    .min(1)
    .max(PASSWORD_MAX * 4),
});

const newPassword = z.string().superRefine((v, ctx) => {
  const p = passwordProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p.replace(/^password /, "") });
});

/** POST /api/v1/auth/password */
export const changePassword = z.object({ current: z.string().max(PASSWORD_MAX * 4), password: newPassword });

/** POST /api/v1/users: an invite; the answer carries the new account's one-time password. */
export const createUser = z.object({
  name: z.string().superRefine((v, ctx) => {
    const p = userNameProblem(v);
    if (p) ctx.addIssue({ code: "custom", message: p.replace(/^name /, "") });
  }),
  role: z.enum(["admin", "member"]).default("member"),
});

/** PATCH /api/v1/users/[id]: an admin's change to an account; at least one field, nothing else. */
export const updateUser = z
  .strictObject({
    role: z.enum(["admin", "member"]).optional(),
    disabled: z.boolean().optional(),
  })
  .refine((c) => c.role !== undefined || c.disabled !== undefined, { message: "give role and/or disabled" });

const projectName = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const p = nameProblem(v, LIMITS.projectMaxLength, "project names");
    if (p) ctx.addIssue({ code: "custom", message: p });
  });

/** POST /api/v1/keys */
export const createKey = z
  .object({
    name: z.string().min(1).max(KEY_NAME_MAX),
    access: z.enum(["read", "write"]).default("write"),
    /** Projects a write key may write to; absent or null: every project. */
    projects: z.array(projectName).min(1).max(KEY_PROJECTS_MAX).nullable().default(null),
    /** Days until the key stops working; absent: KEY_DEFAULT_EXPIRY_DAYS (as the dashboard's form); null: never. */
    expiresInDays: z.number().int().min(1).max(KEY_EXPIRY_DAYS_MAX).nullable().default(KEY_DEFAULT_EXPIRY_DAYS),
  })
  .refine((k) => !(k.access === "read" && k.projects !== null), {
    message: "projects limits what a write key writes; a read key takes none",
    path: ["projects"],
  });
