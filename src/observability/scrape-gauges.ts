import type { Queue } from 'bullmq';
import type {
  GaugeQueries,
  JobGaugeRow,
  NotificationGaugeRow,
  ReviewGaugeRow,
  SubmissionGaugeRow,
} from '../store/jobs/job-gauges.js';
import { withTimeout } from '../util/with-timeout.js';
import type { Metrics } from './metrics.js';

/** One query per scrape at most, reused for this long: dashboards poll often, jobs change slowly. */
const CACHE_MS = 5000;
const QUERY_TIMEOUT_MS = 2000;

const FLAGS = ['unconfirmed', 'untrusted', 'stale', 'previouslyRegistered', 'fraudSuspects'] as const;
const FLAG_LABELS: Record<(typeof FLAGS)[number], string> = {
  unconfirmed: 'unconfirmed',
  untrusted: 'untrusted',
  stale: 'stale',
  previouslyRegistered: 'previously_registered_id',
  fraudSuspects: 'fraud_suspects',
};

const SUBMISSION_STATUSES = ['queued', 'uploading', 'uploaded', 'failed'] as const;

/** What a BullMQ queue offers for depth: its name and its counts per state. */
export type QueueCounter = Pick<Queue, 'name' | 'getJobCounts'>;

interface ScrapeSources {
  gauges: Pick<
    GaugeQueries,
    'jobCounts' | 'reviewQueue' | 'submissionCounts' | 'notificationCounts' | 'changeFeedHeldBack'
  > &
    Partial<Pick<GaugeQueries, 'inlineBodies'>>;
  metrics: Metrics;
  queues: readonly QueueCounter[];
}

/**
 * Refreshes the gauges that are read from Postgres and Redis rather than counted in process. A slow or
 * failing source keeps the previous values and counts the failure, so a scrape never hangs on it.
 */
export function createScrapeGauges({
  reviewSlaSeconds,
  ...sources
}: ScrapeSources & {
  /** REVIEW_SLA_HOURS, exported beside the queue's age so that one alert compares them. */
  reviewSlaSeconds: number;
}) {
  let refreshedAt = 0;
  sources.metrics.reviewSla.set(reviewSlaSeconds);
  return {
    async refresh(): Promise<void> {
      if (Date.now() - refreshedAt < CACHE_MS) return;
      refreshedAt = Date.now();
      await refreshAll(sources);
    },
  };
}

/** Every source at once, each into its own gauges. */
async function refreshAll({ gauges, metrics, queues }: ScrapeSources): Promise<void> {
  const read = <T>(query: () => Promise<T>, show: Show<T>) => readInto(metrics, query, show);
  const { inlineBodies } = gauges;
  await Promise.all([
    read(() => gauges.jobCounts(), showJobs),
    read(() => gauges.reviewQueue(), showReviews),
    read(() => gauges.submissionCounts(), showSubmissions),
    read(() => gauges.notificationCounts(), showNotifications),
    read(() => gauges.changeFeedHeldBack(), showChangeFeed),
    inlineBodies && read(() => inlineBodies.call(gauges), showInlineBodies),
    refreshQueues(metrics, queues),
  ]);
}

/** Sets the gauges of one read's result. */
type Show<T> = (metrics: Metrics, value: T) => void;

/** One Postgres read into its gauges; slow or failing, the gauges keep their values and it is counted. */
async function readInto<T>(metrics: Metrics, query: () => Promise<T>, show: Show<T>) {
  try {
    show(metrics, await withTimeout(query(), QUERY_TIMEOUT_MS));
  } catch {
    metrics.jobGaugeScrapeErrors.inc();
  }
}

function showJobs(metrics: Metrics, rows: readonly JobGaugeRow[]) {
  metrics.jobs.reset();
  for (const row of rows) metrics.jobs.set({ state: row.state, final: String(row.isFinal) }, row.jobs);
  for (const [flag, jobs] of Object.entries(flagTotals(rows))) metrics.jobFlags.set({ flag }, jobs);
}

function showReviews(metrics: Metrics, queue: ReviewGaugeRow) {
  metrics.reviewQueue.set(queue.jobs);
  metrics.reviewOldest.set(queue.oldestSeconds);
}

function showSubmissions(metrics: Metrics, rows: readonly SubmissionGaugeRow[]) {
  metrics.submissionStates.reset();
  for (const status of SUBMISSION_STATUSES) metrics.submissionStates.set({ status }, 0);
  for (const row of rows) metrics.submissionStates.set({ status: row.status }, row.submissions);
  metrics.submissionOldestPending.set(oldestPendingSeconds(rows));
}

function showChangeFeed(metrics: Metrics, heldBackSeconds: number) {
  metrics.changeFeedHeldBack.set(heldBackSeconds);
}

/** null: without an object store, bodies whole in Postgres are no backlog (see job-gauges.ts). */
function showInlineBodies(metrics: Metrics, whole: number | null) {
  if (whole !== null) metrics.inlineBodies.set(whole);
}

function showNotifications(metrics: Metrics, counts: NotificationGaugeRow) {
  metrics.webhookBacklog.set(counts.pending);
  metrics.webhookOldestPending.set(counts.oldestPendingSeconds);
  metrics.webhookDeadLetters.set(counts.dead);
  metrics.webhookEndpointsDisabled.set(counts.disabledEndpoints);
  metrics.webhookEndpointsRetired.set(counts.retiredEndpoints);
}

/** Each queue's depth by state, from Redis; not counted as a failure of the Postgres gauges. */
async function refreshQueues(metrics: Metrics, queues: readonly QueueCounter[]): Promise<void> {
  await Promise.all(
    queues.map(async (queue) => {
      try {
        const counts = await withTimeout(
          queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'),
          QUERY_TIMEOUT_MS,
        );
        for (const [state, count] of Object.entries(counts))
          metrics.queueJobs.set({ queue: queue.name, state }, count);
      } catch {
        // Redis unavailable: keep the last known depth rather than report an empty queue.
      }
    }),
  );
}

/** Jobs carrying each flag, over every state, by the flag's metric label; 0 for a flag none carries. */
export function flagTotals(rows: readonly JobGaugeRow[]): Record<string, number> {
  const totals = Object.fromEntries(FLAGS.map((flag) => [FLAG_LABELS[flag], 0]));
  for (const row of rows) for (const flag of FLAGS) totals[FLAG_LABELS[flag]]! += row[flag];
  return totals;
}

/** Age of the oldest submission still queued or uploading; 0 when none is. */
export function oldestPendingSeconds(rows: readonly SubmissionGaugeRow[]): number {
  let oldest = 0;
  for (const row of rows) {
    if (row.status === 'queued' || row.status === 'uploading') oldest = Math.max(oldest, row.oldestSeconds);
  }
  return oldest;
}
