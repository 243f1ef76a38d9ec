// npm run migrate: bring the database at DATABASE_URL (default file:./data/babysit.db) up to the
// committed migrations in prisma/migrations. `npm start` does the same before it serves.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

/** Ends the process with one line on stderr (what is wrong and what to do), no stack. */
function fail(message) {
  console.error(`babysit: ${message}`);
  process.exit(1);
}

/**
 * The other processes that have the database file (or its -wal/-shm) open, as "pid N: command in
 * dir", read from /proc (Linux); empty where /proc is not there or says nothing.
 */
export function holdersOf(dbFile) {
  const names = new Set([dbFile, `${dbFile}-wal`, `${dbFile}-shm`]);
  const found = [];
  let pids = [];
  try {
    pids = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return found;
  }
  for (const pid of pids) {
    try {
      const fds = fs.readdirSync(`/proc/${pid}/fd`);
      if (!fds.some((fd) => names.has(safeReadlink(`/proc/${pid}/fd/${fd}`)))) continue;
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").slice(0, 120);
      found.push(`pid ${pid}: ${cmd} in ${safeReadlink(`/proc/${pid}/cwd`) ?? "?"}`);
    } catch {
      // another user's process, or one that just ended
    }
  }
  return found;
}

function safeReadlink(p) {
  try {
    return fs.readlinkSync(p);
  } catch {
    return null;
  }
}

export function migrate() {
  process.env.DATABASE_URL ??= "file:./data/babysit.db";
  if (!process.env.DATABASE_URL.startsWith("file:")) {
    fail(`DATABASE_URL must be a SQLite file url like file:./data/babysit.db, got ${process.env.DATABASE_URL.slice(0, 80)}`);
  }
  // the adapter's file url is relative to the working directory, as the server's is
  const dbFile = path.resolve(process.env.DATABASE_URL.replace(/^file:/, ""));
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  try {
    execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
    });
  } catch (e) {
    const out = String(e.stderr ?? "");
    // Prisma's WASM schema engine answers a database another connection holds with this (no SQLITE_BUSY in sight)
    if (/SocketTimeout|database is locked|SQLITE_BUSY/i.test(out)) {
      const holders = holdersOf(dbFile);
      fail(
        `another babysit server seems to be using ${dbFile}${holders.length ? ` (${holders.join("; ")})` : ""}: stop it first (Ctrl-C, or kill that pid), or give this one its own DATABASE_URL`,
      );
    }
    process.stderr.write(out);
    fail(`migrating ${dbFile} failed (Prisma's message above)`);
  }
  return dbFile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  console.log(`babysit: ${migrate()} is up to date`);
}
