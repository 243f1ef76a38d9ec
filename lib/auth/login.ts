import { AppError } from "../errors";
import { singleton } from "../singleton";
import { LOGIN_PER_IP, LOGIN_PER_NAME, SESSION_TTL_S } from "./config";
import { decoyHash, verifyPassword } from "./passwords";
import { LoginLimiter } from "./rate-limit";
import { createSession } from "./sessions";
import { SESSION_COOKIE } from "./tokens";
import { type User, findUser } from "./users";
// the cookie lasts as the session does: SESSION_TTL_S from its last use; each time the server slides
// a session's expiry (at most hourly, lib/auth/sessions.ts) the front sends the cookie again
const COOKIE_MAX_AGE_S = SESSION_TTL_S;

// Logging in: a name and password for a session cookie. Attempts are limited per client address
// and per user name (429 `too_many_requests` with Retry-After), and a wrong name costs the same
// hashing time as a wrong password, so neither the answer nor its time tells which was wrong.

const limiters = () => singleton("babysit.loginLimiters", () => ({ ip: new LoginLimiter(LOGIN_PER_IP), name: new LoginLimiter(LOGIN_PER_NAME) }));

export class RateLimited extends AppError {
  constructor(readonly retryAfter: number) {
    super("too_many_requests", `too many login attempts; try again in ${retryAfter} s`);
  }
}

export async function login(name: string, password: string, ip: string): Promise<{ user: User; sessionId: string; expiresAt: number }> {
  const l = limiters();
  const wait = Math.max(await l.ip.consume(ip), await l.name.consume(name.toLowerCase()));
  if (wait > 0) throw new RateLimited(wait);
  const u = findUser(name);
  const ok = await verifyPassword(password, u?.passwordHash ?? (await decoyHash()));
  if (!u || !ok) throw new AppError("unauthenticated", "wrong user name or password");
  await l.name.reset(name.toLowerCase());
  const { passwordHash: _, ...user } = u;
  const s = createSession(user.id);
  return { user, sessionId: s.id, expiresAt: s.expiresAt };
}

/** The Set-Cookie value for a session id (an empty id with Max-Age=0 clears it). */
export function sessionCookie(id: string, secure: boolean): string {
  const parts = [`${SESSION_COOKIE}=${id}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${id ? COOKIE_MAX_AGE_S : 0}`];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
