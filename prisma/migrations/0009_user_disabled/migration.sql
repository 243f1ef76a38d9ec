-- AlterTable
ALTER TABLE "users" ADD COLUMN "disabled_at" REAL;

