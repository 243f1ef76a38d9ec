// Team mode's fixed numbers, in one place (docs/team-mode.md lists them).

/** A session lasts this long after its last use (sliding), in seconds: 14 days. */
export const SESSION_TTL_S = 14 * 24 * 3600;
/** A session's expiry is moved forward at most this often, in seconds, so reads do not write every time. */
export const SESSION_SLIDE_EVERY_S = 3600;
/** A key's last use is recorded at most this often, in seconds. */
export const KEY_TOUCH_EVERY_S = 60;
/** Login attempts per client address, and per user name, per 15 minutes. */
export const LOGIN_PER_IP = { points: 30, seconds: 15 * 60 } as const;
export const LOGIN_PER_NAME = { points: 10, seconds: 15 * 60 } as const;
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
