-- Biometric KYC jobs submitted to Smile ID through POST /v1/submissions (prep upload, zip, upload).
-- The request's identity data and images are sealed in `payload` only until Smile ID has the zip;
-- `prepared` keeps the prep upload's answer (the upload URL among it) so a crash resumes with it.

CREATE TYPE "submission_status" AS ENUM ('queued', 'uploading', 'uploaded', 'failed');

CREATE TABLE "submissions" (
    "job_id" TEXT NOT NULL,
    "content_digest" TEXT NOT NULL,
    "digest_key_id" TEXT NOT NULL,
    "status" "submission_status" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "payload" BYTEA,
    "prepared" BYTEA,
    "retry_prep" BOOLEAN NOT NULL DEFAULT false,
    "smile_job_id" TEXT,
    "error_code" TEXT,
    "error_message" TEXT,
    "image_count" INTEGER NOT NULL,
    "image_bytes" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "prepared_at" TIMESTAMPTZ(3),
    "submitted_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "erased_at" TIMESTAMPTZ(3),

    CONSTRAINT "submissions_pkey" PRIMARY KEY ("job_id"),
    -- Nothing sealed outlives the upload, and a finished submission is never attempted again.
    CONSTRAINT "submissions_payload_until_done" CHECK (
      "status" IN ('queued', 'uploading') OR ("payload" IS NULL AND "prepared" IS NULL AND "next_attempt_at" IS NULL)
    )
);

CREATE INDEX "submissions_next_attempt_at_idx" ON "submissions"("next_attempt_at");
CREATE INDEX "submissions_status_idx" ON "submissions"("status");

ALTER TABLE "submissions" ADD CONSTRAINT "submissions_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("job_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Photos do not compress; keep them out of line without trying.
ALTER TABLE "submissions" ALTER COLUMN "payload" SET STORAGE EXTERNAL;
