import crypto from "node:crypto";

// Password hashing with node's scrypt: no native dependency to build, and a memory-hard function
// (RFC 7914). Each hash carries its own random salt and its parameters, so they can be raised
// later without invalidating stored hashes: `scrypt$<N>$<r>$<p>$<salt b64url>$<key b64url>`.
// N=2^15, r=8, p=1 uses 32 MiB; measured on the 2-core build machine under load (load average 10):
// about 180 ms per hash, against 965 ms for OWASP's N=2^17 (same r, p). 2^15 keeps a login under a
// second on a small server; login attempts are rate-limited (lib/auth/rate-limit.ts) and a stolen
// hash still costs 32 MiB and a fifth of a second per guess.

export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 64, saltBytes: 16 } as const;

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    // maxmem: scrypt needs 128 * N * r bytes; node's default cap (32 MiB) is exactly at that line
    crypto.scrypt(password.normalize("NFC"), salt, keyLength, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(SCRYPT.saltBytes);
  const key = await scrypt(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLength);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** True when `password` matches `stored`; compared in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64url");
  const expected = Buffer.from(parts[5], "base64url");
  if (![N, r, p].every(Number.isSafeInteger) || N > 2 ** 20 || r > 32 || p > 16 || expected.length === 0) return false;
  const key = await scrypt(password, salt, N, r, p, expected.length);
  return crypto.timingSafeEqual(key, expected);
}

/** A hash of a random password, to spend the same time on a user name that does not exist. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(crypto.randomBytes(16).toString("hex"));
  return decoy;
}

/** A password for a new account, given once (CLI, invite): 20 characters, about 119 bits. */
export function randomPassword(): string {
  return crypto.randomBytes(15).toString("base64url");
}
