import type { Queue } from 'bullmq';
import { CHECK_LEASE_MS } from '../domain/poll-schedule.js';
import { catalog, checkJobId, checkPriority } from '../queues/catalog.js';
import type { DueCheck, DueChecks } from '../store/jobs/due-checks.js';

/**
 * Hands due checks from Postgres (which holds when each job is due) to Redis. Several sweepers may run
 * at once: claims skip what another holds.
 */
export function createSweeper({
  dueChecks,
  checks,
  untrustedChecks,
  untrustedPerSweep,
  batchSize,
  now = () => new Date(),
}: {
  dueChecks: DueChecks;
  checks: Queue;
  untrustedChecks: Queue;
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
    const room = untrustedPerSweep - (await untrustedChecks.count());
    if (room <= 0) return 0;
    const jobIds = await dueChecks.claimUntrusted(now(), room);
    if (jobIds.length === 0) return 0;
    await untrustedChecks.addBulk(
      jobIds.map((jobId) => ({
        name: catalog.checkUntrusted.name,
        data: catalog.checkUntrusted.data.parse({ jobId }),
        opts: { jobId: checkJobId(jobId, 'untrusted') },
      })),
    );
    return jobIds.length;
  }

  /** Enqueues every due check, a batch at a time; returns how many were enqueued. */
  async function sweep(): Promise<number> {
    let enqueued = 0;
    for (;;) {
      const due = await dueChecks.claimDue(now(), batchSize, CHECK_LEASE_MS);
      if (due.length > 0) await enqueueDueChecks(checks, due, now());
      enqueued += due.length;
      if (due.length < batchSize) return enqueued + (await sweepUntrusted());
    }
  }
  return { sweep };
}

/**
 * Due checks in priority order (checkPriority). A confirmation has a queue id of its own, so that a blind
 * poll of the same job already waiting at a low priority cannot hold it back; whichever of the two runs
 * second finds the job checked since it was queued and asks nothing.
 */
async function enqueueDueChecks(checks: Queue, due: readonly DueCheck[], at: Date): Promise<void> {
  await checks.addBulk(
    due.map((check) => {
      const priority = checkPriority(check);
      return {
        name: catalog.checkStatus.name,
        data: catalog.checkStatus.data.parse({ jobId: check.jobId, queuedAt: at.getTime() }),
        opts: {
          jobId: checkJobId(check.jobId, check.confirms ? 'confirm' : 'check'),
          ...(priority === undefined ? {} : { priority }),
        },
      };
    }),
  );
}

/** Checks asked for now (POST /v1/jobs/:jobId/reconcile): before every due one. */
export async function enqueueChecks(checks: Queue, jobIds: readonly string[]): Promise<void> {
  await checks.addBulk(
    jobIds.map((jobId) => ({
      name: catalog.checkStatus.name,
      data: catalog.checkStatus.data.parse({ jobId }),
      opts: { jobId: checkJobId(jobId) },
    })),
  );
}
