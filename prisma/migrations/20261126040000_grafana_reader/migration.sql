-- Read-only reporting for Grafana: views made for the dashboards in a schema of their own, readable by
-- the NOLOGIN role smileid_grafana_reader and by nothing else. The views carry counts, states, codes,
-- times and job ids only: never identity data (id_info, names, ID numbers), bodies, or other users' ids.
-- Grafana logs in as a LOGIN role that is a member of smileid_grafana_reader (grafana/postgres/
-- grafana-login.sql, run by compose's grafana-login step); that login gets nothing on the base tables.

-- Roles are cluster-wide: another database on this server may have created it already, or be creating
-- it right now (its migration holds its own database's advisory lock, not ours).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'smileid_grafana_reader') THEN
    CREATE ROLE "smileid_grafana_reader" NOLOGIN;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

CREATE SCHEMA "reporting";
COMMENT ON SCHEMA "reporting" IS
  'Views for the Grafana dashboards; readable by smileid_grafana_reader. No identity data.';

-- The views run with their owner's rights (the migrating role), which is what lets the reader see
-- aggregates of tables it cannot read. Since Postgres 15 no role but the owner may create objects in
-- public, so the reader cannot plant a leaky function to peek at rows the views filter out.

-- Jobs by state, finality and confirmation: the totals behind the Job states dashboard.
CREATE VIEW "reporting"."job_counts" AS
SELECT state::text AS state, is_final, confirmed, count(*) AS jobs
  FROM "jobs"
 GROUP BY state, is_final, confirmed;

-- Final outcomes per UTC day (by the day the job became final), with approval and rejection rates.
CREATE VIEW "reporting"."daily_outcomes" AS
SELECT date_trunc('day', finalized_at, 'UTC') AS day,
       count(*) FILTER (WHERE state = 'approved') AS approved,
       count(*) FILTER (WHERE state = 'rejected') AS rejected,
       count(*) FILTER (WHERE state = 'failed') AS failed,
       count(*) AS finals,
       round(count(*) FILTER (WHERE state = 'approved')::numeric / count(*), 4) AS approval_rate,
       round(count(*) FILTER (WHERE state = 'rejected')::numeric / count(*), 4) AS rejection_rate,
       round(count(*) FILTER (WHERE state = 'failed')::numeric / count(*), 4) AS failure_rate
  FROM "jobs"
 WHERE is_final AND finalized_at IS NOT NULL AND state IN ('approved', 'rejected', 'failed')
 GROUP BY 1;

-- Time from a job first being seen (registration or first callback) to its first final result, per
-- UTC day of that result: the SQL twin of smileid_job_time_to_final_seconds.
CREATE VIEW "reporting"."time_to_final_daily" AS
SELECT date_trunc('day', finalized_at, 'UTC') AS day,
       count(*) AS finals,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95_seconds,
       max(seconds) AS max_seconds
  FROM (SELECT finalized_at,
               greatest(0, extract(epoch FROM finalized_at - created_at))::double precision AS seconds
          FROM "jobs"
         WHERE finalized_at IS NOT NULL) AS finals
 GROUP BY 1;

-- Open jobs by how long they have been in their current state: pending (waiting for a first result)
-- and provisional (waiting for human review). Every bucket appears, with 0 when empty.
CREATE VIEW "reporting"."open_job_aging" AS
WITH buckets (bucket_order, age_bucket, lower_bound, upper_bound) AS (
  VALUES (1, '< 1h', interval '0', interval '1 hour'),
         (2, '1h-4h', interval '1 hour', interval '4 hours'),
         (3, '4h-24h', interval '4 hours', interval '24 hours'),
         (4, '1d-3d', interval '1 day', interval '3 days'),
         (5, '3d-7d', interval '3 days', interval '7 days'),
         (6, '>= 7d', interval '7 days', NULL::interval)
),
open_jobs AS (
  SELECT j.state, now() - coalesce(entered.at, j.created_at) AS age
    FROM "jobs" j
    LEFT JOIN LATERAL (
      SELECT max(t.at) AS at FROM "job_transitions" t WHERE t.job_id = j.job_id AND t.to_state = j.state
    ) entered ON true
   WHERE NOT j.is_final AND j.state IN ('pending', 'provisional')
)
SELECT s.state::text AS state, b.bucket_order, b.age_bucket, count(o.state) AS jobs
  FROM (VALUES ('pending'::job_state), ('provisional'::job_state)) AS s (state)
 CROSS JOIN buckets b
  LEFT JOIN open_jobs o
    ON o.state = s.state AND o.age >= b.lower_bound AND (b.upper_bound IS NULL OR o.age < b.upper_bound)
 GROUP BY s.state, b.bucket_order, b.age_bucket;

-- Jobs whose ID number Smile ID had already seen with another user, and jobs Smile Secure flagged.
-- Counts only: the other users' ids stay in the base table.
CREATE VIEW "reporting"."previously_registered_jobs" AS
SELECT job_id, state::text AS state, is_final, confirmed,
       cardinality(previous_registrant_user_ids) AS previous_registrants, created_at, updated_at
  FROM "jobs"
 WHERE id_number_previously_registered;

CREATE VIEW "reporting"."fraud_suspect_jobs" AS
SELECT job_id, state::text AS state, is_final, confirmed, smile_secure_code,
       jsonb_array_length(suspect_users) AS suspects, created_at, updated_at
  FROM "jobs"
 WHERE jsonb_typeof(suspect_users) = 'array' AND suspect_users <> '[]'::jsonb;

-- Per UTC day of first sight: new jobs, and how many carried each risk flag.
CREATE VIEW "reporting"."daily_risk_flags" AS
SELECT date_trunc('day', created_at, 'UTC') AS day,
       count(*) AS jobs,
       count(*) FILTER (WHERE id_number_previously_registered) AS previously_registered,
       count(*) FILTER (WHERE jsonb_typeof(suspect_users) = 'array' AND suspect_users <> '[]'::jsonb)
         AS fraud_suspects
  FROM "jobs"
 GROUP BY 1;

-- Jobs polled until the horizon without a confirmed final result: they need a person.
CREATE VIEW "reporting"."stale_jobs" AS
SELECT job_id, state::text AS state, is_final, confirmed, needs_confirmation, check_count,
       created_at, last_checked_at, stale_at
  FROM "jobs"
 WHERE stale_at IS NOT NULL;

-- Stored callbacks per UTC hour, by what they carried and whether they were trusted (applied).
CREATE VIEW "reporting"."callbacks_hourly" AS
SELECT date_trunc('hour', received_at, 'UTC') AS hour,
       coalesce(nullif(array_to_string(facets, '+'), ''), 'unknown') AS kind,
       trusted,
       untrusted_reason,
       count(*) AS callbacks,
       sum(body_bytes) AS body_bytes
  FROM "callback_events"
 GROUP BY 1, 2, 3, 4;

-- The reader may look into reporting and read these views; it gets nothing on the base tables.
REVOKE ALL ON SCHEMA "reporting" FROM PUBLIC;
GRANT USAGE ON SCHEMA "reporting" TO "smileid_grafana_reader";
GRANT SELECT ON
  "reporting"."job_counts",
  "reporting"."daily_outcomes",
  "reporting"."time_to_final_daily",
  "reporting"."open_job_aging",
  "reporting"."previously_registered_jobs",
  "reporting"."fraud_suspect_jobs",
  "reporting"."daily_risk_flags",
  "reporting"."stale_jobs",
  "reporting"."callbacks_hourly"
  TO "smileid_grafana_reader";
