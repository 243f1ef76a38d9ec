import crypto from "node:crypto";

// Session ids and API keys: 256 random bits, shown to their holder once and stored only as their
// SHA-256. A fast hash is enough for secrets this long (no one guesses 2^256), and it lets a
// request find its row by an indexed equality.

export const SESSION_COOKIE = "babysit_session";
/** The session cookie's name over https: browsers keep `__Host-` cookies to Secure, Path=/, host-only ones. */
export const SECURE_SESSION_COOKIE = "__Host-babysit_session";
/** API keys start with this, so that a key pasted somewhere is recognisable (and secret scanners can match it). */
export const API_KEY_PREFIX = "bsk_";
/** Characters of a key that lists show, to tell keys apart. */
export const KEY_PREFIX_CHARS = 12;

export function newSecret(): string {
  return crypto.randomBytes(32).toString("base64url");
}

export function hashSecret(secret: string): string {
  return crypto.createHash("sha256").update(secret, "utf8").digest("hex");
}

/** A session id or key as the client sends it: base64url characters only, at most 200. */
export function looksLikeSecret(s: string): boolean {
  return s.length > 0 && s.length <= 200 && /^[A-Za-z0-9_-]+$/.test(s);
}
