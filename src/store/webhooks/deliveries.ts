import type pg from 'pg';
import { retiredBefore } from '../../domain/webhook-endpoints.js';
import { statement } from '../sql.js';

/**
 * Handing deliveries out: a due delivery is leased, so that nobody sends it twice, and loaded with what
 * sending it needs.
 */

export interface StoredDelivery {
  id: string;
  endpointId: number;
  url: string;
  endpointDisabled: boolean;
  jobId: string;
  event: string;
  messageId: string;
  payload: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  createdAt: Date;
  /** When the change it carries was committed. */
  changedAt: Date;
  /** The endpoint's failed attempts in a row (see endpointFailing). */
  endpointFailures: number;
  /** Nothing is sent to the endpoint before this. */
  endpointBackoffUntil: Date | null;
}

/**
 * The first pending delivery of each job and endpoint (of one endpoint, given `endpointId`), when due and
 * not leased, leased so that nobody hands it out twice; per endpoint, only as many as it has room for:
 * `perEndpoint` leases at once, one while it is failing, none while it backs off. Two claims at once may
 * each count the same room: the sweep runs one at a time (but for a slow one overlapping the next), and a
 * finished attempt claims at most the one lease it gave back.
 */
const CLAIMED = `
endpoints AS (
  SELECT e.id,
         GREATEST(0, CASE WHEN e.failures > 0 THEN 1 ELSE :perEndpoint::integer END
                     - (SELECT count(*) FROM webhook_deliveries l
                         WHERE l.endpoint_id = e.id AND l.status = 'pending'
                           AND l.leased_until > :now::timestamptz)::integer) AS room
    FROM webhook_endpoints e
   WHERE e.disabled_at IS NULL AND e.configured_at >= :retiredBefore::timestamptz
     AND (e.backoff_until IS NULL OR e.backoff_until <= :now::timestamptz)
     AND (:endpointId::integer IS NULL OR e.id = :endpointId::integer)
), due AS (
  SELECT picked.id FROM endpoints e CROSS JOIN LATERAL (
    SELECT d.id FROM webhook_deliveries d
     WHERE d.endpoint_id = e.id AND d.status = 'pending' AND d.next_attempt_at <= :now::timestamptz
       AND (d.leased_until IS NULL OR d.leased_until <= :now::timestamptz)
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                        WHERE p.status = 'pending' AND p.endpoint_id = d.endpoint_id AND p.job_id = d.job_id
                          AND p.id < d.id)
     ORDER BY d.next_attempt_at, d.id
     LIMIT e.room
     FOR UPDATE SKIP LOCKED
  ) picked
  LIMIT :limit::integer
), claimed AS (
  UPDATE webhook_deliveries w SET leased_until = :leaseUntil::timestamptz
    FROM due WHERE w.id = due.id
  RETURNING w.id
)`;

type ClaimParameter = 'now' | 'leaseUntil' | 'limit' | 'perEndpoint' | 'retiredBefore' | 'endpointId';

const CLAIM_DUE = statement<ClaimParameter>(
  `WITH ${CLAIMED} SELECT id::text AS id FROM claimed`,
  'webhook-claim-due',
);

/** What sending a delivery needs, from `d` (the delivery), `e` (its endpoint) and `c` (its change). */
const DELIVERY_COLUMNS = `
       d.id::text AS id, d.endpoint_id AS "endpointId", e.url, e.disabled_at IS NOT NULL AS "endpointDisabled",
       d.job_id AS "jobId", d.event, d.message_id AS "messageId", d.payload, d.status::text AS status,
       d.attempts, d.created_at AS "createdAt", c.at AS "changedAt", e.failures AS "endpointFailures",
       e.backoff_until AS "endpointBackoffUntil"`;

const LOAD = statement<'id'>(
  `
SELECT ${DELIVERY_COLUMNS}
  FROM webhook_deliveries d
  JOIN webhook_endpoints e ON e.id = d.endpoint_id
  JOIN job_changes c ON c.id = d.change_id
 WHERE d.id = :id::bigint`,
  'webhook-load',
);

/** One endpoint's next due delivery, claimed as CLAIMED says, with what sending it needs. */
const CLAIM_NEXT = statement<ClaimParameter>(
  `
WITH ${CLAIMED}
SELECT ${DELIVERY_COLUMNS}
  FROM claimed
  JOIN webhook_deliveries d ON d.id = claimed.id
  JOIN webhook_endpoints e ON e.id = d.endpoint_id
  JOIN job_changes c ON c.id = d.change_id`,
  'webhook-claim-next',
);

export function createWebhookDeliveries({ pool }: { pool: pg.Pool }) {
  return {
    /**
     * Leases due deliveries until `leaseUntil`, at most `perEndpoint` of an endpoint at once; of one
     * endpoint only, given `endpointId`.
     */
    async claimDue(
      now: Date,
      leaseUntil: Date,
      limit: number,
      perEndpoint: number,
      endpointId: number | null = null,
    ): Promise<string[]> {
      const { rows } = await pool.query<{ id: string }>(
        CLAIM_DUE.bind({
          now,
          leaseUntil,
          limit,
          perEndpoint,
          endpointId,
          retiredBefore: retiredBefore(now),
        }),
      );
      return rows.map((row) => row.id);
    },

    async load(id: string): Promise<StoredDelivery | undefined> {
      return (await pool.query<StoredDelivery>(LOAD.bind({ id }))).rows[0];
    },

    /** Leases one endpoint's next due delivery, if it has room, and answers it loaded. */
    async claimNext(
      endpointId: number,
      now: Date,
      leaseUntil: Date,
      perEndpoint: number,
    ): Promise<StoredDelivery | undefined> {
      const bound = CLAIM_NEXT.bind({
        now,
        leaseUntil,
        limit: 1,
        perEndpoint,
        endpointId,
        retiredBefore: retiredBefore(now),
      });
      return (await pool.query<StoredDelivery>(bound)).rows[0];
    },
  };
}
