-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "seq" BIGSERIAL NOT NULL;

-- CreateTable
CREATE TABLE "audit_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "token_fingerprint" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "data_read" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "request_id" TEXT,

    CONSTRAINT "audit_log_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "jobs_seq_key" ON "jobs"("seq");

-- CreateIndex
CREATE INDEX "jobs_user_id_seq_idx" ON "jobs"("user_id", "seq");

-- The index above serves every lookup by user; one index fewer for each callback's write to maintain.
DROP INDEX "jobs_user_id_idx";

-- CreateIndex
CREATE INDEX "jobs_state_seq_idx" ON "jobs"("state", "seq");

-- CreateIndex
CREATE INDEX "jobs_id_number_previously_registered_seq_idx" ON "jobs"("id_number_previously_registered", "seq");

-- CreateIndex
CREATE INDEX "jobs_stale_at_idx" ON "jobs"("stale_at");

-- CreateIndex
CREATE INDEX "status_snapshots_job_id_fetched_at_idx" ON "status_snapshots"("job_id", "fetched_at");

-- CreateIndex
CREATE INDEX "audit_log_job_id_at_idx" ON "audit_log"("job_id", "at");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");


-- State and finality go together (a pending job is never final). Without this, the planner multiplies
-- their selectivities, expects matches for e.g. `state=pending&isFinal=true` that never come, and walks
-- the whole insertion order looking for them. Prisma's schema has no syntax for statistics objects.
CREATE STATISTICS "jobs_state_is_final_stats" (mcv) ON "state", "is_final" FROM "jobs";

-- The audit trail is evidence: rows are added, never rewritten.
CREATE TRIGGER "audit_log_immutable" BEFORE UPDATE ON "audit_log"
  FOR EACH ROW EXECUTE FUNCTION "forbid_update"();
