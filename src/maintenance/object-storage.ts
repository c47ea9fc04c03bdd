import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import type { InlineBodies } from '../store/objects/inline-bodies.js';
import type { ObjectStore } from '../store/objects/object-store.js';
import type { createOrphanSweep } from '../store/objects/orphans.js';

/** The rest of a backlog waits for the next run, so the sweeps on the same queue are not held up. */
const MOVE_OUT_BATCHES_PER_RUN = 10;
const MOVE_OUT_BATCH_SIZE = 50;

const isUnavailable = (error: unknown) => (error as { code?: unknown }).code === 'OBJECT_STORE_UNAVAILABLE';

/**
 * Moves bodies kept whole in Postgres (during an outage of the object store, or from before it was
 * configured) out to the object store, oldest first, a few batches a run. While the store still does not
 * answer, a run does nothing: the store's outage reporter has said so once, and the backlog gauge and its
 * alert tell, rather than a failed job or a warning per run. During an outage each run first asks the
 * store whether it is back, so that its return is said within a run even when no photo is waiting.
 */
export function createBodyMover({
  inlineBodies,
  store,
  metrics,
}: {
  inlineBodies: InlineBodies;
  /** The store, and whether its outage reporter holds it down. */
  store?: { ping: ObjectStore['ping']; readonly down: boolean };
  metrics?: Metrics;
}) {
  return async function moveOut(log: FastifyBaseLogger) {
    let moved = 0;
    let objects = 0;
    try {
      if (store?.down) await store.ping();
      for (let batch = 0; batch < MOVE_OUT_BATCHES_PER_RUN; batch += 1) {
        const done = await inlineBodies.moveOutBatch(MOVE_OUT_BATCH_SIZE);
        moved += done.moved;
        objects += done.objects;
        metrics?.bodiesMovedOut.inc(done.moved);
        if (done.examined === 0) break;
      }
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      log.debug({ moved }, 'object store unavailable: bodies kept whole in Postgres wait for the next run');
    }
    if (moved > 0) log.info({ moved, objects }, 'bodies kept whole in Postgres moved to the object store');
    return { moved, objects };
  };
}

/**
 * Removes objects no stored body refers to, past their grace period (store/objects/orphans.ts). While
 * the store does not answer, a run does nothing: its outage reporter has said so once.
 */
export function createOrphanSweeper({
  sweep,
  metrics,
}: {
  sweep: ReturnType<typeof createOrphanSweep>;
  metrics?: Metrics;
}) {
  return async function sweepOrphans(log: FastifyBaseLogger) {
    try {
      const result = await sweep();
      metrics?.objectOrphansRemoved.inc(result.removed);
      if (result.removed > 0) log.info({ ...result }, 'orphan objects removed from the object store');
      return result;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      log.debug('object store unavailable: the orphan sweep waits for its next run');
      return { listed: 0, removed: 0, wrapped: false };
    }
  };
}
