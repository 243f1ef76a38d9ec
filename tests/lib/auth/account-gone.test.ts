import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { ACCOUNT_GONE, whileAccountExists, whileAccountExistsSync } from "@/lib/auth/account-gone";
import { AppError } from "@/lib/errors";

// An insert naming an account deleted a moment before (a race the second access check cannot
// close): the foreign key fails, and the caller hears 401 unauthenticated, not a 500.

const db = new Database(":memory:");
db.pragma("foreign_keys = ON");
db.exec(
  "CREATE TABLE users (id INTEGER PRIMARY KEY); CREATE TABLE keys (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), name TEXT UNIQUE)",
);
db.exec("INSERT INTO users (id) VALUES (1)");
const insertKey = (userId: number, name: string) => db.prepare("INSERT INTO keys (user_id, name) VALUES (?, ?)").run(userId, name);

describe("whileAccountExists", () => {
  test.each([
    ["sync", (f: () => unknown) => Promise.resolve().then(() => whileAccountExistsSync(f))],
    ["async", (f: () => unknown) => whileAccountExists(f)],
  ])("%s: a missing account becomes 401 unauthenticated; other failures pass through; a good write returns", async (_kind, run) => {
    const gone = await run(() => insertKey(999, "x")).catch((e: AppError) => e);
    expect(gone).toBeInstanceOf(AppError);
    expect([(gone as AppError).status, (gone as AppError).code, (gone as AppError).message]).toEqual([401, "unauthenticated", ACCOUNT_GONE]);
    const name = `k${Math.random()}`;
    expect(await run(() => insertKey(1, name).changes)).toBe(1);
    // a UNIQUE failure is not about the account: it stays what it is
    const other = await run(() => insertKey(1, name)).catch((e: { code?: string }) => e);
    expect(other).not.toBeInstanceOf(AppError);
    expect((other as { code?: string }).code).toBe("SQLITE_CONSTRAINT_UNIQUE");
  });
});
