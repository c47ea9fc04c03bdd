import type pg from 'pg';
import { statement } from '../sql.js';

/**
 * What each attempt came to: delivered, failed (to be retried, or dead at the end of the retry window),
 * or postponed; each also says whether the delivery's endpoint is answering or failing.
 */

/** How a failed attempt leaves its endpoint: backing off after one more failure in a row, or answering. */
export type EndpointVerdict = { failing: true; failures: number; backoffUntil: Date } | { failing: false };

/** An endpoint that answered is failing no more (a no-op, with no new row version, when it was not). */
const ANSWERING = `
UPDATE webhook_endpoints e SET failures = 0, backoff_until = NULL
  FROM done WHERE e.id = done.endpoint_id AND (e.failures > 0 OR e.backoff_until IS NOT NULL)`;

/** Delivered, its lease ended, and its endpoint answering. */
const MARK_DELIVERED = statement<'id' | 'at' | 'status'>(
  `
WITH done AS (
  UPDATE webhook_deliveries SET status = 'delivered', delivered_at = :at::timestamptz, attempts = attempts + 1,
                                last_status = :status::integer, last_error = NULL, leased_until = NULL
   WHERE id = :id::bigint AND status = 'pending'
  RETURNING endpoint_id
), answering AS (${ANSWERING}
)
SELECT count(*)::int AS delivered FROM done`,
  'webhook-delivered',
);

/** A failed attempt recorded, its lease ended; its endpoint backing off (failing) or answering. */
const MARK_FAILED = statement<
  'id' | 'at' | 'error' | 'status' | 'nextAttemptAt' | 'dead' | 'endpointFailures' | 'backoffUntil'
>(
  `
WITH done AS (
  UPDATE webhook_deliveries
     SET attempts = attempts + 1, last_error = :error, last_status = :status::integer,
         next_attempt_at = :nextAttemptAt::timestamptz, leased_until = NULL,
         status = CASE WHEN :dead::boolean THEN 'dead'::delivery_status ELSE status END,
         dead_at = CASE WHEN :dead::boolean THEN :at::timestamptz END
   WHERE id = :id::bigint AND status = 'pending'
  RETURNING endpoint_id
), failing AS (
  -- Attempts that failed together, at the same count, count once: concurrent timeouts are one failure.
  UPDATE webhook_endpoints e SET failures = GREATEST(e.failures, :endpointFailures::integer),
                                 backoff_until = GREATEST(e.backoff_until, :backoffUntil::timestamptz)
    FROM done WHERE e.id = done.endpoint_id AND :endpointFailures::integer > 0
), answering AS (${ANSWERING} AND :endpointFailures::integer = 0
)
SELECT 1`,
  'webhook-failed',
);

/** Not attempted now: due again at `until`, its lease ended. */
const POSTPONE = statement<'id' | 'until'>(`
UPDATE webhook_deliveries SET next_attempt_at = :until::timestamptz, leased_until = NULL
 WHERE id = :id::bigint AND status = 'pending'`);

export function createDeliveryAttempts({ pool }: { pool: pg.Pool }) {
  return {
    /** False when it was not pending any more. */
    async markDelivered(id: string, at: Date, status: number): Promise<boolean> {
      const row = (await pool.query<{ delivered: number }>(MARK_DELIVERED.bind({ id, at, status }))).rows[0];
      return (row?.delivered ?? 0) > 0;
    },

    async markFailed(
      id: string,
      failure: {
        at: Date;
        error: string;
        status: number | null;
        nextAttemptAt: Date;
        dead: boolean;
        endpoint: EndpointVerdict;
      },
    ): Promise<void> {
      const { endpoint, ...delivery } = failure;
      await pool.query(
        MARK_FAILED.bind({
          id,
          ...delivery,
          endpointFailures: endpoint.failing ? endpoint.failures : 0,
          backoffUntil: endpoint.failing ? endpoint.backoffUntil : null,
        }),
      );
    },

    async postpone(id: string, until: Date): Promise<void> {
      await pool.query(POSTPONE.bind({ id, until }));
    },
  };
}
