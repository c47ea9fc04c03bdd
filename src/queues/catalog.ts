import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Every queued job the service runs: its queue, its name and the schema of its data. Data holds ids
 * only, never identity data, and workers re-validate it: Redis is outside the trust boundary.
 */
export const QUEUE_NAMES = {
  statusChecks: 'status-checks',
  /** The one check an untrusted body may buy: its own queue, so its own small share of the budget. */
  untrustedChecks: 'untrusted-checks',
  maintenance: 'maintenance',
} as const;

export const catalog = {
  checkStatus: {
    queue: QUEUE_NAMES.statusChecks,
    name: 'check-status',
    data: z.strictObject({ jobId: z.string().min(1).max(200) }),
  },
  checkUntrusted: {
    queue: QUEUE_NAMES.untrustedChecks,
    name: 'check-untrusted',
    data: z.strictObject({ jobId: z.string().min(1).max(200) }),
  },
  sweepDueChecks: {
    queue: QUEUE_NAMES.maintenance,
    name: 'sweep-due-checks',
    data: z.strictObject({}),
  },
  purgeExpiredIdentityData: {
    queue: QUEUE_NAMES.maintenance,
    name: 'purge-expired-identity-data',
    data: z.strictObject({}),
  },
} as const;

export type CheckStatusData = z.infer<typeof catalog.checkStatus.data>;

/**
 * The BullMQ job id of a job's status check. Deterministic, so a job already queued or running is not
 * queued again by any sweeper or API replica: one job is never polled twice at once. Hashed because
 * partner job ids may contain `:`, which BullMQ reserves.
 */
export function checkJobId(jobId: string, kind: 'check' | 'untrusted' = 'check'): string {
  return `${kind}-${createHash('sha256').update(jobId).digest('hex').slice(0, 40)}`;
}

/**
 * Splits the Smile ID budget (calls per second, across every process) between ordinary checks and
 * untrusted bodies' checks, so that no number of untrusted bodies can slow a real confirmation.
 */
export function splitBudget(ratePerSecond: number, untrustedShare: number) {
  const untrusted = Math.max(1, Math.floor(ratePerSecond * untrustedShare));
  return { checks: Math.max(1, ratePerSecond - untrusted), untrusted };
}

/** Options every producer of status checks uses, so a check behaves the same whoever queued it. */
export function checkJobOptions({ attempts, retryDelayMs }: { attempts: number; retryDelayMs: number }) {
  return {
    attempts,
    backoff: { type: 'exponential', delay: retryDelayMs },
    removeOnComplete: true,
    removeOnFail: true,
  } as const;
}
