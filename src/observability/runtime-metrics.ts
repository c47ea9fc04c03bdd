import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// How the service itself is doing: HTTP requests, the job gauges read from Postgres, queues and schedules.

/** HTTP requests by route template, method and status code. */
export function httpMetrics(registry: Registry) {
  const registers = [registry];
  return {
    httpRequestDuration: new Histogram({
      name: 'smileid_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status code.',
      labelNames: ['route', 'method', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

/** Jobs by state and flag, filled at scrape time from Postgres. */
export function jobGaugeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    jobs: new Gauge({
      name: 'smileid_jobs',
      help: 'Jobs by state and finality.',
      labelNames: ['state', 'final'] as const,
      registers,
    }),
    jobFlags: new Gauge({
      name: 'smileid_jobs_flagged',
      help: 'Jobs by flag: unconfirmed (final, not confirmed by job_status), untrusted (an unapplied callback), stale, previously_registered_id, fraud_suspects.',
      labelNames: ['flag'] as const,
      registers,
    }),
    jobGaugeScrapeErrors: new Counter({
      name: 'smileid_job_gauges_errors_total',
      help: 'Scrapes whose job gauges could not be read from Postgres in time (the last values are kept).',
      registers,
    }),
  };
}

/** Queued work by queue and state. */
export function queueMetrics(registry: Registry) {
  const registers = [registry];
  return {
    queueJobs: new Gauge({
      name: 'smileid_queue_jobs',
      help: 'Queued work by queue and state (waiting, active, delayed, failed, prioritized).',
      labelNames: ['queue', 'state'] as const,
      registers,
    }),
  };
}

/** Repeatable schedules: redeclared, time since their last run, and when they count as stalled. */
export function scheduleMetrics(registry: Registry) {
  const registers = [registry];
  return {
    /** Set by the workers' schedule keeper (queues/schedule-keeper.ts). */
    schedulesRedeclared: new Counter({
      name: 'smileid_schedules_redeclared_total',
      help: 'Schedules (sweeps, retention) a worker declared again: missing from Redis (flushed, evicted, an empty replica), or present but not run in time (stalled).',
      labelNames: ['schedule', 'reason'] as const,
      registers,
    }),
    scheduleSinceRun: new Gauge({
      name: 'smileid_schedule_seconds_since_run',
      help: 'Seconds since each schedule last completed a run on any worker, as this worker last saw it (counted from its own start at most).',
      labelNames: ['schedule'] as const,
      registers,
    }),
    scheduleStalledAfter: new Gauge({
      name: 'smileid_schedule_stalled_after_seconds',
      help: "Seconds without a completed run after which a schedule is stalled: the worker's /readyz names it and answers 503.",
      labelNames: ['schedule'] as const,
      registers,
    }),
  };
}
