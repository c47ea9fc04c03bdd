import type { Queue } from 'bullmq';
import type { GaugeQueries } from '../store/jobs/job-gauges.js';
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

/**
 * Refreshes the gauges that are read from Postgres and Redis rather than counted in process. A slow or
 * failing source keeps the previous values and counts the failure, so a scrape never hangs on it.
 */
export function createScrapeGauges({
  gauges,
  metrics,
  queues,
  reviewSlaSeconds,
}: {
  gauges: Pick<
    GaugeQueries,
    'jobCounts' | 'reviewQueue' | 'submissionCounts' | 'notificationCounts' | 'changeFeedHeldBack'
  > &
    Partial<Pick<GaugeQueries, 'inlineBodies'>>;
  metrics: Metrics;
  queues: readonly QueueCounter[];
  /** REVIEW_SLA_HOURS, exported beside the queue's age so that one alert compares them. */
  reviewSlaSeconds: number;
}) {
  let refreshedAt = 0;
  metrics.reviewSla.set(reviewSlaSeconds);

  async function refresh(): Promise<void> {
    if (Date.now() - refreshedAt < CACHE_MS) return;
    refreshedAt = Date.now();
    await Promise.all([
      refreshJobs(),
      refreshReviews(),
      refreshSubmissions(),
      refreshNotifications(),
      refreshChangeFeed(),
      refreshInlineBodies(),
      refreshQueues(),
    ]);
  }

  async function refreshInlineBodies() {
    if (!gauges.inlineBodies) return;
    try {
      const whole = await withTimeout(gauges.inlineBodies(), QUERY_TIMEOUT_MS);
      if (whole !== null) metrics.inlineBodies.set(whole);
    } catch {
      metrics.jobGaugeScrapeErrors.inc();
    }
  }

  async function refreshJobs() {
    try {
      const rows = await withTimeout(gauges.jobCounts(), QUERY_TIMEOUT_MS);
      metrics.jobs.reset();
      const flags = Object.fromEntries(FLAGS.map((flag) => [flag, 0])) as Record<
        (typeof FLAGS)[number],
        number
      >;
      for (const row of rows) {
        metrics.jobs.set({ state: row.state, final: String(row.isFinal) }, row.jobs);
        for (const flag of FLAGS) flags[flag] += row[flag];
      }
      for (const flag of FLAGS) metrics.jobFlags.set({ flag: FLAG_LABELS[flag] }, flags[flag]);
    } catch {
      metrics.jobGaugeScrapeErrors.inc();
    }
  }

  async function refreshReviews() {
    try {
      const queue = await withTimeout(gauges.reviewQueue(), QUERY_TIMEOUT_MS);
      metrics.reviewQueue.set(queue.jobs);
      metrics.reviewOldest.set(queue.oldestSeconds);
    } catch {
      metrics.jobGaugeScrapeErrors.inc();
    }
  }

  async function refreshSubmissions() {
    try {
      const rows = await withTimeout(gauges.submissionCounts(), QUERY_TIMEOUT_MS);
      metrics.submissionStates.reset();
      for (const status of SUBMISSION_STATUSES) metrics.submissionStates.set({ status }, 0);
      let oldestPending = 0;
      for (const row of rows) {
        metrics.submissionStates.set({ status: row.status }, row.submissions);
        if (row.status === 'queued' || row.status === 'uploading') {
          oldestPending = Math.max(oldestPending, row.oldestSeconds);
        }
      }
      metrics.submissionOldestPending.set(oldestPending);
    } catch {
      metrics.jobGaugeScrapeErrors.inc();
    }
  }

  async function refreshNotifications() {
    try {
      const counts = await withTimeout(gauges.notificationCounts(), QUERY_TIMEOUT_MS);
      metrics.webhookBacklog.set(counts.pending);
      metrics.webhookOldestPending.set(counts.oldestPendingSeconds);
      metrics.webhookDeadLetters.set(counts.dead);
      metrics.webhookEndpointsDisabled.set(counts.disabledEndpoints);
      metrics.webhookEndpointsRetired.set(counts.retiredEndpoints);
    } catch {
      metrics.jobGaugeScrapeErrors.inc();
    }
  }

  async function refreshChangeFeed() {
    try {
      metrics.changeFeedHeldBack.set(await withTimeout(gauges.changeFeedHeldBack(), QUERY_TIMEOUT_MS));
    } catch {
      metrics.jobGaugeScrapeErrors.inc();
    }
  }

  async function refreshQueues() {
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

  return { refresh };
}
