-- The change feed and its webhook deliveries. Every change of what a consumer of a job can see (state,
-- finality, confirmation, result code, risk facts, user) is recorded by a trigger in the transaction
-- that makes it, whichever writer that is: the feed can neither miss a change nor show one that did not
-- commit. `xid` orders the feed (src/store/change-feed.ts); `outcome` is the job as webhooks carry it,
-- without identity data.

CREATE TABLE "job_changes" (
    "id" BIGSERIAL NOT NULL,
    "xid" BIGINT NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    "job_id" TEXT NOT NULL,
    "user_id" TEXT,
    "from_state" "job_state",
    "to_state" "job_state" NOT NULL,
    "from_final" BOOLEAN,
    "to_final" BOOLEAN NOT NULL,
    "from_confirmed" BOOLEAN,
    "confirmed" BOOLEAN NOT NULL,
    "outcome" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "job_changes_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "job_changes_xid_id_idx" ON "job_changes"("xid", "id");
CREATE INDEX "job_changes_at_idx" ON "job_changes"("at");
CREATE INDEX "job_changes_job_id_idx" ON "job_changes"("job_id");

CREATE FUNCTION "record_job_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.state = NEW.state AND OLD.is_final = NEW.is_final AND OLD.confirmed = NEW.confirmed
     AND OLD.result_code IS NOT DISTINCT FROM NEW.result_code
     AND OLD.user_id IS NOT DISTINCT FROM NEW.user_id
     AND OLD.id_number_previously_registered IS NOT DISTINCT FROM NEW.id_number_previously_registered
     AND OLD.previous_registrant_user_ids = NEW.previous_registrant_user_ids
     AND OLD.suspect_users = NEW.suspect_users
     AND OLD.smile_secure_code IS NOT DISTINCT FROM NEW.smile_secure_code THEN
    RETURN NULL;
  END IF;
  INSERT INTO "job_changes" ("job_id", "user_id", "from_state", "to_state", "from_final", "to_final",
                             "from_confirmed", "confirmed", "outcome", "at")
  VALUES (NEW.job_id, NEW.user_id,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END, NEW.state,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.is_final END, NEW.is_final,
          CASE WHEN TG_OP = 'UPDATE' THEN OLD.confirmed END, NEW.confirmed,
          jsonb_build_object(
            'jobId', NEW.job_id, 'userId', NEW.user_id, 'jobType', NEW.job_type,
            'smileJobId', NEW.smile_job_id, 'state', NEW.state, 'isFinal', NEW.is_final,
            'confirmed', NEW.confirmed, 'needsConfirmation', NEW.needs_confirmation,
            'resultCode', NEW.result_code, 'resultText', NEW.result_text,
            'actions', COALESCE(NEW.actions, '{}'::jsonb),
            'idNumberPreviouslyRegistered', NEW.id_number_previously_registered,
            'previousRegistrantUserIds', to_jsonb(NEW.previous_registrant_user_ids),
            'suspectUsers', NEW.suspect_users, 'smileSecureCode', NEW.smile_secure_code,
            'createdAt', NEW.created_at, 'updatedAt', NEW.updated_at, 'finalizedAt', NEW.finalized_at),
          NEW.updated_at);
  -- Delivered at commit, to API processes holding a long poll of the feed.
  PERFORM pg_notify('job_changes', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER "jobs_record_change" AFTER INSERT OR UPDATE ON "jobs"
  FOR EACH ROW EXECUTE FUNCTION "record_job_change"();

-- Jobs that exist already start the feed with their current state.
INSERT INTO "job_changes" ("job_id", "user_id", "from_state", "to_state", "from_final", "to_final",
                           "from_confirmed", "confirmed", "outcome", "at")
SELECT job_id, user_id, NULL, state, NULL, is_final, NULL, confirmed,
       jsonb_build_object(
         'jobId', job_id, 'userId', user_id, 'jobType', job_type, 'smileJobId', smile_job_id,
         'state', state, 'isFinal', is_final, 'confirmed', confirmed, 'needsConfirmation', needs_confirmation,
         'resultCode', result_code, 'resultText', result_text, 'actions', COALESCE(actions, '{}'::jsonb),
         'idNumberPreviouslyRegistered', id_number_previously_registered,
         'previousRegistrantUserIds', to_jsonb(previous_registrant_user_ids),
         'suspectUsers', suspect_users, 'smileSecureCode', smile_secure_code,
         'createdAt', created_at, 'updatedAt', updated_at, 'finalizedAt', finalized_at),
       updated_at
  FROM "jobs" ORDER BY seq;

-- One row per configured endpoint (NOTIFY_WEBHOOK_URLS); its secret stays in the environment.
CREATE TABLE "webhook_endpoints" (
    "id" SERIAL NOT NULL,
    "url" TEXT NOT NULL,
    -- The feed position up to which its deliveries exist (xid, id of the last change fanned out).
    "cursor_xid" BIGINT NOT NULL,
    "cursor_id" BIGINT NOT NULL,
    -- Set when the endpoint answered 410 Gone: nothing is sent until an operator enables it again.
    "disabled_at" TIMESTAMPTZ(3),
    "disabled_reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "webhook_endpoints_url_key" ON "webhook_endpoints"("url");

CREATE TYPE "delivery_status" AS ENUM ('pending', 'delivered', 'dead');

CREATE TABLE "webhook_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "endpoint_id" INTEGER NOT NULL,
    "change_id" BIGINT NOT NULL,
    "job_id" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    -- `webhook-id`: the same on every attempt, so receivers can drop a repeat.
    "message_id" TEXT NOT NULL,
    -- The exact body sent, fixed when the delivery is created.
    "payload" TEXT NOT NULL,
    "status" "delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT,
    "last_status" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "delivered_at" TIMESTAMPTZ(3),
    "dead_at" TIMESTAMPTZ(3),

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries"("endpoint_id", "job_id", "id") WHERE "status" = 'pending';
CREATE INDEX "webhook_deliveries_next_attempt_at_idx" ON "webhook_deliveries"("next_attempt_at") WHERE "status" = 'pending';
CREATE INDEX "webhook_deliveries_dead_idx" ON "webhook_deliveries"("id") WHERE "status" = 'dead';
CREATE INDEX "webhook_deliveries_change_id_idx" ON "webhook_deliveries"("change_id");
-- A change fanned out twice to an endpoint makes its messages once.
CREATE UNIQUE INDEX "webhook_deliveries_endpoint_id_message_id_key" ON "webhook_deliveries"("endpoint_id", "message_id");

ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_change_id_fkey" FOREIGN KEY ("change_id") REFERENCES "job_changes"("id") ON DELETE CASCADE ON UPDATE CASCADE;
