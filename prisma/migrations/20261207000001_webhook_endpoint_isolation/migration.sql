-- Each endpoint is served on its own terms, so that one slow or failing endpoint cannot take the
-- delivery slots of the others (src/store/webhook-store.ts):
-- - a delivery handed to a worker is leased until `leased_until`: the lease ends when its attempt is
--   recorded, or lapses if its worker died. An endpoint has at most NOTIFY_CONCURRENCY leased at once;
-- - an endpoint that gave no answer (a timeout, a refused connection) or answered 429, 502, 503 or 504
--   counts `failures` in a row: nothing is sent to it before `backoff_until` (doubling, or what its
--   Retry-After asked), then one delivery at a time until one gets an answer.
ALTER TABLE "webhook_deliveries" ADD COLUMN "leased_until" TIMESTAMPTZ(3);
ALTER TABLE "webhook_endpoints" ADD COLUMN "failures" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "webhook_endpoints" ADD COLUMN "backoff_until" TIMESTAMPTZ(3);

-- Due deliveries are looked for per endpoint, in the order they are due.
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries"("endpoint_id", "next_attempt_at", "id") WHERE "status" = 'pending';
DROP INDEX "webhook_deliveries_next_attempt_at_idx";
-- The leases each endpoint holds: a few per endpoint, among however many deliveries wait.
CREATE INDEX "webhook_deliveries_leased_idx" ON "webhook_deliveries"("endpoint_id") WHERE "status" = 'pending' AND "leased_until" IS NOT NULL;
