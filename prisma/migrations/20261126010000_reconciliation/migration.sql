-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "check_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "country" TEXT,
ADD COLUMN     "id_type" TEXT,
ADD COLUMN     "last_checked_at" TIMESTAMPTZ(3),
ADD COLUMN     "next_check_at" TIMESTAMPTZ(3),
ADD COLUMN     "registered_at" TIMESTAMPTZ(3),
ADD COLUMN     "stale_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "job_transitions" ADD COLUMN     "snapshot_id" UUID;

-- CreateTable
CREATE TABLE "status_snapshots" (
    "id" UUID NOT NULL,
    "job_id" TEXT NOT NULL,
    "fetched_at" TIMESTAMPTZ(3) NOT NULL,
    "content_hash" TEXT NOT NULL,
    "facets" TEXT[],
    "job_complete" BOOLEAN,
    "job_success" BOOLEAN,
    "signature" TEXT NOT NULL,
    "timestamp_raw" TEXT NOT NULL,
    "body_bytes" INTEGER NOT NULL,
    "body" BYTEA NOT NULL,

    CONSTRAINT "status_snapshots_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "status_snapshots_job_id_content_hash_key" ON "status_snapshots"("job_id", "content_hash");

-- CreateIndex
CREATE INDEX "jobs_next_check_at_idx" ON "jobs"("next_check_at");

-- AddForeignKey
ALTER TABLE "status_snapshots" ADD CONSTRAINT "status_snapshots_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("job_id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "job_transitions" ADD CONSTRAINT "job_transitions_snapshot_id_fkey" FOREIGN KEY ("snapshot_id") REFERENCES "status_snapshots"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Snapshots are evidence too: never rewritten.
CREATE TRIGGER "status_snapshots_immutable" BEFORE UPDATE ON "status_snapshots"
  FOR EACH ROW EXECUTE FUNCTION "forbid_update"();
ALTER TABLE "status_snapshots" ALTER COLUMN "body" SET STORAGE EXTERNAL;
