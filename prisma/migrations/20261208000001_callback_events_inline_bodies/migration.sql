-- The bodies still whole in their rows, for the backlog gauge and the mover. Built CONCURRENTLY, alone in
-- its migration (which then runs outside a transaction), so writes go on while it scans the table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "callback_events_inline_body_idx" ON "callback_events" ("received_at") WHERE "body_objects" IS NULL AND "body" IS NOT NULL;
