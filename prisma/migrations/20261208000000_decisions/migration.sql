-- Each job's decision (src/domain/decision/): what to do with the user, derived by the decision policy
-- from the job's confirmed evidence in the same statement that writes the evidence, or given by a person.
-- Jobs that exist already keep the decision of a job with no result until the replay of the policy in
-- force (src/decide/) re-evaluates them: their `decision_policy_version` is NULL, which no policy has.

CREATE TYPE "job_decision" AS ENUM ('approve', 'review', 'reject', 'retry', 'pending');

ALTER TABLE "jobs"
  ADD COLUMN "decision" "job_decision" NOT NULL DEFAULT 'pending',
  ADD COLUMN "decision_reasons" TEXT[] NOT NULL DEFAULT ARRAY['no_result']::TEXT[],
  -- The users the decision names: {previousRegistrantUserIds, suspectUserIds}, when its rule read them.
  ADD COLUMN "decision_details" JSONB NOT NULL DEFAULT '{}',
  -- `policy`, or `operator` for a person's decision.
  ADD COLUMN "decision_source" TEXT NOT NULL DEFAULT 'policy',
  ADD COLUMN "decision_rule" TEXT NOT NULL DEFAULT 'no_result',
  -- `name@digest` of the policy that decided; NULL until a policy has.
  ADD COLUMN "decision_policy_version" TEXT,
  ADD COLUMN "decided_at" TIMESTAMPTZ(3);

UPDATE "jobs" SET "decided_at" = "created_at";
ALTER TABLE "jobs" ALTER COLUMN "decided_at" SET NOT NULL, ALTER COLUMN "decided_at" SET DEFAULT CURRENT_TIMESTAMP;

-- GET /v1/jobs?decision=…, in the paging order.
CREATE INDEX "jobs_decision_seq_idx" ON "jobs"("decision", "seq");
-- The replay finds the policy's decisions made under another version (or none) without reading every job.
CREATE INDEX "jobs_decision_policy_version_idx" ON "jobs"("decision_policy_version") WHERE "decision_source" = 'policy';

-- The decision as the change feed and webhooks carry it.
CREATE FUNCTION "job_decision_json"("decision" "job_decision", "reasons" TEXT[], "details" JSONB, "source" TEXT,
                                    "rule" TEXT, "policy_version" TEXT, "decided_at" TIMESTAMPTZ)
RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('value', decision, 'reasons', to_jsonb(reasons), 'details', details,
                            'source', source, 'rule', rule, 'policyVersion', policy_version,
                            'decidedAt', decided_at)
$$;

-- A change: the decision before it, so that a webhook can say the decision changed (`job.decided`).
ALTER TABLE "job_changes" ADD COLUMN "from_decision" JSONB;

-- The trigger of 20261205000000_notifications, now also recording a change of decision (its value,
-- reasons, the users they name, its rule or its source; a new policy version alone is not a change)
-- and carrying the decision in the outcome.
CREATE OR REPLACE FUNCTION "record_job_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.state = NEW.state AND OLD.is_final = NEW.is_final AND OLD.confirmed = NEW.confirmed
     AND OLD.result_code IS NOT DISTINCT FROM NEW.result_code
     AND OLD.user_id IS NOT DISTINCT FROM NEW.user_id
     AND OLD.id_number_previously_registered IS NOT DISTINCT FROM NEW.id_number_previously_registered
     AND OLD.previous_registrant_user_ids = NEW.previous_registrant_user_ids
     AND OLD.suspect_users = NEW.suspect_users
     AND OLD.smile_secure_code IS NOT DISTINCT FROM NEW.smile_secure_code
     AND OLD.decision = NEW.decision AND OLD.decision_reasons = NEW.decision_reasons
     AND OLD.decision_details = NEW.decision_details AND OLD.decision_rule = NEW.decision_rule
     AND OLD.decision_source = NEW.decision_source THEN
    RETURN NULL;
  END IF;
  INSERT INTO "job_changes" ("job_id", "user_id", "from_state", "to_state", "from_final", "to_final",
                             "from_confirmed", "confirmed", "from_decision", "outcome", "at")
  VALUES (NEW.job_id, NEW.user_id,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END, NEW.state,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.is_final END, NEW.is_final,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.confirmed END, NEW.confirmed,
          CASE WHEN TG_OP = 'UPDATE' THEN
            "job_decision_json"(OLD.decision, OLD.decision_reasons, OLD.decision_details, OLD.decision_source,
                                OLD.decision_rule, OLD.decision_policy_version, OLD.decided_at) END,
          jsonb_build_object(
            'jobId', NEW.job_id, 'userId', NEW.user_id, 'jobType', NEW.job_type,
            'smileJobId', NEW.smile_job_id, 'state', NEW.state, 'isFinal', NEW.is_final,
            'confirmed', NEW.confirmed, 'needsConfirmation', NEW.needs_confirmation,
            'resultCode', NEW.result_code, 'resultText', NEW.result_text,
            'actions', COALESCE(NEW.actions, '{}'::jsonb),
            'idNumberPreviouslyRegistered', NEW.id_number_previously_registered,
            'previousRegistrantUserIds', to_jsonb(NEW.previous_registrant_user_ids),
            'suspectUsers', NEW.suspect_users, 'smileSecureCode', NEW.smile_secure_code,
            'decision', "job_decision_json"(NEW.decision, NEW.decision_reasons, NEW.decision_details,
                                            NEW.decision_source, NEW.decision_rule,
                                            NEW.decision_policy_version, NEW.decided_at),
            'createdAt', NEW.created_at, 'updatedAt', NEW.updated_at, 'finalizedAt', NEW.finalized_at),
          NEW.updated_at);
  -- Delivered at commit, to API processes holding a long poll of the feed.
  PERFORM pg_notify('job_changes', '');
  RETURN NULL;
END
$$;

-- Every decision policy version a worker has run, with its canonical form: which policies decided, and
-- since when. The replay of a version runs only while it is the one a process started with last, so that
-- during a rolling deployment the processes still on the previous version stop replaying theirs.
CREATE TABLE "decision_policies" (
    "version" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "canonical" JSONB NOT NULL,
    "first_started_at" TIMESTAMPTZ(3) NOT NULL,
    "last_started_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "decision_policies_pkey" PRIMARY KEY ("version")
);
CREATE INDEX "decision_policies_last_started_at_idx" ON "decision_policies"("last_started_at");
