// npm run migrate: bring the database at DATABASE_URL (default file:./data/babysit.db) up to the
// committed migrations in prisma/migrations. `npm start` does the same before it serves.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");

export function migrate() {
  process.env.DATABASE_URL ??= "file:./data/babysit.db";
  // the adapter's file url is relative to the working directory, as the server's is
  const dbFile = path.resolve(process.env.DATABASE_URL.replace(/^file:/, ""));
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  execFileSync(path.join(root, "node_modules", ".bin", "prisma"), ["migrate", "deploy"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  return dbFile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  console.log(`babysit: ${migrate()} is up to date`);
}
