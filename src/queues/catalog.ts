import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { bigintDigits } from '../util/bigint-id.js';

/**
 * Every queued job the service runs: its queue, its name and the schema of its data. Data holds ids
 * only, never identity data, and the worker re-validates it: Redis is outside the trust boundary.
 * Handlers are given by whoever runs the worker (queues/worker.ts dispatches by name).
 */
export const QUEUE_NAMES = {
  /** job_status checks, under the checks' share of the Smile ID budget. */
  statusChecks: 'status-checks',
  /**
   * Uploads to Smile ID: their own queue, so their own concurrency (a submission holds its images in
   * memory while it runs). Their calls take their place in the same Redis-wide budget as the checks'.
   */
  submissions: 'submissions',
  /** The one check an untrusted body may buy: its own queue, so its own small share of the budget. */
  untrustedChecks: 'untrusted-checks',
  maintenance: 'maintenance',
  /** Webhooks to internal endpoints: not Smile ID's budget, their own concurrency. */
  notifications: 'notifications',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

const jobIdData = z.strictObject({ jobId: z.string().min(1).max(200) });
const noData = z.strictObject({});
/** `queuedAt`: a check queued before the job's last check has nothing left to ask, and is skipped. */
const checkData = z.strictObject({
  jobId: z.string().min(1).max(200),
  queuedAt: z.number().int().positive().optional(),
});
const deliveryData = z.strictObject({ deliveryId: bigintDigits() });

export const catalog = {
  checkStatus: { queue: QUEUE_NAMES.statusChecks, name: 'check-status', data: checkData },
  checkUntrusted: { queue: QUEUE_NAMES.untrustedChecks, name: 'check-untrusted', data: jobIdData },
  submitJob: { queue: QUEUE_NAMES.submissions, name: 'submit-job', data: jobIdData },
  sweepDueChecks: { queue: QUEUE_NAMES.maintenance, name: 'sweep-due-checks', data: noData },
  sweepDueSubmissions: { queue: QUEUE_NAMES.maintenance, name: 'sweep-due-submissions', data: noData },
  deliverNotification: { queue: QUEUE_NAMES.notifications, name: 'deliver-notification', data: deliveryData },
  sweepNotifications: { queue: QUEUE_NAMES.maintenance, name: 'sweep-notifications', data: noData },
  purgeExpiredIdentityData: {
    queue: QUEUE_NAMES.maintenance,
    name: 'purge-expired-identity-data',
    data: noData,
  },
} as const;

export type CatalogEntry = keyof typeof catalog;
export type DataOf<E extends CatalogEntry> = z.infer<(typeof catalog)[E]['data']>;
/** The entries that run on one queue. */
export type EntriesOf<Q extends QueueName> = {
  [E in CatalogEntry]: (typeof catalog)[E]['queue'] extends Q ? E : never;
}[CatalogEntry];

/**
 * What a handler is given beside its data: a logger already naming the queue, the job and its id, and
 * whether a failure of this attempt would be retried.
 */
export interface JobContext<D = unknown> {
  log: FastifyBaseLogger;
  /** No attempt follows this one if it throws. */
  finalAttempt: boolean;
  /**
   * Replaces the job's data while it runs (validated as data is), so that a worker that takes the job
   * over after this one died starts from there.
   */
  checkpoint: (data: D) => Promise<void>;
}

export type Handler<E extends CatalogEntry> = (
  data: DataOf<E>,
  context: JobContext<DataOf<E>>,
) => Promise<unknown>;

/**
 * The BullMQ job id of a job's status check. Deterministic, so a job already queued or running is not
 * queued again by any sweeper or API replica: one job is never polled twice at once. Hashed because
 * partner job ids may contain `:`, which BullMQ reserves.
 */
export function checkJobId(
  jobId: string,
  kind: 'check' | 'confirm' | 'untrusted' | 'submit' = 'check',
): string {
  return `${kind}-${createHash('sha256').update(jobId).digest('hex').slice(0, 40)}`;
}

/**
 * The BullMQ priority of a due check when the budget binds (1 runs first; none runs before any): a
 * confirmation of a fresh callback before every blind poll, and blind polls by how late they are
 * against their own interval, so that no blind poll waits forever and none delays a confirmation.
 */
export function checkPriority(check: { confirms: boolean; overdue: number }): number | undefined {
  if (check.confirms) return undefined;
  return 2 + Math.round(1000 / (1 + Math.max(0, check.overdue)));
}

/**
 * Splits the Smile ID budget (calls per second, across every process) between ordinary checks and
 * untrusted bodies' checks, so that no number of untrusted bodies can slow a real confirmation.
 */
export function splitBudget(ratePerSecond: number, untrustedShare: number) {
  const untrusted = Math.max(1, Math.floor(ratePerSecond * untrustedShare));
  return { checks: Math.max(1, ratePerSecond - untrusted), untrusted };
}

/**
 * Options of a job retried with exponential backoff: status checks', and submissions' with their own
 * attempts and delay, so that a submission behaves the same whoever queued it (the API at once, the
 * sweep after a loss).
 */
export function retriedJobOptions({ attempts, retryDelayMs }: { attempts: number; retryDelayMs: number }) {
  return {
    attempts,
    backoff: { type: 'exponential', delay: retryDelayMs },
    removeOnComplete: true,
    removeOnFail: true,
  } as const;
}

/** Each queue's job options, so a job behaves the same whoever queued it. */
export function queueJobOptions(
  queue: QueueName,
  { attempts, retryDelayMs }: { attempts: number; retryDelayMs: number },
) {
  switch (queue) {
    case QUEUE_NAMES.statusChecks:
      return retriedJobOptions({ attempts, retryDelayMs });
    case QUEUE_NAMES.submissions:
      // Each submission is queued with its own attempts and backoff (submit/enqueue.ts).
      return { removeOnComplete: true, removeOnFail: true } as const;
    case QUEUE_NAMES.untrustedChecks:
      // One look, no retries: a body that could not be trusted is not worth more of the budget.
      return { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;
    case QUEUE_NAMES.maintenance:
      return { removeOnComplete: true, removeOnFail: true } as const;
    case QUEUE_NAMES.notifications:
      // Retries are scheduled in Postgres (notify/deliver.ts), where they survive Redis.
      return { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;
  }
}
