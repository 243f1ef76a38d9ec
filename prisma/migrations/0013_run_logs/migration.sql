-- CreateTable
CREATE TABLE "run_logs" (
    "run_id" TEXT NOT NULL,
    "n" BIGINT NOT NULL,
    "stream" INTEGER NOT NULL,
    "time" REAL NOT NULL,
    "text" TEXT NOT NULL,

    PRIMARY KEY ("run_id", "n"),
    CONSTRAINT "run_logs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "runs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

