import { authOf, userOf } from "@/lib/auth/request";
import { RateLimited, checkCurrentPassword } from "@/lib/auth/login";
import { findUser, setPassword } from "@/lib/auth/users";
import { AppError, errorBody } from "@/lib/errors";
import { handle, parse, readJson } from "@/lib/http/handler";
import { changePassword } from "@/lib/schemas/auth";

export const dynamic = "force-dynamic";

// POST /api/v1/auth/password – { current, password }: a new password; every session of the user ends (log in again): 204;
// wrong `current` values are limited per session (429 + Retry-After): a stolen session's guesses never lock the owner's own change
export const POST = handle(async (req: Request) => {
  const me = userOf(req);
  // every person's request comes with a session (lib/auth/front.ts); the user id is a stand-in that never happens
  const session = authOf(req).session ?? `user:${me.id}`;
  const { current, password } = parse(changePassword, await readJson(req));
  const u = findUser(me.name);
  if (!u) throw new AppError("forbidden", "the current password is wrong");
  try {
    if (!(await checkCurrentPassword(session, current, u.passwordHash))) throw new AppError("forbidden", "the current password is wrong");
  } catch (e) {
    if (e instanceof RateLimited)
      return Response.json(errorBody(e.code, e.message), { status: 429, headers: { "retry-after": String(e.retryAfter) } });
    throw e;
  }
  // the one-time password (or any current one) is known to someone else: a "change" to it changes nothing
  if (password === current) throw new AppError("invalid_body", "password must differ from the current one");
  await setPassword(u.id, password);
  return new Response(null, { status: 204 });
});
