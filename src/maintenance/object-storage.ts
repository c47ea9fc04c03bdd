import type { FastifyBaseLogger } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import type { InlineBodies } from '../store/objects/inline-bodies.js';
import type { createOrphanSweep } from '../store/objects/orphans.js';

/** The rest of a backlog waits for the next run, so the sweeps on the same queue are not held up. */
const MOVE_OUT_BATCHES_PER_RUN = 10;
const MOVE_OUT_BATCH_SIZE = 50;

const isUnavailable = (error: unknown) => (error as { code?: unknown }).code === 'OBJECT_STORE_UNAVAILABLE';

/**
 * Moves bodies kept whole in Postgres (during an outage of the object store, or from before it was
 * configured) out to the object store, oldest first, a few batches a run. While the store still does not
 * answer, a run does nothing: the backlog gauge and its alert tell, rather than a failed job per run.
 */
export function createBodyMover({
  inlineBodies,
  metrics,
}: {
  inlineBodies: InlineBodies;
  metrics?: Metrics;
}) {
  return async function moveOut(log: FastifyBaseLogger) {
    let moved = 0;
    let objects = 0;
    try {
      for (let batch = 0; batch < MOVE_OUT_BATCHES_PER_RUN; batch += 1) {
        const done = await inlineBodies.moveOutBatch(MOVE_OUT_BATCH_SIZE);
        moved += done.moved;
        objects += done.objects;
        metrics?.bodiesMovedOut.inc(done.moved);
        if (done.examined === 0) break;
      }
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      log.warn({ moved }, 'object store unavailable: bodies kept whole in Postgres wait for the next run');
    }
    if (moved > 0) log.info({ moved, objects }, 'bodies kept whole in Postgres moved to the object store');
    return { moved, objects };
  };
}

/** Removes objects no stored body refers to, past their grace period (store/objects/orphans.ts). */
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
      log.warn('object store unavailable: the orphan sweep waits for its next run');
      return { listed: 0, removed: 0, wrapped: false };
    }
  };
}
