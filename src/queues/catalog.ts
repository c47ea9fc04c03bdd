import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { bigintDigits } from '../util/bigint-id.js';

/**
 * Every queued job the service runs: its queue, its name, the schema of its data, the rule that makes
 * its BullMQ job id, and its job options, so that a job behaves the same whoever queues it. Data holds
 * ids only, never identity data, and is validated at both ends (queues/producer.ts, queues/worker.ts):
 * Redis is outside the trust boundary. Handlers are declared by each feature's jobs.ts.
 */
export const QUEUES = {
  /** job_status checks, under the checks' share of the Smile ID budget. */
  statusChecks: 'status-checks',
  /**
   * Uploads to Smile ID: their own queue, so their own concurrency (a submission holds its images in
   * memory while it runs). Their calls take their place in the same Redis-wide budget as the checks'.
   */
  submissions: 'submissions',
  /** The one check an untrusted body may buy: its own queue, so its own small share of the budget. */
  untrustedChecks: 'untrusted-checks',
  /** Every feature's sweeps, the retention purge and the object store's upkeep, one at a time. */
  maintenance: 'maintenance',
  /** Webhooks to internal endpoints: not Smile ID's budget, their own concurrency. */
  notifications: 'notifications',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** How often a job is tried, and the first delay between tries (doubling after each). */
export interface Retries {
  attempts: number;
  retryDelayMs: number;
}

/** The configured figures job options depend on (RECONCILE_CHECK_*, SUBMISSION_ATTEMPTS and its delay). */
export interface JobSettings {
  checks: Retries;
  submissions: Retries;
}

/** One entry of the catalog. `I`: what, beside the data, decides the job id (see checkStatus). */
export interface JobDefinition<Q extends QueueName = QueueName, S extends z.ZodType = z.ZodType, I = object> {
  queue: Q;
  name: string;
  data: S;
  /**
   * The BullMQ job id of a job with this data. Deterministic, so a job already queued or running is not
   * queued again by any sweep or replica. Without it, BullMQ numbers jobs (schedules name their own).
   */
  jobId?(data: z.output<S>, as: I): string;
  options(settings: JobSettings): JobsOptions;
}

type Identified<Q extends QueueName, S extends z.ZodType, I> = JobDefinition<Q, S, I> & {
  jobId(data: z.output<S>, as: I): string;
};

/** Infers an entry's types from its definition, an id rule included where it has one. */
function job<Q extends QueueName, S extends z.ZodType, I = object>(
  definition: Identified<Q, S, I>,
): Identified<Q, S, I>;
function job<Q extends QueueName, S extends z.ZodType>(definition: JobDefinition<Q, S>): JobDefinition<Q, S>;
function job(definition: JobDefinition): JobDefinition {
  return definition;
}

const jobIdData = z.strictObject({ jobId: z.string().min(1).max(200) });
const noData = z.strictObject({});
/** `queuedAt`: a check queued before the job's last check has nothing left to ask, and is skipped. */
const checkData = z.strictObject({
  jobId: z.string().min(1).max(200),
  queuedAt: z.number().int().positive().optional(),
});
const deliveryData = z.strictObject({ deliveryId: bigintDigits() });

/** Completed and failed jobs leave Redis: Postgres keeps what happened. */
const removed = { removeOnComplete: true, removeOnFail: true } as const;

/**
 * Options of a job retried with exponential backoff: status checks', and submissions' with their own
 * attempts and delay.
 */
function retriedJobOptions({ attempts, retryDelayMs }: Retries) {
  return { attempts, backoff: { type: 'exponential', delay: retryDelayMs }, ...removed } as const;
}

/**
 * A job id derived from a partner job id. Hashed because partner job ids may contain `:`, which BullMQ
 * reserves; prefixed by kind, so that the kinds of job about one partner job never share an id.
 */
function hashedJobId(kind: 'check' | 'confirm' | 'untrusted' | 'submit', jobId: string): string {
  return `${kind}-${createHash('sha256').update(jobId).digest('hex').slice(0, 40)}`;
}

export const catalog = {
  checkStatus: job({
    queue: QUEUES.statusChecks,
    name: 'check-status',
    data: checkData,
    /**
     * One check of a job at a time. A confirmation of a fresh callback has an id of its own, so that a
     * blind poll of the same job already waiting at a low priority cannot hold it back; whichever of the
     * two runs second finds the job checked since it was queued and asks nothing.
     */
    jobId: ({ jobId }, { confirms = false }: { confirms?: boolean }) =>
      hashedJobId(confirms ? 'confirm' : 'check', jobId),
    options: (settings) => retriedJobOptions(settings.checks),
  }),
  checkUntrusted: job({
    queue: QUEUES.untrustedChecks,
    name: 'check-untrusted',
    data: jobIdData,
    jobId: ({ jobId }) => hashedJobId('untrusted', jobId),
    // One look, no retries: a body that could not be trusted is not worth more of the budget.
    options: () => ({ attempts: 1, ...removed }),
  }),
  submitJob: job({
    queue: QUEUES.submissions,
    name: 'submit-job',
    data: jobIdData,
    /** The submission's own: one queued or running is never queued twice, by the API or by any sweep. */
    jobId: ({ jobId }) => hashedJobId('submit', jobId),
    options: (settings) => retriedJobOptions(settings.submissions),
  }),
  sweepDueChecks: job({
    queue: QUEUES.maintenance,
    name: 'sweep-due-checks',
    data: noData,
    options: () => removed,
  }),
  sweepDueSubmissions: job({
    queue: QUEUES.maintenance,
    name: 'sweep-due-submissions',
    data: noData,
    options: () => removed,
  }),
  deliverNotification: job({
    queue: QUEUES.notifications,
    name: 'deliver-notification',
    data: deliveryData,
    /** The delivery's own: one is never queued twice at once. */
    jobId: ({ deliveryId }) => `notify-${deliveryId}`,
    // Retries are scheduled in Postgres (notify/deliver.ts), where they survive Redis.
    options: () => ({ attempts: 1, ...removed }),
  }),
  sweepNotifications: job({
    queue: QUEUES.maintenance,
    name: 'sweep-notifications',
    data: noData,
    options: () => removed,
  }),
  moveInlineBodies: job({
    queue: QUEUES.maintenance,
    name: 'move-inline-bodies',
    data: noData,
    options: () => removed,
  }),
  sweepObjectOrphans: job({
    queue: QUEUES.maintenance,
    name: 'sweep-object-orphans',
    data: noData,
    options: () => removed,
  }),
  purgeExpiredIdentityData: job({
    queue: QUEUES.maintenance,
    name: 'purge-expired-identity-data',
    data: noData,
    options: () => removed,
  }),
  replayDecisions: job({
    queue: QUEUES.maintenance,
    name: 'replay-decisions',
    data: noData,
    options: () => removed,
  }),
} as const;

export type CatalogEntry = keyof typeof catalog;
export type DataOf<E extends CatalogEntry> = z.infer<(typeof catalog)[E]['data']>;
/** The entries that run on one queue. */
export type EntriesOf<Q extends QueueName> = {
  [E in CatalogEntry]: (typeof catalog)[E]['queue'] extends Q ? E : never;
}[CatalogEntry];
/** The definitions of the entries that run on the queues `Q`. */
export type JobOn<Q extends QueueName> = (typeof catalog)[EntriesOf<Q>];

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
