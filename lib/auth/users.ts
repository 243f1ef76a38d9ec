import { stmt, sqlite } from "../db";
import { isWellFormed } from "../contract/limits";
import { AppError } from "../errors";
import { ACCOUNT_NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from "./config";
import { hashPassword, randomPassword } from "./passwords";
import { disconnectSessions } from "./session-sockets";

// Accounts of team mode. Names are what people log in with: letters, digits and . _ - , unique
// once folded (NFKC, then lower case: `Alice`, `alice` and a full-width `ａｌｉｃｅ` are one name), so
// that a name shown in a list cannot pass for another one and the login limits count one account
// under one key. Logging in folds the name typed the same way.

export type Role = "admin" | "member";
export const ROLES: readonly Role[] = ["admin", "member"];

export interface User {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string | null;
}

interface UserRow {
  id: number;
  name: string;
  role: string;
  password_hash: string;
  created_at: number;
  created_by: string | null;
}

const now = () => Date.now() / 1000;

export function userNameProblem(name: unknown): string | null {
  if (typeof name !== "string") return "name must be a string";
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return "name must start with a letter or digit and hold only letters, digits, '.', '_' and '-'";
  if (name.length > ACCOUNT_NAME_MAX) return `name must be at most ${ACCOUNT_NAME_MAX} characters`;
  return null;
}

export function passwordProblem(password: unknown): string | null {
  if (typeof password !== "string") return "password must be a string";
  const n = [...password].length;
  if (n < PASSWORD_MIN) return `password must be at least ${PASSWORD_MIN} characters`;
  if (n > PASSWORD_MAX) return `password must be at most ${PASSWORD_MAX} characters`;
  if (!isWellFormed(password)) return "password must be well-formed Unicode";
  return null;
}

const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  role: r.role === "admin" ? "admin" : "member",
  createdAt: r.created_at,
  createdBy: r.created_by,
});

/** True when the users table exists (migration 0005 applied). */
export function accountsReady(): boolean {
  return stmt(sqlite(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get() !== undefined;
}

export function adminCount(): number {
  return (stmt(sqlite(), "SELECT COUNT(*) AS n FROM users WHERE role = 'admin'").get() as { n: number }).n;
}

/** The form names are compared in: NFKC (compatibility forms such as full-width letters), then lower case. */
export function foldName(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

// Stored names hold only ASCII letters (userNameProblem), for which SQLite's lower() is foldName.
const FOLDED = "SELECT * FROM users WHERE lower(name) = ? ORDER BY id LIMIT 2";

/**
 * The account a typed name means: the one whose folded name matches. A database made before names
 * were unique when folded may hold `Alice` and `alice`: then only the exact spelling finds one.
 */
export function findUser(name: string): (User & { passwordHash: string }) | null {
  const db = sqlite();
  const rows = stmt(db, FOLDED).all(foldName(name)) as UserRow[];
  const r = rows.length === 1 ? rows[0] : (stmt(db, "SELECT * FROM users WHERE name = ?").get(name) as UserRow | undefined);
  return r ? { ...toUser(r), passwordHash: r.password_hash } : null;
}

export function userById(id: number): User | null {
  const r = stmt(sqlite(), "SELECT * FROM users WHERE id = ?").get(id) as UserRow | undefined;
  return r ? toUser(r) : null;
}

export function listUsers(): User[] {
  return (stmt(sqlite(), "SELECT * FROM users ORDER BY id").all() as UserRow[]).map(toUser);
}

/**
 * A new account with a one-time password (shown to whoever made it, who hands it over; the new user
 * changes it with POST /api/v1/auth/password). 409 `conflict` when the name is taken.
 */
export async function createUser(name: string, role: Role, createdBy: string | null): Promise<{ user: User; password: string }> {
  const problem = userNameProblem(name);
  if (problem) throw new AppError("invalid_body", problem);
  const password = randomPassword();
  const hash = await hashPassword(password);
  const db = sqlite();
  const taken = (existing: string) =>
    new AppError(
      "conflict",
      existing === name
        ? `a user named ${name} exists`
        : `the name ${name} is taken: a user named ${existing} exists (names differ by more than case)`,
    );
  try {
    // check and insert in one transaction: nothing else can slip in between (better-sqlite3 is synchronous)
    const r = db.transaction(() => {
      const clash = stmt(db, FOLDED).get(foldName(name)) as UserRow | undefined;
      if (clash) throw taken(clash.name);
      return stmt(db, "INSERT INTO users (name, role, password_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING *").get(
        name,
        role,
        hash,
        now(),
        createdBy,
      ) as UserRow;
    })();
    return { user: toUser(r), password };
  } catch (e) {
    if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw taken(name);
    throw e;
  }
}

/** Sets a new password and ends every session of the user (other browsers must log in again). */
export async function setPassword(userId: number, password: string): Promise<void> {
  const hash = await hashPassword(password);
  const db = sqlite();
  db.transaction(() => {
    stmt(db, "UPDATE users SET password_hash = ? WHERE id = ?").run(hash, userId);
    stmt(db, "DELETE FROM sessions WHERE user_id = ?").run(userId);
  })();
  disconnectSessions({ userId });
}

/** A new one-time password for an existing user (the CLI's reset, for a forgotten one). */
export async function resetPassword(name: string): Promise<string> {
  const u = findUser(name);
  if (!u) throw new AppError("not_found", `no user named ${name}`);
  const password = randomPassword();
  await setPassword(u.id, password);
  return password;
}
