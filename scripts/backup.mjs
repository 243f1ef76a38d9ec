// npm run backup -- <file>: a consistent copy of the database at DATABASE_URL (default
// file:./data/babysit.db), safe while the server runs. Copying babysit.db alone is not a backup:
// in WAL mode the newest writes live in babysit.db-wal until a checkpoint, and a file copied in the
// middle of a write can be torn. VACUUM INTO reads one snapshot in a read transaction (writers go
// on) and writes a compact, self-contained file (no -wal beside it).
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

function fail(message) {
  console.error(`babysit: ${message}`);
  process.exit(1);
}

export function backup(target, url = process.env.DATABASE_URL ?? "file:./data/babysit.db") {
  if (!url.startsWith("file:")) throw new Error(`DATABASE_URL must be a SQLite file url like file:./data/babysit.db, got ${url.slice(0, 80)}`);
  const source = path.resolve(url.replace(/^file:/, ""));
  if (!fs.existsSync(source)) throw new Error(`there is no database at ${source} (DATABASE_URL)`);
  const dest = path.resolve(target);
  if (dest === source) throw new Error("the backup must be another file than the database");
  if (fs.existsSync(dest)) throw new Error(`${dest} exists already: name a new file (nothing is overwritten)`);
  const folder = path.dirname(dest);
  if (!fs.existsSync(folder)) throw new Error(`the folder ${folder} does not exist: make it first (mkdir -p ${folder})`);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    db.prepare("VACUUM INTO ?").run(dest);
  } finally {
    db.close();
  }
  const copy = new Database(dest, { readonly: true });
  try {
    const ok = copy.pragma("quick_check", { simple: true });
    if (ok !== "ok") throw new Error(`the copy at ${dest} failed SQLite's quick_check: ${ok}`);
  } finally {
    copy.close();
  }
  return { source, dest, bytes: fs.statSync(dest).size };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const target = process.argv[2];
  if (!target || process.argv.length > 3) fail("usage: npm run backup -- <new file>, e.g. npm run backup -- backups/babysit-$(date +%F).db");
  try {
    const { source, dest, bytes } = backup(target);
    console.log(`babysit: backed up ${source} to ${dest} (${bytes} bytes)`);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}
