-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "job_state" AS ENUM ('pending', 'provisional', 'approved', 'rejected', 'failed');

-- CreateTable
CREATE TABLE "jobs" (
    "job_id" TEXT NOT NULL,
    "user_id" TEXT,
    "job_type" INTEGER,
    "smile_job_id" TEXT,
    "smile_job_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "state" "job_state" NOT NULL DEFAULT 'pending',
    "is_final" BOOLEAN NOT NULL DEFAULT false,
    "confirmed" BOOLEAN NOT NULL DEFAULT false,
    "result_code" TEXT,
    "result_text" TEXT,
    "actions" JSONB,
    "id_info" JSONB,
    "id_number_previously_registered" BOOLEAN,
    "previous_registrant_user_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "suspect_users" JSONB NOT NULL DEFAULT '[]',
    "smile_secure_code" TEXT,
    "ranks" JSONB NOT NULL DEFAULT '{}',
    "needs_confirmation" BOOLEAN NOT NULL DEFAULT false,
    "event_count" INTEGER NOT NULL DEFAULT 0,
    "untrusted_event_count" INTEGER NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finalized_at" TIMESTAMPTZ(3),
    "last_event_at" TIMESTAMPTZ(3),

    CONSTRAINT "jobs_pkey" PRIMARY KEY ("job_id")
);

-- CreateTable
CREATE TABLE "callback_events" (
    "id" UUID NOT NULL,
    "job_id" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source_ip" TEXT NOT NULL,
    "content_hash" TEXT NOT NULL,
    "facets" TEXT[],
    "trusted" BOOLEAN NOT NULL,
    "untrusted_reason" TEXT,
    "signature" TEXT NOT NULL,
    "timestamp_raw" TEXT NOT NULL,
    "smile_job_id" TEXT,
    "body_bytes" INTEGER NOT NULL,
    "body" BYTEA NOT NULL,

    CONSTRAINT "callback_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "job_transitions" (
    "id" BIGSERIAL NOT NULL,
    "job_id" TEXT NOT NULL,
    "event_id" UUID,
    "from_state" "job_state",
    "to_state" "job_state" NOT NULL,
    "from_final" BOOLEAN,
    "to_final" BOOLEAN NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_transitions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "jobs_user_id_idx" ON "jobs"("user_id");

-- CreateIndex
CREATE INDEX "jobs_state_is_final_idx" ON "jobs"("state", "is_final");

-- CreateIndex
CREATE INDEX "jobs_updated_at_idx" ON "jobs"("updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "callback_events_content_hash_key" ON "callback_events"("content_hash");

-- CreateIndex
CREATE INDEX "callback_events_job_id_received_at_idx" ON "callback_events"("job_id", "received_at");

-- CreateIndex
CREATE INDEX "job_transitions_job_id_at_idx" ON "job_transitions"("job_id", "at");

-- AddForeignKey
ALTER TABLE "callback_events" ADD CONSTRAINT "callback_events_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("job_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_transitions" ADD CONSTRAINT "job_transitions_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("job_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_transitions" ADD CONSTRAINT "job_transitions_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "callback_events"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Bodies carry base64 JPEGs, which barely compress: store them out of line without spending
-- CPU on TOAST compression in the callback's transaction.
ALTER TABLE "callback_events" ALTER COLUMN "body" SET STORAGE EXTERNAL;

-- A stored callback is evidence: it is never rewritten.
CREATE FUNCTION "forbid_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER "callback_events_immutable" BEFORE UPDATE ON "callback_events"
  FOR EACH ROW EXECUTE FUNCTION "forbid_update"();
