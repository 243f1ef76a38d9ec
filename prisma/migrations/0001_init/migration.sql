-- CreateTable
CREATE TABLE "projects" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "created_at" REAL NOT NULL
);

-- CreateTable
CREATE TABLE "runs" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "project_id" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "config" TEXT NOT NULL DEFAULT '{}',
    "status" TEXT NOT NULL DEFAULT 'running',
    "created_at" REAL NOT NULL,
    "updated_at" REAL NOT NULL,
    "last_seen_at" REAL NOT NULL,
    "finished_at" REAL,
    CONSTRAINT "runs_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "batches" (
    "run_id" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "points" INTEGER NOT NULL,
    "histograms" INTEGER NOT NULL,
    "events" INTEGER NOT NULL,
    "created_at" REAL NOT NULL,

    PRIMARY KEY ("run_id", "seq"),
    CONSTRAINT "batches_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "series" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "run_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "first_step" BIGINT NOT NULL,
    "last_step" BIGINT NOT NULL,
    "last_value" TEXT NOT NULL,
    "min" REAL,
    "max" REAL,
    "nan_count" INTEGER NOT NULL DEFAULT 0,
    "pos_inf_count" INTEGER NOT NULL DEFAULT 0,
    "neg_inf_count" INTEGER NOT NULL DEFAULT 0,
    "sealed_max_step" BIGINT NOT NULL DEFAULT -1,
    CONSTRAINT "series_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "pending_batches" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "run_id" TEXT NOT NULL,
    "data" BLOB NOT NULL,
    CONSTRAINT "pending_batches_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "chunks" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "series_id" INTEGER NOT NULL,
    "start_step" BIGINT NOT NULL,
    "end_step" BIGINT NOT NULL,
    "count" INTEGER NOT NULL,
    "summary" BLOB NOT NULL,
    "subs" BLOB NOT NULL,
    "data" BLOB NOT NULL,
    CONSTRAINT "chunks_series_id_fkey" FOREIGN KEY ("series_id") REFERENCES "series" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "histograms" (
    "run_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "step" BIGINT NOT NULL,
    "time" REAL NOT NULL,
    "edges" TEXT NOT NULL,
    "counts" TEXT NOT NULL,

    PRIMARY KEY ("run_id", "key", "step"),
    CONSTRAINT "histograms_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "events" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "run_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "step" BIGINT,
    "time" REAL NOT NULL,
    "data" TEXT NOT NULL,
    CONSTRAINT "events_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "alerts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "run_id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "step" BIGINT NOT NULL,
    "first_step" BIGINT NOT NULL,
    "title" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "evidence" TEXT NOT NULL,
    "created_at" REAL NOT NULL,
    "updated_at" REAL NOT NULL,
    CONSTRAINT "alerts_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "shares" (
    "token" TEXT NOT NULL PRIMARY KEY,
    "run_id" TEXT NOT NULL,
    "created_at" REAL NOT NULL,
    CONSTRAINT "shares_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "projects_name_key" ON "projects"("name");

-- CreateIndex
CREATE INDEX "runs_project_id_created_at_idx" ON "runs"("project_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "series_run_id_key_key" ON "series"("run_id", "key");

-- CreateIndex
CREATE INDEX "pending_batches_run_id_idx" ON "pending_batches"("run_id");

-- CreateIndex
CREATE INDEX "chunks_series_id_start_step_idx" ON "chunks"("series_id", "start_step");

-- CreateIndex
CREATE INDEX "events_run_id_type_idx" ON "events"("run_id", "type");

-- CreateIndex
CREATE UNIQUE INDEX "alerts_run_id_code_key" ON "alerts"("run_id", "code");

-- CreateIndex
CREATE INDEX "shares_run_id_idx" ON "shares"("run_id");

