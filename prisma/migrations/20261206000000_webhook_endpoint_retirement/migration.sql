-- An endpoint taken out of NOTIFY_WEBHOOK_URLS is retired: nothing new is made or sent for it, and what
-- waits for it is not counted as a backlog. It resumes if it is configured again, or an operator removes
-- it with what waits for it (DELETE /v1/notifications/endpoints/:id).
ALTER TABLE "webhook_endpoints" ADD COLUMN "retired_at" TIMESTAMPTZ(3);
