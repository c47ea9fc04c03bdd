/**
 * The change feed's visibility horizon: the feed lists a change only when its transaction id (`xid`) is
 * below it, so that no change can later commit behind a position already handed out (change-feed.ts).
 *
 * Only a transaction of this database can write `job_changes`. The horizon is therefore the reader's
 * snapshot's `xmax`, lowered to every transaction that snapshot saw running (`xip`, which lists the whole
 * server's) unless that transaction is known to belong to another database. An entry of `xip` holds the
 * horizon when
 *   - a backend of this database still runs it (`pg_stat_activity.backend_xid`), or it is a prepared
 *     transaction of this database (`pg_prepared_xacts`): it may commit a change later;
 *   - or it is no longer in progress: it ended after the snapshot, in this database or another, and the
 *     snapshot does not see what it wrote.
 * What is left is a transaction still running in another database (such as a session held open in
 * `postgres`), which can never write our rows: it no longer holds the feed back.
 *
 * The order of these looks matters. A transaction of this database that ends between the snapshot and
 * the look at `pg_stat_activity` is in neither list, so `pg_xact_status` must be asked after both: the
 * CASE below asks it only once the membership test has read both lists in full (a CASE evaluates its
 * branches in order, and the materialized CTE is read before the test answers false). Backends are read
 * before prepared transactions (UNION ALL runs in order), so one that prepares meanwhile is seen in one
 * list or the other. `pg_stat_activity` is read once per transaction and cached, so the horizon must be
 * the first look at it in its transaction; every reader runs it in a statement of its own or first.
 *
 * Ids above `xmax` may be running without being listed in `xip`: `xmax` bounds the horizon for them.
 * `backend_xid` and `pg_prepared_xacts.transaction` are 32-bit; they are compared with the 64-bit `xip`
 * entries modulo 2^32, which is exact since no two running ids are 2^32 apart. The reader's own
 * transaction, which a snapshot never lists in `xip`, holds the horizon too: nothing uncommitted is
 * listed, even to the transaction that wrote it.
 */
export const FEED_HORIZON = `(
  WITH snapshot AS (SELECT pg_current_snapshot() AS s),
  writers AS MATERIALIZED (
    SELECT backend_xid::text::bigint AS xid32 FROM pg_stat_activity
     WHERE datname = current_database() AND backend_xid IS NOT NULL
    UNION ALL
    SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database()
  )
  SELECT least(
    pg_snapshot_xmax(s)::text::bigint,
    pg_current_xact_id_if_assigned()::text::bigint,
    (SELECT min(running::text::bigint) FROM pg_snapshot_xip(s) AS running
      WHERE CASE WHEN running::text::bigint % 4294967296 IN (SELECT xid32 FROM writers) THEN true
                 ELSE pg_xact_status(running) IS DISTINCT FROM 'in progress' END))
  FROM snapshot
)`;
