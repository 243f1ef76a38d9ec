import { AppError } from "../errors";

// A request is let in while its account exists (lib/auth/front.ts checks again once its body is
// read), but an admin may still delete the account in the moment between that check and the insert
// that names it as owner or maker: the foreign key then fails. That is "who are you?", not a fault
// of the server's: 401, never a 500.

export const ACCOUNT_GONE = "the account no longer exists; log in with another one";

function isForeignKeyFailure(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { code?: unknown }).code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}

/** Runs `write`, which inserts rows naming an account; a foreign-key failure becomes 401 unauthenticated. */
export async function whileAccountExists<T>(write: () => T | Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (e) {
    if (isForeignKeyFailure(e)) throw new AppError("unauthenticated", ACCOUNT_GONE);
    throw e;
  }
}

/** The same for a synchronous write (better-sqlite3). */
export function whileAccountExistsSync<T>(write: () => T): T {
  try {
    return write();
  } catch (e) {
    if (isForeignKeyFailure(e)) throw new AppError("unauthenticated", ACCOUNT_GONE);
    throw e;
  }
}
