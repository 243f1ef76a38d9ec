import { AppError } from "../errors";
import { singleton } from "../singleton";
import { LOGIN_FAILS_PER_IP, LOGIN_FAILS_PER_NAME, LOGIN_FAILS_PER_NAME_AND_IP, PASSWORD_CHECK_FAILS_PER_SESSION, SESSION_TTL_S } from "./config";
import { decoyHash, verifyPassword } from "./passwords";
import { LoginLimiter, guardedCheck } from "./rate-limit";
import { createSession } from "./sessions";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "./tokens";
import { type User, findUser, foldName } from "./users";
// the cookie lasts as the session does: SESSION_TTL_S from its last use; each time the server slides
// a session's expiry (at most hourly, lib/auth/sessions.ts) the front sends the cookie again
const COOKIE_MAX_AGE_S = SESSION_TTL_S;

// Logging in: a name and password for a session cookie. Failed attempts are limited per (name,
// client address), per address and per name (lib/auth/config.ts; 429 `too_many_requests` with
// Retry-After), and a wrong name costs the same hashing time as a wrong password, so neither the
// answer nor its time tells which was wrong.

const limiters = () =>
  singleton("babysit.loginLimiters", () => ({
    pair: new LoginLimiter(LOGIN_FAILS_PER_NAME_AND_IP),
    ip: new LoginLimiter(LOGIN_FAILS_PER_IP),
    name: new LoginLimiter(LOGIN_FAILS_PER_NAME),
    passwordCheck: new LoginLimiter(PASSWORD_CHECK_FAILS_PER_SESSION),
  }));

export { RateLimited } from "./rate-limit";

export async function login(name: string, password: string, ip: string): Promise<{ user: User; sessionId: string; expiresAt: number }> {
  const l = limiters();
  const folded = foldName(name);
  const u = findUser(name);
  const ok = await guardedCheck(
    [
      // JSON keeps the two parts apart whatever characters a name holds
      { limiter: l.pair, key: JSON.stringify([folded, ip]), onSuccess: "reset" },
      { limiter: l.ip, key: ip, onSuccess: "refund" },
      { limiter: l.name, key: folded, onSuccess: "refund" },
    ],
    async () => (await verifyPassword(password, u?.passwordHash ?? (await decoyHash()))) && u !== null,
  );
  if (!u || !ok) throw new AppError("unauthenticated", "wrong user name or password");
  // told only to whoever knows the password: a disabled account is no secret from its owner, and
  // "wrong password" would send them hunting for a password that is right
  if (u.disabledAt !== null) throw new AppError("account_disabled", "this account is disabled; ask an admin to enable it");
  const { passwordHash: _, ...user } = u;
  const s = createSession(user.id);
  return { user, sessionId: s.id, expiresAt: s.expiresAt };
}

/** True when `password` is the user's current one; wrong guesses are limited per session (`session`: its id's hash), 429 past the limit. */
export async function checkCurrentPassword(session: string, password: string, passwordHash: string): Promise<boolean> {
  const l = limiters();
  return guardedCheck(
    [{ limiter: l.passwordCheck, key: session, onSuccess: "reset" }],
    () => verifyPassword(password, passwordHash),
    "current-password checks",
  );
}

/** The Set-Cookie value for a session id (an empty id with Max-Age=0 clears it). */
export function sessionCookie(id: string, secure: boolean): string {
  // over https the __Host- name: a browser takes it only from this https origin, Path=/, no Domain,
  // so no sibling subdomain and no plain-http page can plant or overwrite it
  const parts = [
    `${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=${id}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${id ? COOKIE_MAX_AGE_S : 0}`,
  ];
  if (secure) parts.push("Secure");
  return parts.join("; ");
}
