import { authOf } from "@/lib/auth/request";
import { RateLimited, login, sessionCookie } from "@/lib/auth/login";
import { AppError, errorBody } from "@/lib/errors";
import { handle, json, parse, readJson } from "@/lib/http/handler";
import { login as loginSchema } from "@/lib/schemas/auth";

export const dynamic = "force-dynamic";

// POST /api/v1/auth/login – { name, password } for a session cookie: { user: { name, role, passwordChangeRequired } }
export const POST = handle(async (req: Request) => {
  const auth = authOf(req);
  if (auth.mode === "local") throw new AppError("not_found", "accounts exist only in team mode (docs/team-mode.md)");
  const { name, password } = parse(loginSchema, await readJson(req));
  try {
    const { user, sessionId } = await login(name, password, auth.ip);
    const res = json({ user: { name: user.name, role: user.role, passwordChangeRequired: user.passwordChangeRequired } });
    res.headers.set("set-cookie", sessionCookie(sessionId, auth.secure));
    res.headers.set("cache-control", "no-store");
    return res;
  } catch (e) {
    if (e instanceof RateLimited) {
      return Response.json(errorBody(e.code, e.message), { status: 429, headers: { "retry-after": String(e.retryAfter) } });
    }
    throw e;
  }
});
