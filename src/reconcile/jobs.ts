import { QUEUES, splitBudget } from '../queues/catalog.js';
import type { JobModule } from '../queues/job-module.js';
import type { Producer } from '../queues/producer.js';
import type { DueChecks } from '../store/jobs/due-checks.js';
import type { StatusCheck } from './check-status.js';
import { type CheckQueues, createSweeper } from './sweeper.js';

/**
 * Reconciliation's queued work: job_status checks under the checks' share of the Smile ID budget,
 * untrusted bodies' checks under theirs, and the sweep that hands due checks from Postgres to both.
 */
export interface ReconcileSettings {
  /** Checks in flight per worker process (RECONCILE_CONCURRENCY). */
  concurrency: number;
  /** Calls per second to Smile ID, across every process (SMILE_API_RATE_LIMIT_PER_SECOND). */
  ratePerSecond: number;
  /** Share of it that untrusted bodies' checks may use (UNTRUSTED_CHECK_SHARE; see splitBudget). */
  untrustedShare: number;
  sweepIntervalMs: number;
  batchSize: number;
}

export function reconcileJobs({
  producer,
  dueChecks,
  statusCheck,
  settings,
  now,
}: {
  producer: Pick<Producer<CheckQueues>, 'addBulk' | 'count'>;
  dueChecks: DueChecks;
  statusCheck: Pick<StatusCheck, 'run'>;
  settings: ReconcileSettings;
  now?: () => Date;
}): JobModule {
  const { concurrency, ratePerSecond, untrustedShare, sweepIntervalMs, batchSize } = settings;
  const budget = splitBudget(ratePerSecond, untrustedShare);
  const sweeper = createSweeper({
    dueChecks,
    producer,
    untrustedPerSweep: Math.max(1, Math.ceil((budget.untrusted * sweepIntervalMs) / 1000)),
    batchSize,
    now,
  });
  return {
    feature: 'reconcile',
    queues: {
      [QUEUES.statusChecks]: { concurrency, limiter: { max: budget.checks, duration: 1000 } },
      [QUEUES.untrustedChecks]: {
        concurrency: budget.untrusted,
        limiter: { max: budget.untrusted, duration: 1000 },
      },
    },
    handlers: {
      checkStatus: ({ jobId, queuedAt }, { log, finalAttempt }) =>
        statusCheck.run(jobId, { log, queuedAt, finalAttempt }),
      checkUntrusted: ({ jobId }, { log }) => statusCheck.run(jobId, { untrusted: true, log }),
      sweepDueChecks: () => sweeper.sweep(),
    },
    schedules: { sweepDueChecks: { every: sweepIntervalMs } },
  };
}
