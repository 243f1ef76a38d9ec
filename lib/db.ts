import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../generated/prisma/client";
import { singleton } from "./singleton";

// The one place that opens the database. Prisma serves the ordinary queries; the metric hot path
// (lib/series) uses a raw better-sqlite3 connection to the same file. Both live on globalThis so
// that the custom server and every bundled route handler share them.

export const DEFAULT_DATABASE_URL = "file:./data/babysit.db";

/** The SQLite file path from DATABASE_URL (`file:./data/babysit.db`), relative to the cwd. */
export function databaseFile(url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL): string {
  if (!url.startsWith("file:")) {
    throw new Error(`DATABASE_URL must be a SQLite file url like ${DEFAULT_DATABASE_URL}, got ${url}`);
  }
  return path.resolve(url.slice("file:".length).replace(/^\/\/(?=\/)/, ""));
}

function tune(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  // WAL + NORMAL survives a killed process (what "acknowledged" promises); BABYSIT_SYNC=FULL also
  // survives power loss at some ingest speed.
  db.pragma(`synchronous = ${process.env.BABYSIT_SYNC === "FULL" ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
}

/** The raw better-sqlite3 connection used by the metric hot path. */
export function sqlite(): Database.Database {
  return singleton("babysit.sqlite", () => {
    const file = databaseFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    tune(db);
    return db;
  });
}

/** The Prisma client for ordinary queries (runs, projects, alerts, shares). */
export function prisma(): PrismaClient {
  return singleton("babysit.prisma", () => {
    sqlite(); // switch the file to WAL before Prisma's connection opens it
    const adapter = new PrismaBetterSQLite3({ url: `file:${databaseFile()}` });
    return new PrismaClient({ adapter });
  });
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/** A prepared statement, prepared once per connection (preparing costs more than running). */
export function stmt(db: Database.Database, sql: string): Database.Statement {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}
