import { EventEmitter, once } from 'node:events';
import pg from 'pg';
import type { JobState } from '../../domain/facets.js';
import { retiredBefore } from '../../domain/webhook-endpoints.js';
import type { OutageReporter, WatchedConnection } from '../../util/outages.js';
import { statement } from '../sql.js';
import { FEED_HORIZON } from './feed-horizon.js';

/**
 * The change feed: `job_changes`, written by a trigger on `jobs` in the transaction of each change.
 *
 * Ids are handed out when rows are inserted, not when their transactions commit, so a reader that paged
 * by id alone could pass over a change whose transaction committed after a later id's. The feed is
 * therefore ordered by (writing transaction id, id), and lists a change only once every transaction of
 * this database that could precede it has ended (feed-horizon.ts): no change can appear later behind a
 * position already handed out, and a transaction held open in another database of the server holds
 * nothing back. Per job, this is commit order: a job's writers compare-and-swap on its row, so a later
 * change's transaction starts after the earlier one committed.
 */

export interface FeedPosition {
  xid: string;
  id: string;
}

export interface FeedChange {
  position: FeedPosition;
  jobId: string;
  userId: string | null;
  fromState: JobState | null;
  toState: JobState;
  fromFinal: boolean | null;
  toFinal: boolean;
  fromConfirmed: boolean | null;
  confirmed: boolean;
  /** The job's decision before the change, as the trigger records it; null for a new job (and old changes). */
  fromDecision: Record<string, unknown> | null;
  /** The job as it stood after the change, without identity data, its decision included (the trigger's). */
  outcome: Record<string, unknown>;
  at: Date;
}

/** Before every change. */
export const FEED_START: FeedPosition = { xid: '0', id: '0' };

/** Rows whose transactions, and every one of this database before them, have ended. */
export const VISIBLE = `xid < ${FEED_HORIZON}`;

const CHANGE_COLUMNS = `xid::text AS xid, id::text AS id, job_id AS "jobId", user_id AS "userId",
       from_state::text AS "fromState", to_state::text AS "toState", from_final AS "fromFinal",
       to_final AS "toFinal", from_confirmed AS "fromConfirmed", confirmed, from_decision AS "fromDecision",
       outcome, at`;

/**
 * The changes after a feed position, in feed order. The order names the table's columns: bare `xid, id`
 * would be the text columns of the output, which sort "11" before "4".
 */
export const CHANGES_AFTER = statement<'xid' | 'id' | 'limit'>(
  `SELECT ${CHANGE_COLUMNS} FROM job_changes
    WHERE (xid, id) > (:xid::bigint, :id::bigint) AND ${VISIBLE}
    ORDER BY job_changes.xid, job_changes.id LIMIT :limit::integer`,
  'feed-read',
);

/**
 * Changes past retention, unless a webhook still has to carry them: a pending delivery, or a change
 * not yet made into deliveries for an endpoint that is not retired (one disabled by a 410 keeps its
 * place until it is enabled again).
 */
const PURGE = statement<'before' | 'limit' | 'retiredBefore'>(`
DELETE FROM job_changes WHERE id IN (
  SELECT c.id FROM job_changes c
   WHERE c.at < :before::timestamptz
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.change_id = c.id AND d.status = 'pending')
     AND NOT EXISTS (SELECT 1 FROM webhook_endpoints e
                      WHERE e.configured_at >= :retiredBefore::timestamptz
                        AND (c.xid, c.id) > (e.cursor_xid, e.cursor_id))
   LIMIT :limit::integer)`);

export function decodeChange(row: Record<string, unknown>): FeedChange {
  return {
    position: { xid: row.xid as string, id: row.id as string },
    jobId: row.jobId as string,
    userId: row.userId as string | null,
    fromState: row.fromState as JobState | null,
    toState: row.toState as JobState,
    fromFinal: row.fromFinal as boolean | null,
    toFinal: row.toFinal as boolean,
    fromConfirmed: row.fromConfirmed as boolean | null,
    confirmed: row.confirmed as boolean,
    fromDecision: (row.fromDecision as Record<string, unknown> | null) ?? null,
    outcome: row.outcome as Record<string, unknown>,
    at: row.at as Date,
  };
}

export function createChangeFeed({ pool }: { pool: pg.Pool }) {
  return {
    /** Up to `limit` changes after `after`, in feed order. */
    async read(after: FeedPosition, limit: number): Promise<FeedChange[]> {
      const { rows } = await pool.query(CHANGES_AFTER.bind({ ...after, limit }));
      return rows.map(decodeChange);
    },

    /** Deletes changes older than `before`, a batch at a time; returns how many. */
    /** Removes changes older than `before`, except those a webhook still has to carry at `now`. */
    async purge(before: Date, batchSize: number, now = new Date()): Promise<number> {
      let total = 0;
      for (;;) {
        const deleted =
          (await pool.query(PURGE.bind({ before, limit: batchSize, retiredBefore: retiredBefore(now) })))
            .rowCount ?? 0;
        total += deleted;
        if (deleted < batchSize) return total;
      }
    },
  };
}

export type ChangeFeed = ReturnType<typeof createChangeFeed>;

const RECONNECT_MS = 1000;

/**
 * Wakes long polls when a change commits: one connection per process LISTENs on `job_changes`, which
 * the trigger NOTIFYs. While it is reconnecting, waits end at their own deadline, and the feed is read
 * again then, so nothing is missed, only seen later. Its failures go to `outages` (the process's one
 * reporter of Postgres outages), so an outage is said once and its end once, however often the listener
 * retries meanwhile, and any other failure is logged.
 */
export function createChangeSignal({ url, outages }: { url: string; outages: OutageReporter }) {
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  // Counts the signals, so that one arriving between a reader's look and its wait is not missed.
  let generation = 0;
  const signal = () => {
    generation += 1;
    changes.emit('change');
  };
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  // The listener as the outage reporter watches it: ready while it listens.
  const listening = Object.assign(new EventEmitter(), { status: 'connecting' });
  outages.watch(listening as EventEmitter & WatchedConnection, 'change feed listener error; reconnecting');
  const failed = (error: unknown) => {
    listening.status = 'reconnecting';
    listening.emit('error', error);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({ connectionString: url });
    next.on('notification', signal);
    next.on('error', (error) => {
      failed(error);
      // Said just above; ending a client whose connection is already lost has nothing left to fail.
      next.end().catch(() => undefined);
      if (client === next) client = undefined;
      schedule();
    });
    try {
      await next.connect();
      await next.query('LISTEN job_changes');
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      listening.status = 'ready';
      listening.emit('ready');
      // A change may have committed while no connection listened.
      signal();
    } catch (error) {
      failed(error);
      // Said just above; ending a client that never connected has nothing left to fail.
      next.end().catch(() => undefined);
      schedule();
    }
  }

  function schedule() {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, RECONNECT_MS);
  }

  return {
    start: () => connect(),
    /**
     * Call before looking at the feed; the function it answers resolves on the first change committed
     * since (at once if one already was), or when its signal aborts (a deadline, a shutdown).
     */
    watch(): (until: AbortSignal) => Promise<void> {
      const seen = generation;
      return async (until) => {
        if (generation !== seen || closed) return;
        // `changes` never emits 'error': this rejects only when `until` aborts, which ends the wait too.
        await once(changes, 'change', { signal: until }).catch(() => undefined);
      };
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      signal();
      // Closing: a listener whose connection is already lost is as closed as one that ends cleanly.
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}

export type ChangeSignal = ReturnType<typeof createChangeSignal>;
