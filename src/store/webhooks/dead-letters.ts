import type pg from 'pg';
import { retiredBefore } from '../../domain/webhook-endpoints.js';
import { statement } from '../sql.js';
import type { EndpointAction } from './endpoints.js';

/**
 * Dead letters: deliveries that failed until the end of their retry window, kept for an operator to
 * list and send again.
 */

const LIST_DEAD = statement<'afterId' | 'limit'>(`
SELECT d.id::text AS id, e.url AS endpoint, d.event, d.job_id AS "jobId", d.message_id AS "messageId",
       d.attempts, d.last_error AS "lastError", d.last_status AS "lastStatus", d.created_at AS "createdAt",
       d.dead_at AS "deadAt"
  FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
 WHERE d.status = 'dead' AND d.id > :afterId::bigint
 ORDER BY d.id LIMIT :limit::integer`);

/** A dead letter is sent again only to an endpoint that is still configured. */
const REDELIVER = statement<'id' | 'at' | 'retiredBefore'>(`
UPDATE webhook_deliveries d
   SET status = 'pending', attempts = 0, dead_at = NULL, next_attempt_at = :at::timestamptz,
       leased_until = NULL, created_at = :at::timestamptz
  FROM webhook_endpoints e
 WHERE d.id = :id::bigint AND d.status = 'dead'
   AND e.id = d.endpoint_id AND e.configured_at >= :retiredBefore::timestamptz
RETURNING d.id::text AS id`);

const DEAD_LETTER_EXISTS = statement<'id'>(
  `SELECT 1 FROM webhook_deliveries WHERE id = :id::bigint AND status = 'dead'`,
);

export function createDeadLetters({ pool }: { pool: pg.Pool }) {
  return {
    async listDead(afterId: string, limit: number) {
      return (
        await pool.query<{
          id: string;
          endpoint: string;
          event: string;
          jobId: string;
          messageId: string;
          attempts: number;
          lastError: string | null;
          lastStatus: number | null;
          createdAt: Date;
          deadAt: Date;
        }>(LIST_DEAD.bind({ afterId, limit }))
      ).rows;
    },

    /** Sends a dead letter again, its retry window started anew; not to a retired endpoint. */
    async redeliver(id: string, at: Date): Promise<EndpointAction> {
      if (
        ((await pool.query(REDELIVER.bind({ id, at, retiredBefore: retiredBefore(at) }))).rowCount ?? 0) > 0
      ) {
        return 'done';
      }
      return ((await pool.query(DEAD_LETTER_EXISTS.bind({ id }))).rowCount ?? 0) > 0
        ? 'retired'
        : 'not_found';
    },
  };
}
