import { userOf } from "@/lib/auth/request";
import { verifyPassword } from "@/lib/auth/passwords";
import { findUser, setPassword } from "@/lib/auth/users";
import { AppError } from "@/lib/errors";
import { handle, parse, readJson } from "@/lib/http/handler";
import { changePassword } from "@/lib/schemas/auth";

export const dynamic = "force-dynamic";

// POST /api/v1/auth/password – { current, password }: a new password; every session of the user ends (log in again): 204
export const POST = handle(async (req: Request) => {
  const me = userOf(req);
  const { current, password } = parse(changePassword, await readJson(req));
  const u = findUser(me.name);
  if (!u || !(await verifyPassword(current, u.passwordHash))) throw new AppError("forbidden", "the current password is wrong");
  await setPassword(u.id, password);
  return new Response(null, { status: 204 });
});
