-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_shares" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "token_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "created_at" REAL NOT NULL,
    "expires_at" REAL,
    "last_opened_at" REAL,
    "created_by" TEXT,
    CONSTRAINT "shares_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
-- Links made before tokens were hashed keep working: SQLite has no SHA-256, so their token is kept
-- as "plain:<token>" here and replaced by its hash when the server starts (lib/shares/shares.ts,
-- hashLegacyShares), before it answers anything. They never expire, as before.
INSERT INTO "new_shares" ("token_hash", "prefix", "created_at", "run_id") SELECT 'plain:' || "token", substr("token", 1, 6), "created_at", "run_id" FROM "shares" ORDER BY "created_at";
DROP TABLE "shares";
ALTER TABLE "new_shares" RENAME TO "shares";
CREATE UNIQUE INDEX "shares_token_hash_key" ON "shares"("token_hash");
CREATE INDEX "shares_run_id_idx" ON "shares"("run_id");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

