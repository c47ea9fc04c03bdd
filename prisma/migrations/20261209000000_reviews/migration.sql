-- People settle reviews (POST /v1/jobs/:jobId/review, src/domain/decision/review.ts).

-- A person's decision keeps the facts the job showed when they decided (no identity data): it stands
-- while the policy answers the job's facts as it answered these. NULL for the policy's decisions.
ALTER TABLE "jobs" ADD COLUMN "decision_basis" JSONB;

-- GET /v1/reviews and the review queue's gauges: the jobs waiting for a person, oldest first, without
-- reading any other job.
CREATE INDEX "jobs_review_queue_idx" ON "jobs"("decided_at", "seq") WHERE "decision" = 'review';

-- The audit trail also records what a person decided: for a review, the decision, its reason and note,
-- and the decision it replaced. NULL for reads of identity data and erasures.
ALTER TABLE "audit_log" ADD COLUMN "details" JSONB;
