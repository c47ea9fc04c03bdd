-- As for callback_events: the job_status answers still whole in their rows, built without blocking writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "status_snapshots_inline_body_idx" ON "status_snapshots" ("fetched_at") WHERE "body_objects" IS NULL AND "body" IS NOT NULL;
