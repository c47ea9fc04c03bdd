import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { createScrapeGauges } from '../../src/observability/scrape-gauges.js';
import type { Database } from '../../src/store/connections.js';
import { createGaugeQueries } from '../../src/store/jobs/job-gauges.js';
import { createScratchDatabase, type ScratchDatabase, testDatabase } from '../helpers/database.js';

/**
 * The review queue's gauges, read from Postgres at scrape time: how many jobs wait for a person, how long
 * the oldest has waited, and REVIEW_SLA_HOURS beside them. In a database of their own, so that every job
 * counted is one of this test's.
 */
describe('the review queue gauges', () => {
  let scratch: ScratchDatabase;
  let db: Database;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    db = testDatabase(scratch.url);
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  const seed = (jobId: string, decision: string, waitedSeconds: number) =>
    db.pool.query(
      `INSERT INTO jobs (job_id, user_id, version, decision, decided_at)
       VALUES ($1, 'user-1', 1, $2::job_decision, now() - make_interval(secs => $3))`,
      [jobId, decision, waitedSeconds],
    );
  const sampled = async (metrics: ReturnType<typeof createMetrics>, name: string) =>
    (await metrics.registry.getSingleMetric(name)?.get())?.values[0]?.value;

  it('reports no review waiting as 0 jobs and 0 seconds, and the SLA in seconds', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    await createScrapeGauges({
      gauges: createGaugeQueries({ pool: db.pool }),
      metrics,
      queues: [],
      reviewSlaSeconds: 7200,
    }).refresh();
    expect(await sampled(metrics, 'smileid_review_queue_jobs')).toBe(0);
    expect(await sampled(metrics, 'smileid_review_oldest_seconds')).toBe(0);
    expect(await sampled(metrics, 'smileid_review_sla_seconds')).toBe(7200);
  });

  it('counts only the jobs in review, and the age of the one that has waited longest', async () => {
    await seed('job-review-old', 'review', 5400);
    await seed('job-review-new', 'review', 60);
    await seed('job-approved-older', 'approve', 90_000);
    await seed('job-pending', 'pending', 90_000);
    const metrics = createMetrics({ defaultMetrics: false });
    await createScrapeGauges({
      gauges: createGaugeQueries({ pool: db.pool }),
      metrics,
      queues: [],
      reviewSlaSeconds: 3600,
    }).refresh();
    expect(await sampled(metrics, 'smileid_review_queue_jobs')).toBe(2);
    const oldest = await sampled(metrics, 'smileid_review_oldest_seconds');
    expect(oldest).toBeGreaterThanOrEqual(5400);
    expect(oldest).toBeLessThan(5460);
  });
});
