-- When a worker's notification sweep last found the endpoint in its NOTIFY_WEBHOOK_URLS. One that no
-- worker has listed for a while is retired (src/domain/webhook-endpoints.ts): nothing is made or sent
-- for it, and what waits for it is not counted as a backlog. It resumes if it is configured again, or an
-- operator removes it with what waits for it (DELETE /v1/notifications/endpoints/:id).
ALTER TABLE "webhook_endpoints" ADD COLUMN "configured_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
