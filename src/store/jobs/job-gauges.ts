import type pg from 'pg';
import { retiredBefore } from '../../domain/webhook-endpoints.js';
import { FEED_HORIZON } from '../feed/feed-horizon.js';
import { countWholeBodies } from '../objects/inline-bodies.js';
import { statement } from '../sql.js';

/** Jobs per state and finality, with the flags dashboards count. */
const JOB_GAUGES = statement(
  `
SELECT state::text AS state, is_final AS "isFinal", count(*)::int AS jobs,
       count(*) FILTER (WHERE is_final AND NOT confirmed)::int AS unconfirmed,
       count(*) FILTER (WHERE needs_confirmation)::int AS untrusted,
       count(*) FILTER (WHERE stale_at IS NOT NULL)::int AS stale,
       count(*) FILTER (WHERE id_number_previously_registered)::int AS "previouslyRegistered",
       count(*) FILTER (WHERE jsonb_array_length(suspect_users) > 0)::int AS "fraudSuspects"
  FROM jobs GROUP BY state, is_final`,
  'job-gauges',
);

/** Jobs waiting for a person, and how long the one waiting longest has waited: the partial index answers it. */
const REVIEW_GAUGES = statement(
  `
SELECT count(*)::int AS jobs,
       COALESCE(greatest(extract(epoch FROM now() - min(decided_at)), 0), 0)::float8 AS "oldestSeconds"
  FROM jobs WHERE decision = 'review'`,
  'review-gauges',
);

/** Submissions per status, and how long the oldest still pending has waited. */
const SUBMISSION_GAUGES = statement(
  `
SELECT status::text AS status, count(*)::int AS submissions,
       COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS "oldestSeconds"
  FROM submissions GROUP BY status`,
  'submission-gauges',
);

/**
 * Webhook deliveries waiting, the oldest one's age, dead letters, disabled and retired endpoints. What
 * waits for a retired endpoint is no backlog (nothing is meant to send it), and a retired endpoint is
 * not counted as disabled.
 */
const NOTIFICATION_GAUGES = statement<'retiredBefore'>(
  `
WITH live AS (SELECT id FROM webhook_endpoints WHERE configured_at >= :retiredBefore::timestamptz)
SELECT count(*) FILTER (WHERE d.status = 'pending' AND live.id IS NOT NULL)::int AS pending,
       COALESCE(extract(epoch FROM now() - min(c.at) FILTER (WHERE d.status = 'pending' AND live.id IS NOT NULL)),
                0)::float8 AS "oldestPendingSeconds",
       count(*) FILTER (WHERE d.status = 'dead')::int AS dead,
       (SELECT count(*) FROM webhook_endpoints e JOIN live USING (id)
         WHERE e.disabled_at IS NOT NULL)::int AS "disabledEndpoints",
       (SELECT count(*) FROM webhook_endpoints
         WHERE configured_at < :retiredBefore::timestamptz)::int AS "retiredEndpoints"
  FROM webhook_deliveries d
  LEFT JOIN live ON live.id = d.endpoint_id
  JOIN job_changes c ON c.id = d.change_id
 WHERE d.status IN ('pending', 'dead')`,
  'notification-gauges',
);

/**
 * How long the feed has been held back: the age of the oldest change committed (this snapshot sees it)
 * but not listed, because a transaction of this database that began before it is still open.
 */
const FEED_GAUGES = statement(
  `
SELECT COALESCE(greatest(extract(epoch FROM now() - min(at)), 0), 0)::float8 AS "heldBackSeconds"
  FROM job_changes WHERE xid >= ${FEED_HORIZON}`,
  'feed-gauges',
);

export interface NotificationGaugeRow {
  pending: number;
  oldestPendingSeconds: number;
  dead: number;
  disabledEndpoints: number;
  retiredEndpoints: number;
}

export interface SubmissionGaugeRow {
  status: 'queued' | 'uploading' | 'uploaded' | 'failed';
  submissions: number;
  oldestSeconds: number;
}

export interface ReviewGaugeRow {
  jobs: number;
  oldestSeconds: number;
}

export interface JobGaugeRow {
  state: string;
  isFinal: boolean;
  jobs: number;
  unconfirmed: number;
  untrusted: number;
  stale: number;
  previouslyRegistered: number;
  fraudSuspects: number;
}

/**
 * The reads /metrics makes of Postgres. `objectStorage`: photos go to an object store, so bodies still
 * whole in Postgres are a backlog worth a gauge (with OBJECT_STORE_INLINE every body is, by choice).
 */
export function createGaugeQueries({
  pool,
  objectStorage = false,
}: {
  pool: pg.Pool;
  objectStorage?: boolean;
}) {
  return {
    /** Bodies waiting to be moved to the object store; null without one. */
    async inlineBodies(): Promise<number | null> {
      return objectStorage ? countWholeBodies(pool) : null;
    },
    async jobCounts(): Promise<JobGaugeRow[]> {
      return (await pool.query<JobGaugeRow>(JOB_GAUGES.bind({}))).rows;
    },
    async reviewQueue(): Promise<ReviewGaugeRow> {
      return (await pool.query<ReviewGaugeRow>(REVIEW_GAUGES.bind({}))).rows[0]!;
    },
    async submissionCounts(): Promise<SubmissionGaugeRow[]> {
      return (await pool.query<SubmissionGaugeRow>(SUBMISSION_GAUGES.bind({}))).rows;
    },
    async notificationCounts(now = new Date()): Promise<NotificationGaugeRow> {
      return (
        await pool.query<NotificationGaugeRow>(
          NOTIFICATION_GAUGES.bind({ retiredBefore: retiredBefore(now) }),
        )
      ).rows[0]!;
    },
    async changeFeedHeldBack(): Promise<number> {
      return (await pool.query<{ heldBackSeconds: number }>(FEED_GAUGES.bind({}))).rows[0]!.heldBackSeconds;
    },
    /** Postgres answers at all: readiness. */
    async ping(): Promise<void> {
      await pool.query('SELECT 1');
    },
  };
}

export type GaugeQueries = ReturnType<typeof createGaugeQueries>;
