-- The image keys of a run without reading its image events' data (base64 PNGs of up to 4 MiB):
-- ingest's check of imageKeysPerRun (lib/series/key-sets.ts), the run's image list (lib/runs/get-run.ts)
-- and one key's images (lib/runs/get-images.ts) read this index. Prisma's schema cannot express an
-- index on an expression, so it lives here only; the queries must use the same expression.
CREATE INDEX "events_image_key_idx" ON "events"("run_id", json_extract("data", '$.key'), "step") WHERE "type" = 'image';
