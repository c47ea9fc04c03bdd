import type pg from 'pg';
import { retiredBefore } from '../../domain/webhook-endpoints.js';
import {
  CHANGES_AFTER,
  decodeChange,
  FEED_START,
  type FeedChange,
  type FeedPosition,
  VISIBLE,
} from '../change-feed.js';
import { statement } from '../sql.js';
import { inTransaction } from '../transactions.js';

/**
 * Webhook deliveries: one row per message and endpoint, made from the change feed (fan-out), retried
 * on a schedule kept here (Redis only carries the work), dead-lettered at the end of the retry window.
 * Per job and endpoint, a delivery is handed out only once every earlier one has been delivered or
 * dead-lettered: receivers see a job's changes in order.
 *
 * Each endpoint is served on its own terms, so that one slow or failing endpoint cannot take the
 * delivery slots of the others: it has at most a few deliveries handed out (leased) at once, and one
 * that stops answering backs off as a whole (see endpointFailing), then is tried one delivery at a time
 * until it answers again.
 */

export interface DeliveryDraft {
  changeId: string;
  jobId: string;
  event: string;
  messageId: string;
  payload: string;
}

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

/** How a failed attempt leaves its endpoint: backing off after one more failure in a row, or answering. */
export type EndpointVerdict = { failing: true; failures: number; backoffUntil: Date } | { failing: false };

/** The last change the feed lists now: where a new endpoint starts. */
const VISIBLE_END = statement(
  `SELECT xid::text AS xid, id::text AS id FROM job_changes WHERE ${VISIBLE}
    ORDER BY job_changes.xid DESC, job_changes.id DESC LIMIT 1`,
);

/**
 * Creates a configured endpoint, or marks an existing one configured now (see webhook-endpoints.ts): at
 * most once a minute, which is plenty against the quarter of an hour that retires it, and spares a row
 * version on every sweep.
 */
const ADD_ENDPOINT = statement<'url' | 'xid' | 'id' | 'at'>(`
INSERT INTO webhook_endpoints (url, cursor_xid, cursor_id, created_at, configured_at)
VALUES (:url, :xid::bigint, :id::bigint, :at::timestamptz, :at::timestamptz)
ON CONFLICT (url) DO UPDATE SET configured_at = EXCLUDED.configured_at
 WHERE webhook_endpoints.configured_at < EXCLUDED.configured_at - interval '1 minute'`);

const ENDPOINTS = statement<'urls'>(`
SELECT id, url, disabled_at AS "disabledAt", disabled_reason AS "disabledReason"
  FROM webhook_endpoints WHERE url = ANY(:urls::text[]) ORDER BY id`);

const LOCK_CURSOR = statement<'endpointId'>(`
SELECT cursor_xid::text AS xid, cursor_id::text AS id FROM webhook_endpoints
 WHERE id = :endpointId AND disabled_at IS NULL FOR UPDATE SKIP LOCKED`);

const INSERT_DELIVERIES = statement<'endpointId' | 'deliveries' | 'at'>(`
INSERT INTO webhook_deliveries (endpoint_id, change_id, job_id, event, message_id, payload, next_attempt_at, created_at)
SELECT :endpointId::integer, d."changeId"::bigint, d."jobId", d.event, d."messageId", d.payload,
       :at::timestamptz, :at::timestamptz
  FROM ROWS FROM (jsonb_to_recordset(:deliveries::jsonb)
         AS ("changeId" text, "jobId" text, event text, "messageId" text, payload text)) WITH ORDINALITY
       AS d("changeId", "jobId", event, "messageId", payload, ord)
 ORDER BY ord
ON CONFLICT (endpoint_id, message_id) DO NOTHING`);

const ADVANCE_CURSOR = statement<'endpointId' | 'xid' | 'id'>(`
UPDATE webhook_endpoints SET cursor_xid = :xid::bigint, cursor_id = :id::bigint WHERE id = :endpointId`);

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

const DISABLE_ENDPOINT = statement<'endpointId' | 'reason' | 'at'>(`
UPDATE webhook_endpoints SET disabled_at = :at::timestamptz, disabled_reason = :reason
 WHERE id = :endpointId AND disabled_at IS NULL`);

const ENABLE_ENDPOINT = statement<'endpointId' | 'at' | 'retiredBefore'>(`
WITH enabled AS (
  UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL
   WHERE id = :endpointId AND configured_at >= :retiredBefore::timestamptz
  RETURNING id
)
UPDATE webhook_deliveries SET next_attempt_at = :at::timestamptz, leased_until = NULL
  FROM enabled WHERE webhook_deliveries.endpoint_id = enabled.id AND webhook_deliveries.status = 'pending'`);

const ENDPOINT_STATE = statement<'endpointId' | 'retiredBefore'>(`
SELECT configured_at < :retiredBefore::timestamptz AS retired FROM webhook_endpoints WHERE id = :endpointId`);

const LIST_ENDPOINTS = statement<'retiredBefore'>(`
SELECT e.id, e.url, e.disabled_at AS "disabledAt", e.disabled_reason AS "disabledReason",
       e.configured_at AS "configuredAt", e.configured_at < :retiredBefore::timestamptz AS retired,
       e.failures, e.backoff_until AS "backoffUntil",
       count(*) FILTER (WHERE d.status = 'pending')::int AS pending,
       count(*) FILTER (WHERE d.status = 'dead')::int AS dead
  FROM webhook_endpoints e LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id
 GROUP BY e.id ORDER BY e.id`);

/** Removes a retired endpoint with every delivery it still had (they cascade). */
const REMOVE_RETIRED = statement<'endpointId' | 'retiredBefore'>(`
WITH counts AS (
  SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
         count(*) FILTER (WHERE status = 'dead')::int AS dead
    FROM webhook_deliveries WHERE endpoint_id = :endpointId
), removed AS (
  DELETE FROM webhook_endpoints WHERE id = :endpointId AND configured_at < :retiredBefore::timestamptz
  RETURNING id
)
SELECT removed.id, counts.pending, counts.dead FROM removed, counts`);

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

export interface WebhookEndpointRow {
  id: number;
  url: string;
  disabledAt: Date | null;
  disabledReason: string | null;
}

/** What removing an endpoint answered: removed with what it had, still configured, or no such endpoint. */
export type EndpointRemoval =
  | { kind: 'removed'; pending: number; dead: number }
  | { kind: 'configured' }
  | { kind: 'not_found' };

/** What an operator's request about an endpoint or its dead letter came to. */
export type EndpointAction = 'done' | 'retired' | 'not_found';

export function createWebhookStore({ pool }: { pool: pg.Pool }) {
  return {
    /**
     * The configured endpoints' rows, created as needed and marked configured at `at`. A new endpoint
     * starts at the end of the feed: it receives changes from now on, not the history. A retired one
     * that is configured again resumes where it stopped.
     */
    async ensureEndpoints(urls: readonly string[], at: Date): Promise<WebhookEndpointRow[]> {
      if (urls.length === 0) return [];
      const end = (await pool.query<FeedPosition>(VISIBLE_END.bind({}))).rows[0] ?? FEED_START;
      for (const url of urls) await pool.query(ADD_ENDPOINT.bind({ url, ...end, at }));
      return (await pool.query<WebhookEndpointRow>(ENDPOINTS.bind({ urls }))).rows;
    },

    /**
     * Turns the next `limit` changes after the endpoint's cursor into deliveries and moves the cursor, in
     * one transaction. Returns how many changes it took (0 when caught up, or another process holds it).
     */
    async fanOut(
      endpointId: number,
      limit: number,
      at: Date,
      draft: (changes: FeedChange[]) => DeliveryDraft[],
    ): Promise<number> {
      return inTransaction(pool, async (client) => {
        const cursor = (await client.query<FeedPosition>(LOCK_CURSOR.bind({ endpointId }))).rows[0];
        if (!cursor) return 0;
        const changes = (await client.query(CHANGES_AFTER.bind({ ...cursor, limit }))).rows.map(decodeChange);
        if (changes.length === 0) return 0;
        const deliveries = draft(changes);
        if (deliveries.length > 0) {
          await client.query(
            INSERT_DELIVERIES.bind({ endpointId, deliveries: JSON.stringify(deliveries), at }),
          );
        }
        await client.query(ADVANCE_CURSOR.bind({ endpointId, ...changes.at(-1)!.position }));
        return changes.length;
      });
    },

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

    async disableEndpoint(endpointId: number, reason: string, at: Date): Promise<boolean> {
      return ((await pool.query(DISABLE_ENDPOINT.bind({ endpointId, reason, at }))).rowCount ?? 0) > 0;
    },

    /** Enables an endpoint a 410 disabled: its pending deliveries become due at once. Not a retired one. */
    async enableEndpoint(endpointId: number, at: Date): Promise<EndpointAction> {
      const before = retiredBefore(at);
      const state = (
        await pool.query<{ retired: boolean }>(ENDPOINT_STATE.bind({ endpointId, retiredBefore: before }))
      ).rows[0];
      if (!state) return 'not_found';
      if (state.retired) return 'retired';
      await pool.query(ENABLE_ENDPOINT.bind({ endpointId, at, retiredBefore: before }));
      return 'done';
    },

    async listEndpoints(now: Date) {
      return (
        await pool.query<
          WebhookEndpointRow & {
            configuredAt: Date;
            retired: boolean;
            failures: number;
            backoffUntil: Date | null;
            pending: number;
            dead: number;
          }
        >(LIST_ENDPOINTS.bind({ retiredBefore: retiredBefore(now) }))
      ).rows;
    },

    /** Only a retired endpoint can be removed: a configured one would be made again at the next sweep. */
    async removeRetiredEndpoint(endpointId: number, now: Date): Promise<EndpointRemoval> {
      const before = retiredBefore(now);
      const removed = (
        await pool.query<{ pending: number; dead: number }>(
          REMOVE_RETIRED.bind({ endpointId, retiredBefore: before }),
        )
      ).rows[0];
      if (removed) return { kind: 'removed', pending: removed.pending, dead: removed.dead };
      const state =
        (await pool.query(ENDPOINT_STATE.bind({ endpointId, retiredBefore: before }))).rowCount ?? 0;
      return state > 0 ? { kind: 'configured' } : { kind: 'not_found' };
    },

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

export type WebhookStore = ReturnType<typeof createWebhookStore>;
