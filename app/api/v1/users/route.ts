import { authOf } from "@/lib/auth/request";
import { principalName } from "@/lib/auth/permissions";
import { createUser, listUsers } from "@/lib/auth/users";
import { AppError } from "@/lib/errors";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { createUser as createUserSchema } from "@/lib/schemas/auth";

export const dynamic = "force-dynamic";

const teamOnly = (req: Request) => {
  const a = authOf(req);
  if (a.mode === "local") throw new AppError("not_found", "accounts exist only in team mode (docs/team-mode.md)");
  return a;
};

// POST /api/v1/users – invite: a new account { name, role } (admins only): { user, password } (the one-time password, shown this once)
export const POST = handle(async (req: Request) => {
  const a = teamOnly(req);
  const { name, role } = parse(createUserSchema, await readJson(req));
  return json(await createUser(name, role, a.principal ? principalName(a.principal) : null), 201);
});

// GET /api/v1/users – every account (admins only): { users: [...] }
export const GET = handle(async (req: Request) => {
  teamOnly(req);
  return json({ users: listUsers() });
});
