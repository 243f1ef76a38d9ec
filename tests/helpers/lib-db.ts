import { freshDbPath } from "./server";

/** Points lib/db.ts at a fresh migrated database; call before importing lib modules. */
export function useFreshDatabase(): string {
  const file = freshDbPath();
  process.env.DATABASE_URL = `file:${file}`;
  return file;
}
