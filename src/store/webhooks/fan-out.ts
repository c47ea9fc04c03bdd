import type pg from 'pg';
import { CHANGES_AFTER, decodeChange, type FeedChange, type FeedPosition } from '../feed/change-feed.js';
import { statement } from '../sql.js';
import { inTransaction } from '../transactions.js';

/**
 * Fan-out: each endpoint follows the change feed with a cursor of its own, and every change it passes
 * becomes that endpoint's deliveries, in the same transaction as the cursor's move.
 */

export interface DeliveryDraft {
  changeId: string;
  jobId: string;
  event: string;
  messageId: string;
  payload: string;
}

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

export function createWebhookFanOut({ pool }: { pool: pg.Pool }) {
  return {
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
  };
}
