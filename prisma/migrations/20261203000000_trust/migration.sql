-- Claims and evidence: the result columns derive from `evidence` (src/jobs/evidence.ts); identity
-- provenance; untracked jobs; no replayable (timestamp, signature) pair left in plaintext.

ALTER TABLE "jobs"
  ADD COLUMN "evidence" JSONB NOT NULL DEFAULT '{"claims": {}, "statusFetches": []}',
  ADD COLUMN "identity_source" TEXT,
  ADD COLUMN "identity_at" TIMESTAMPTZ(3),
  ADD COLUMN "identity_conflict_at" TIMESTAMPTZ(3),
  ADD COLUMN "untrusted_at" TIMESTAMPTZ(3),
  ADD COLUMN "tracked" BOOLEAN NOT NULL DEFAULT true,
  ADD COLUMN "untrusted_check_at" TIMESTAMPTZ(3);

-- A result that won its slot becomes a claim (callback) or evidence (job_status).
WITH held AS (
  SELECT job_id,
         ranks -> 'result' ->> 'authority' AS authority,
         is_final,
         jsonb_build_object(
           'facet', jsonb_build_object('slot', 'result', 'final', is_final, 'smileJobId', smile_job_id,
                                       'state', state::text, 'resultCode', result_code,
                                       'resultText', result_text, 'actions', COALESCE(actions, '{}'::jsonb)),
           'rank', ranks -> 'result',
           'receivedAt', (extract(epoch FROM
             CASE WHEN ranks -> 'result' ->> 'authority' = 'job_status'
                  THEN COALESCE(last_checked_at, updated_at) ELSE COALESCE(last_event_at, updated_at) END
           ) * 1000)::bigint) AS result
    FROM "jobs" WHERE ranks ? 'result'
)
UPDATE "jobs" j SET "evidence" = jsonb_build_object(
  'claims', CASE WHEN held.authority = 'callback'
                 THEN jsonb_build_object(CASE WHEN held.is_final THEN 'final' ELSE 'provisional' END, held.result)
                 ELSE '{}'::jsonb END,
  'statusFetches', CASE WHEN j.last_checked_at IS NULL THEN '[]'::jsonb
                        ELSE jsonb_build_array((extract(epoch FROM j.last_checked_at) * 1000)::bigint) END
) || CASE WHEN held.authority = 'job_status' THEN jsonb_build_object('status', held.result) ELSE '{}'::jsonb END
  FROM held WHERE j.job_id = held.job_id;

UPDATE "jobs" SET "ranks" = "ranks" - 'result';

UPDATE "jobs" SET "identity_source" = CASE
    WHEN registered_at IS NOT NULL THEN 'registration'
    WHEN confirmed THEN 'job_status'
    WHEN untrusted_event_count = event_count THEN 'untrusted'
    ELSE 'callback' END
  WHERE user_id IS NOT NULL;

-- needs_confirmation is now derived and true only while a check is due: settled and unpolled jobs clear it
-- (the others are recomputed at their next check).
UPDATE "jobs" SET "needs_confirmation" = false
 WHERE "needs_confirmation" AND (("is_final" AND "confirmed") OR "next_check_at" IS NULL);

CREATE INDEX "jobs_untrusted_check_at_idx" ON "jobs"("untrusted_check_at");

ALTER TABLE "callback_events"
  ADD COLUMN "pair_digest" TEXT,
  ADD COLUMN "body_withheld" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "identity_conflict" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "overflow" TEXT[] DEFAULT ARRAY[]::TEXT[],
  ADD COLUMN "contradicted_at" TIMESTAMPTZ(3),
  DROP COLUMN "signature",
  DROP COLUMN "timestamp_raw";

CREATE INDEX "callback_events_job_id_pair_digest_idx" ON "callback_events"("job_id", "pair_digest");
CREATE INDEX "callback_events_source_ip_received_at_idx" ON "callback_events"("source_ip", "received_at");

ALTER TABLE "status_snapshots"
  DROP COLUMN "signature",
  DROP COLUMN "timestamp_raw";

-- A stored callback stays immutable, except that job_status may mark it contradicted, once.
CREATE FUNCTION "forbid_update_but_contradiction"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('smileid.maintenance', true) = 'on' THEN
    RETURN NEW;
  END IF;
  IF OLD."contradicted_at" IS NULL AND NEW."contradicted_at" IS NOT NULL
     AND to_jsonb(NEW) - 'contradicted_at' = to_jsonb(OLD) - 'contradicted_at' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
DROP TRIGGER "callback_events_immutable" ON "callback_events";
CREATE TRIGGER "callback_events_immutable" BEFORE UPDATE ON "callback_events"
  FOR EACH ROW EXECUTE FUNCTION "forbid_update_but_contradiction"();
