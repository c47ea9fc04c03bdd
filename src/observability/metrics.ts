import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ObjectStorageObserver } from '../store/objects/object-store.js';

/**
 * Every metric the service exports, in a registry of its own per app instance (tests build many apps).
 * Labels are small closed sets: never a job id, user id, or anything from a body.
 */
export function createMetrics({ defaultMetrics = true }: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'smileid_process_' });
  const registers = [registry];

  const metrics = {
    registry,

    httpRequestDuration: new Histogram({
      name: 'smileid_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status code.',
      labelNames: ['route', 'method', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),

    callbacks: new Counter({
      name: 'smileid_callbacks_total',
      help: 'Callbacks received, by what they carried and what became of them.',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    callbackRejections: new Counter({
      name: 'smileid_callback_rejections_total',
      help: 'Callbacks refused before storage, by reason (error code).',
      labelNames: ['reason'] as const,
      registers,
    }),
    callbackBodyBytes: new Histogram({
      name: 'smileid_callback_body_bytes',
      help: 'Sizes of stored callback bodies.',
      labelNames: ['kind'] as const,
      buckets: [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 2_097_152, 4_194_304],
      registers,
    }),
    untrustedCallbacks: new Counter({
      name: 'smileid_untrusted_callbacks_total',
      help: 'Signed callbacks stored but not believed, by reason (timestamp_outside_tolerance, timestamp_in_future, timestamp_unparseable, signature_replayed, no_job_id) and whether the body was kept or withheld (source over its hourly quota).',
      labelNames: ['reason', 'body'] as const,
      registers,
    }),
    callbacksContradicted: new Counter({
      name: 'smileid_callbacks_contradicted_total',
      help: 'Final callback results that job_status contradicted: a final answer in another state, or a second answer still not final.',
      registers,
    }),
    identityConflicts: new Counter({
      name: 'smileid_identity_conflicts_total',
      help: 'Callbacks naming another user than the job is registered or known for; the job keeps its user.',
      registers,
    }),
    signatureFailures: new Counter({
      name: 'smileid_signature_failures_total',
      help: 'Signatures that did not verify: on callbacks (source=callback) and job_status responses.',
      labelNames: ['source', 'reason'] as const,
      registers,
    }),

    transitions: new Counter({
      name: 'smileid_job_transitions_total',
      help: 'Changes of a job state, by from and to state ("none" for a new job).',
      labelNames: ['from', 'to', 'final'] as const,
      registers,
    }),
    timeToFinal: new Histogram({
      name: 'smileid_job_time_to_final_seconds',
      help: 'Time from a job first being seen to its first final state.',
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400],
      registers,
    }),

    polls: new Counter({
      name: 'smileid_status_checks_total',
      help: 'job_status checks by outcome (applied, stale, bad_signature, unauthorized, retry, …).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    smileApiDuration: new Histogram({
      name: 'smileid_api_request_duration_seconds',
      help: 'Latency of calls to the Smile ID Job Status API, by result.',
      labelNames: ['result'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    smileApiErrors: new Counter({
      name: 'smileid_api_errors_total',
      help: 'Failed Job Status calls by Smile ID code (or timeout, network_error, http_NNN).',
      labelNames: ['code'] as const,
      registers,
    }),

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
    objectStoreOperations: new Counter({
      name: 'smileid_object_store_operations_total',
      help: 'Calls to the object store that holds sealed photos, by operation (put, get, delete, list, head_bucket, create_bucket) and result (ok, unavailable: no answer in time, a 5xx or throttling; not_found; error: refused, e.g. credentials or bucket policy).',
      labelNames: ['operation', 'result'] as const,
      registers,
    }),
    objectStoreDuration: new Histogram({
      name: 'smileid_object_store_duration_seconds',
      help: 'Latency of calls to the object store, by operation, retries included.',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    bodiesKeptInline: new Counter({
      name: 'smileid_bodies_kept_inline_total',
      help: 'Callback and job_status bodies stored whole in Postgres because the object store could not take their photos (unreachable, or refusing); they are moved out later.',
      labelNames: ['source'] as const,
      registers,
    }),
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    inlineBodies: new Gauge({
      name: 'smileid_inline_bodies',
      help: 'Stored bodies still whole in Postgres, photos included, waiting to be moved to the object store (kept inline during an outage of the store, or stored before it was configured).',
      registers,
    }),
    bodiesMovedOut: new Counter({
      name: 'smileid_bodies_moved_out_total',
      help: 'Bodies kept whole in Postgres whose photos were then moved to the object store.',
      registers,
    }),
    objectOrphansRemoved: new Counter({
      name: 'smileid_object_orphans_removed_total',
      help: 'Objects no stored body refers to (a write whose row never committed, a deletion that failed) removed by the orphan sweep after its grace period.',
      registers,
    }),
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
    queueJobs: new Gauge({
      name: 'smileid_queue_jobs',
      help: 'Queued work by queue and state (waiting, active, delayed, failed, prioritized).',
      labelNames: ['queue', 'state'] as const,
      registers,
    }),
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

  // Series that alerts watch exist from the start at 0: `increase()` cannot see a counter's first sample,
  // so the first 2205 after a restart would otherwise go unnoticed.
  for (const code of ['2205', '2405', 'timeout', 'network_error']) metrics.smileApiErrors.inc({ code }, 0);
  for (const reason of ['signature_mismatch', 'malformed_signature']) {
    metrics.signatureFailures.inc({ source: 'callback', reason }, 0);
  }
  metrics.signatureFailures.inc({ source: 'job_status', reason: 'signature_mismatch' }, 0);
  for (const outcome of ['applied', 'stale', 'bad_signature', 'unauthorized', 'retry', 'retries_spent']) {
    metrics.polls.inc({ outcome }, 0);
  }
  for (const event of ['accepted', 'uploaded', 'failed']) metrics.submissions.inc({ event }, 0);
  metrics.callbackRejections.inc({ reason: 'CALLBACK_NOT_STORED' }, 0);
  for (const operation of ['put', 'get', 'delete', 'list']) {
    for (const result of ['ok', 'unavailable', 'error'])
      metrics.objectStoreOperations.inc({ operation, result }, 0);
  }
  for (const source of ['callback', 'job_status']) metrics.bodiesKeptInline.inc({ source }, 0);
  metrics.bodiesMovedOut.inc(0);
  metrics.objectOrphansRemoved.inc(0);

  metrics.submissionCalls.inc({ call: 'prep_upload', result: 'unauthorized' }, 0);
  for (const reason of UNTRUSTED_REASONS) {
    for (const body of ['kept', 'withheld']) metrics.untrustedCallbacks.inc({ reason, body }, 0);
  }
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Why a signed callback was stored without being believed. */
export const UNTRUSTED_REASONS = [
  'timestamp_outside_tolerance',
  'timestamp_in_future',
  'timestamp_unparseable',
  'signature_replayed',
  'no_job_id',
] as const;

/** What photos' storage reports, counted into these metrics. */
export function objectStorageObserverOf(metrics: Metrics | undefined): ObjectStorageObserver | undefined {
  if (!metrics) return undefined;
  return {
    called(operation, result, seconds) {
      metrics.objectStoreOperations.inc({ operation, result });
      metrics.objectStoreDuration.observe({ operation }, seconds);
    },
    keptInline: (source) => metrics.bodiesKeptInline.inc({ source }),
  };
}

/** Counts a change of job state, and the time to final when it is the job's first final state. */
export function recordTransition(
  metrics: Metrics | undefined,
  transition:
    | { fromState: string | null; toState: string; fromFinal: boolean | null; toFinal: boolean }
    | undefined,
  firstSeenAt: Date | undefined,
  at: Date,
): void {
  if (!metrics || !transition) return;
  metrics.transitions.inc({
    from: transition.fromState ?? 'none',
    to: transition.toState,
    final: String(transition.toFinal),
  });
  if (transition.toFinal && !transition.fromFinal && firstSeenAt) {
    metrics.timeToFinal.observe(Math.max(0, (at.getTime() - firstSeenAt.getTime()) / 1000));
  }
}

/** A submission Smile ID has the zip of, counted once by whichever writer marked it uploaded. */
export function recordSubmissionUploaded(metrics: Metrics | undefined, acceptedAt: Date, at: Date): void {
  metrics?.submissions.inc({ event: 'uploaded' });
  metrics?.submissionDuration.observe(Math.max(0, (at.getTime() - acceptedAt.getTime()) / 1000));
}
