import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

// What the service sends on: submissions to Smile ID, webhooks and the change feed to its clients.

/** Submissions and the calls they make to Smile ID; a series alerts watch exists at 0 from the start. */
export function submissionMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    submissions: new Counter({
      name: 'smileid_submissions_total',
      help: "Submissions by event: accepted (stored and queued), uploaded (Smile ID has the zip), failed (gave up; see the job's submission.error).",
      labelNames: ['event'] as const,
      registers,
    }),
    submissionCalls: new Counter({
      name: 'smileid_submission_calls_total',
      help: 'Calls a submission made to Smile ID: call is prep_upload or upload; result is ok, job_exists (2215), unauthorized (2205/2405), expired (upload URL), retryable or refused.',
      labelNames: ['call', 'result'] as const,
      registers,
    }),
    submissionDuration: new Histogram({
      name: 'smileid_submission_duration_seconds',
      help: 'Time from a submission being accepted to Smile ID having its zip.',
      buckets: [0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600],
      registers,
    }),
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    submissionStates: new Gauge({
      name: 'smileid_submissions',
      help: 'Submissions by status (queued, uploading, uploaded, failed).',
      labelNames: ['status'] as const,
      registers,
    }),
    submissionOldestPending: new Gauge({
      name: 'smileid_submission_oldest_pending_seconds',
      help: 'Age of the oldest submission still queued or uploading (0 when none).',
      registers,
    }),
  };
  for (const event of ['accepted', 'uploaded', 'failed']) metrics.submissions.inc({ event }, 0);
  metrics.submissionCalls.inc({ call: 'prep_upload', result: 'unauthorized' }, 0);
  return metrics;
}

/** Webhook deliveries, their latency, backlog and dead letters, and the endpoints taken out of service. */
export function notificationMetrics(registry: Registry) {
  const registers = [registry];
  return {
    webhookDeliveries: new Counter({
      name: 'smileid_webhook_deliveries_total',
      help: 'Webhook delivery attempts by endpoint id and result: delivered, retry (failed, retried later), dead (failed past the retry window), gone (410: endpoint disabled).',
      labelNames: ['endpoint', 'result'] as const,
      registers,
    }),
    webhookLatency: new Histogram({
      name: 'smileid_webhook_delivery_latency_seconds',
      help: 'Time from a change committing to its webhook being delivered (accepted with 2xx).',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 3600],
      registers,
    }),
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    webhookBacklog: new Gauge({
      name: 'smileid_webhook_backlog',
      help: 'Webhook deliveries waiting to be delivered (pending), over every configured endpoint.',
      registers,
    }),
    webhookOldestPending: new Gauge({
      name: 'smileid_webhook_oldest_pending_seconds',
      help: 'Age of the change behind the oldest pending webhook delivery (0 when none).',
      registers,
    }),
    webhookDeadLetters: new Gauge({
      name: 'smileid_webhook_dead_letters',
      help: 'Webhook deliveries that exhausted their retry window, waiting for an operator to redeliver them.',
      registers,
    }),
    webhookEndpointsDisabled: new Gauge({
      name: 'smileid_webhook_endpoints_disabled',
      help: 'Webhook endpoints disabled after answering 410 Gone, until an operator enables them.',
      registers,
    }),
    webhookEndpointsRetired: new Gauge({
      name: 'smileid_webhook_endpoints_retired',
      help: 'Webhook endpoints no worker has listed in NOTIFY_WEBHOOK_URLS for 15 minutes: nothing is sent to them, and what waits for them is not counted as backlog.',
      registers,
    }),
  };
}

/** Reads of the change feed and the requests waiting on it. */
export function changeFeedMetrics(registry: Registry) {
  const registers = [registry];
  return {
    changeFeedReads: new Counter({
      name: 'smileid_change_feed_reads_total',
      help: 'Reads of the change feed made for GET /v1/changes; requests at the same position share them.',
      registers,
    }),
    changeFeedWaiting: new Gauge({
      name: 'smileid_change_feed_waiting_requests',
      help: 'GET /v1/changes requests of this process waiting for a change now (at most CHANGE_FEED_MAX_WAITERS).',
      registers,
    }),
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    changeFeedHeldBack: new Gauge({
      name: 'smileid_change_feed_held_back_seconds',
      help: 'Age of the oldest committed change the feed does not list yet, because a transaction of this database that began before it is still open (0 when none).',
      registers,
    }),
  };
}
