// Team mode's fixed numbers, in one place (docs/team-mode.md lists them).

/** A session lasts this long after its last use (sliding), in seconds: 14 days. */
export const SESSION_TTL_S = 14 * 24 * 3600;
/** A session's expiry is moved forward at most this often, in seconds, so reads do not write every time. */
export const SESSION_SLIDE_EVERY_S = 3600;
/** A key's last use is recorded at most this often, in seconds. */
export const KEY_TOUCH_EVERY_S = 60;
/**
 * Failed password checks allowed (rate-limiter-flexible's login-protection pattern; what each lets
 * an attacker do is in docs/security.md). Only failures count; a success gives its attempt back.
 * - per (user name, client address): 10 consecutive failures (a success resets them), then that
 *   pair waits 15 minutes: the owner's own typos, and a guesser at one name from one address;
 * - per client address: 100 failures a day, whatever the names: password spraying from one address;
 * - per user name: 1,000 failures a day from all addresses together, a ceiling on guesses at one
 *   account. Only a stranger with more than 10 addresses can lock a name out this way (each
 *   address stops at 100), and then only until the day's window ends.
 */
export const LOGIN_FAILS_PER_NAME_AND_IP = { points: 10, seconds: 24 * 3600, blockSeconds: 15 * 60 } as const;
export const LOGIN_FAILS_PER_IP = { points: 100, seconds: 24 * 3600 } as const;
export const LOGIN_FAILS_PER_NAME = { points: 1000, seconds: 24 * 3600 } as const;
/**
 * Wrong current passwords of a password change, per session (the session's holder guessing the
 * password). Per session, not per user: a stolen session spending its tries must not lock the owner
 * out of changing the password, and it cannot make new sessions without the password.
 */
export const PASSWORD_CHECK_FAILS_PER_SESSION = { points: 10, seconds: 24 * 3600, blockSeconds: 15 * 60 } as const;
/** Password length, in code points. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;
/** User and key names, in code points. */
export const ACCOUNT_NAME_MAX = 64;
export const KEY_NAME_MAX = 100;
/** Projects one key may be limited to. */
export const KEY_PROJECTS_MAX = 100;
/** Days a key lasts when its maker does not say (dashboard and API alike); null given explicitly: never. */
export const KEY_DEFAULT_EXPIRY_DAYS = 90;
/** Days a key may be made to last (or null: no expiry). */
export const KEY_EXPIRY_DAYS_MAX = 3650;
/** How often live sockets' sessions are checked (expired, or ended by another process such as the admin CLI), in seconds. */
export const SESSION_SOCKET_CHECK_S = 2;
