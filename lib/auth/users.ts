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
  /** When an admin disabled the account (it cannot log in; its sessions ended, its keys answer 401); null: enabled. */
  disabledAt: number | null;
  /** The account still has a one-time password (made by an invite, `admin create` or `reset-password`): it must set its own before anything else. */
  passwordChangeRequired: boolean;
}

interface UserRow {
  id: number;
  name: string;
  role: string;
  password_hash: string;
  created_at: number;
  created_by: string | null;
  disabled_at: number | null;
  password_change_required: number | null;
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
  disabledAt: r.disabled_at ?? null,
  passwordChangeRequired: Boolean(r.password_change_required),
});

/** True when the users table exists (migration 0005 applied). */
export function accountsReady(): boolean {
  return stmt(sqlite(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get() !== undefined;
}

/** Admins who can log in (a disabled admin administers nothing). */
export function adminCount(): number {
  return (stmt(sqlite(), "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL").get() as { n: number }).n;
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

/** The names of the enabled accounts, sorted: whom a run can be given to (any logged-in person may read them). */
export function listUserNames(): string[] {
  return (stmt(sqlite(), "SELECT name FROM users WHERE disabled_at IS NULL ORDER BY lower(name), name").all() as { name: string }[]).map(
    (r) => r.name,
  );
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
        : `the name ${name} is taken: a user named ${existing} exists (names that differ only in case or character width count as the same name)`,
    );
  try {
    // check and insert in one transaction: nothing else can slip in between (better-sqlite3 is synchronous)
    const r = db.transaction(() => {
      const clash = stmt(db, FOLDED).get(foldName(name)) as UserRow | undefined;
      if (clash) throw taken(clash.name);
      return stmt(
        db,
        "INSERT INTO users (name, role, password_hash, created_at, created_by, password_change_required) VALUES (?, ?, ?, ?, ?, 1) RETURNING *",
      ).get(name, role, hash, now(), createdBy) as UserRow;
    })();
    return { user: toUser(r), password };
  } catch (e) {
    if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw taken(name);
    throw e;
  }
}

/**
 * Sets a new password and ends every session of the user (other browsers must log in again).
 * `oneTime`: a password someone else saw (an admin's reset), which the user must replace at their
 * next login; a password the user chose clears that.
 */
export async function setPassword(userId: number, password: string, oneTime = false): Promise<void> {
  const hash = await hashPassword(password);
  const db = sqlite();
  db.transaction(() => {
    stmt(db, "UPDATE users SET password_hash = ?, password_change_required = ? WHERE id = ?").run(hash, oneTime ? 1 : 0, userId);
    endSessions(db, userId);
  })();
  disconnectSessions({ userId }, "password_changed");
}

/** A new one-time password for an existing user (the CLI's reset, for a forgotten one). */
export async function resetPassword(name: string): Promise<string> {
  const u = findUser(name);
  if (!u) throw new AppError("not_found", `no user named ${name}`);
  const password = randomPassword();
  await setPassword(u.id, password, true);
  return password;
}

export type UserChange = { role?: Role; disabled?: boolean };

function lastAdminGuard(u: User, losesAdmin: boolean, what: string): void {
  // only an enabled admin counts: the server must always keep someone who can manage accounts
  if (!losesAdmin || u.role !== "admin" || u.disabledAt !== null) return;
  if (adminCount() <= 1) throw new AppError("last_admin", `${u.name} is the last enabled admin and cannot be ${what}; make another admin first`);
}

/** Deletes every session of a user, inside the caller's transaction; the caller then disconnects their sockets. */
function endSessions(db: ReturnType<typeof sqlite>, userId: number): void {
  stmt(db, "DELETE FROM sessions WHERE user_id = ?").run(userId);
}

/**
 * An admin's change to an account: its role and/or whether it is disabled. Disabling ends its
 * sessions (and sockets) at once; its keys answer 401 while it stays disabled; what it made stays.
 * The last enabled admin can be neither demoted nor disabled (409 `last_admin`).
 */
export function updateUser(id: number, change: UserChange): User {
  const db = sqlite();
  const disabled = db
    .transaction(() => {
      const u = userById(id);
      if (!u) throw new AppError("not_found", `no user ${id}`);
      const demoted = change.role === "member" && u.role === "admin";
      const disabling = change.disabled === true && u.disabledAt === null;
      lastAdminGuard(u, demoted || disabling, demoted && disabling ? "demoted or disabled" : demoted ? "demoted" : "disabled");
      if (change.role !== undefined) stmt(db, "UPDATE users SET role = ? WHERE id = ?").run(change.role, id);
      if (disabling) {
        stmt(db, "UPDATE users SET disabled_at = ? WHERE id = ?").run(now(), id);
        endSessions(db, id);
      } else if (change.disabled === false) stmt(db, "UPDATE users SET disabled_at = NULL WHERE id = ?").run(id);
      return disabling;
    })
    // IMMEDIATE: the admin CLI and the server may change accounts at once; the count and the change are one step
    .immediate();
  if (disabled) disconnectSessions({ userId: id }, "account_disabled");
  return userById(id)!;
}

/**
 * Deletes an account with its sessions and API keys; its runs and links stay (links keep the
 * maker's name as text). The last enabled admin cannot be deleted (409 `last_admin`).
 */
export function deleteUser(id: number): User {
  const db = sqlite();
  const u = db
    .transaction(() => {
      const found = userById(id);
      if (!found) throw new AppError("not_found", `no user ${id}`);
      lastAdminGuard(found, true, "deleted");
      endSessions(db, id);
      stmt(db, "DELETE FROM api_keys WHERE user_id = ?").run(id);
      stmt(db, "DELETE FROM users WHERE id = ?").run(id);
      return found;
    })
    .immediate();
  disconnectSessions({ userId: id }, "account_deleted");
  return u;
}

/** The id of the account with this name (the CLI names accounts); 404 `not_found` otherwise. */
export function userIdByName(name: string): number {
  const u = findUser(name);
  if (!u) throw new AppError("not_found", `no user named ${name}`);
  return u.id;
}
