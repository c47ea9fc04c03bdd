import { CHECK_LEASE_MS } from '../domain/poll-schedule.js';
import { catalog, checkPriority, type QUEUES } from '../queues/catalog.js';
import type { Producer } from '../queues/producer.js';
import type { DueCheck, DueChecks } from '../store/jobs/due-checks.js';

/** The queues the sweep hands checks to. */
export type CheckQueues = typeof QUEUES.statusChecks | typeof QUEUES.untrustedChecks;

/**
 * Hands due checks from Postgres (which holds when each job is due) to Redis. Several sweepers may run
 * at once: claims skip what another holds.
 */
export function createSweeper({
  dueChecks,
  producer,
  untrustedPerSweep,
  batchSize,
  now = () => new Date(),
}: {
  dueChecks: DueChecks;
  producer: Pick<Producer<CheckQueues>, 'addBulk' | 'count'>;
  /** At most this many untrusted bodies' checks waiting in Redis at once. */
  untrustedPerSweep: number;
  batchSize: number;
  now?: () => Date;
}) {
  /**
   * Untrusted bodies' checks are handed over no faster than their queue runs them, so a flood of such
   * bodies waits in Postgres (a timestamp per job) rather than growing a queue in Redis.
   */
  async function sweepUntrusted(): Promise<number> {
    const room = untrustedPerSweep - (await producer.count(catalog.checkUntrusted.queue));
    if (room <= 0) return 0;
    const jobIds = await dueChecks.claimUntrusted(now(), room);
    await producer.addBulk(
      catalog.checkUntrusted,
      jobIds.map((jobId) => ({ data: { jobId } })),
    );
    return jobIds.length;
  }

  /** Enqueues every due check, a batch at a time; returns how many were enqueued. */
  async function sweep(): Promise<number> {
    let enqueued = 0;
    for (;;) {
      const due = await dueChecks.claimDue(now(), batchSize, CHECK_LEASE_MS);
      await producer.addBulk(catalog.checkStatus, queuedChecks(due, now()));
      enqueued += due.length;
      if (due.length < batchSize) return enqueued + (await sweepUntrusted());
    }
  }
  return { sweep };
}

/**
 * Due checks in priority order (checkPriority); a confirmation under an id of its own (the catalog's
 * checkStatus says why).
 */
function queuedChecks(due: readonly DueCheck[], at: Date) {
  return due.map((check) => ({
    data: { jobId: check.jobId, queuedAt: at.getTime() },
    options: { confirms: check.confirms, priority: checkPriority(check) },
  }));
}
