import type pg from 'pg';
import { retiredBefore } from '../../domain/webhook-endpoints.js';
import { FEED_START, type FeedPosition, VISIBLE } from '../feed/change-feed.js';
import { statement } from '../sql.js';

/**
 * Webhook endpoints: one row per URL ever configured, with its cursor in the change feed, whether a 410
 * disabled it, and how it is failing. An endpoint no longer configured is retired after a while (see
 * domain/webhook-endpoints.ts); an operator can then remove it.
 */

/** The last change the feed lists now: where a new endpoint starts. */
const VISIBLE_END = statement(
  `SELECT xid::text AS xid, id::text AS id FROM job_changes WHERE ${VISIBLE}
    ORDER BY job_changes.xid DESC, job_changes.id DESC LIMIT 1`,
);

/**
 * Creates a configured endpoint, or marks an existing one configured now (see
 * domain/webhook-endpoints.ts): at most once a minute, which is plenty against the quarter of an hour
 * that retires it, and spares a row version on every sweep.
 */
const ADD_ENDPOINT = statement<'url' | 'xid' | 'id' | 'at'>(`
INSERT INTO webhook_endpoints (url, cursor_xid, cursor_id, created_at, configured_at)
VALUES (:url, :xid::bigint, :id::bigint, :at::timestamptz, :at::timestamptz)
ON CONFLICT (url) DO UPDATE SET configured_at = EXCLUDED.configured_at
 WHERE webhook_endpoints.configured_at < EXCLUDED.configured_at - interval '1 minute'`);

const ENDPOINTS = statement<'urls'>(`
SELECT id, url, disabled_at AS "disabledAt", disabled_reason AS "disabledReason"
  FROM webhook_endpoints WHERE url = ANY(:urls::text[]) ORDER BY id`);

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

export function createWebhookEndpoints({ pool }: { pool: pg.Pool }) {
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
  };
}
