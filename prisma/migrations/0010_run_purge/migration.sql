-- Deleting a run in the background (lib/runs/delete-run.ts): the run disappears in one short
-- transaction and its rows are removed afterwards in bounded chunks; purged_at is set once they are
-- all gone (NULL: a purge still to finish, resumed at start-up). Tombstones are forgotten after a
-- retention (BABYSIT_DELETED_RUN_DAYS), found by deleted_at. Runs deleted before this migration
-- were removed in one transaction: they are purged already.

-- AlterTable
ALTER TABLE "deleted_runs" ADD COLUMN "purged_at" REAL;
UPDATE "deleted_runs" SET "purged_at" = "deleted_at";

-- CreateIndex
CREATE INDEX "deleted_runs_deleted_at_idx" ON "deleted_runs"("deleted_at");
