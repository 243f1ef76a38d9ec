-- A one-time password (an invite, `npm run admin -- create` or `reset-password`) must be replaced at
-- the first login: until then the session may only change the password, read /auth/me and log out.
-- Accounts made before this migration keep working as they were (false).

-- AlterTable
ALTER TABLE "users" ADD COLUMN "password_change_required" BOOLEAN NOT NULL DEFAULT false;
