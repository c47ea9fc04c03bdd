import type { Queue } from 'bullmq';
import type pg from 'pg';
import { withTimeout } from '../util/with-timeout.js';
import type { Metrics } from './metrics.js';

/** One query per scrape at most, reused for this long: dashboards poll often, jobs change slowly. */
const CACHE_MS = 5000;
const QUERY_TIMEOUT_MS = 2000;

const JOB_GAUGES_SQL = `
SELECT state::text AS state, is_final AS "isFinal", count(*)::int AS jobs,
       count(*) FILTER (WHERE is_final AND NOT confirmed)::int AS unconfirmed,
       count(*) FILTER (WHERE needs_confirmation)::int AS untrusted,
       count(*) FILTER (WHERE stale_at IS NOT NULL)::int AS stale,
       count(*) FILTER (WHERE id_number_previously_registered)::int AS "previouslyRegistered",
       count(*) FILTER (WHERE jsonb_array_length(suspect_users) > 0)::int AS "fraudSuspects"
  FROM jobs GROUP BY state, is_final`;

interface JobGaugeRow {
  state: string;
  isFinal: boolean;
  jobs: number;
  unconfirmed: number;
  untrusted: number;
  stale: number;
  previouslyRegistered: number;
  fraudSuspects: number;
}

const FLAGS = ['unconfirmed', 'untrusted', 'stale', 'previouslyRegistered', 'fraudSuspects'] as const;
const FLAG_LABELS: Record<(typeof FLAGS)[number], string> = {
  unconfirmed: 'unconfirmed',
  untrusted: 'untrusted',
  stale: 'stale',
  previouslyRegistered: 'previously_registered_id',
  fraudSuspects: 'fraud_suspects',
};

/** What a BullMQ queue offers for depth: its name and its counts per state. */
export type QueueCounter = Pick<Queue, 'name' | 'getJobCounts'>;

/**
 * Refreshes the gauges that are read from Postgres and Redis rather than counted in process. A slow or
 * failing source keeps the previous values and counts the failure, so a scrape never hangs on it.
 */
export function createScrapeGauges({
  pool,
  metrics,
  queues,
}: {
  pool: pg.Pool;
  metrics: Metrics;
  queues: readonly QueueCounter[];
}) {
  let refreshedAt = 0;

  async function refresh(): Promise<void> {
    if (Date.now() - refreshedAt < CACHE_MS) return;
    refreshedAt = Date.now();
    await Promise.all([refreshJobs(), refreshQueues()]);
  }

  async function refreshJobs() {
    try {
      const { rows } = await withTimeout(
        pool.query<JobGaugeRow>({ name: 'job-gauges', text: JOB_GAUGES_SQL }),
        QUERY_TIMEOUT_MS,
      );
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
