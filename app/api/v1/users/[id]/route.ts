import { authOf } from "@/lib/auth/request";
import { deleteUser, updateUser } from "@/lib/auth/users";
import { AppError } from "@/lib/errors";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { updateUser as updateUserSchema } from "@/lib/schemas/auth";

export const dynamic = "force-dynamic";

type Ctx = { params: Promise<{ id: string }> };

/** The account id in the path; anything else is an account that does not exist. */
async function userId(req: Request, ctx: Ctx): Promise<number> {
  if (authOf(req).mode === "local") throw new AppError("not_found", "accounts exist only in team mode (docs/team-mode.md)");
  const { id } = await ctx.params;
  if (!/^[1-9][0-9]{0,15}$/.test(id)) throw new AppError("not_found", `no user ${id.slice(0, 40)}`);
  return Number(id);
}

// PATCH /api/v1/users/[id] – { role?, disabled? } (admins only): the account as it is now: { user }; 409 last_admin for the last enabled admin
export const PATCH = handle(async (req: Request, ctx: Ctx) => {
  const id = await userId(req, ctx);
  const change = parse(updateUserSchema, await readJson(req));
  return json({ user: updateUser(id, change) });
});

// DELETE /api/v1/users/[id] – deletes an account with its sessions and API keys (admins only); its runs and links stay: 204
export const DELETE = handle(async (req: Request, ctx: Ctx) => {
  deleteUser(await userId(req, ctx));
  return new Response(null, { status: 204 });
});
