import { Counter, Histogram, type Registry } from 'prom-client';

// What Smile ID tells the service (callbacks, job_status answers) and what it does to jobs. Series that
// alerts watch exist from the start at 0: `increase()` cannot see a counter's first sample, so the first
// 2205 after a restart would otherwise go unnoticed.

/** Why a signed callback was stored without being believed. */
export const UNTRUSTED_REASONS = [
  'timestamp_outside_tolerance',
  'timestamp_in_future',
  'timestamp_unparseable',
  'signature_replayed',
  'no_job_id',
] as const;

/** Callbacks received, refused, kept without belief, and signatures that did not verify. */
export function callbackMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
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
  };
  for (const reason of ['signature_mismatch', 'malformed_signature']) {
    metrics.signatureFailures.inc({ source: 'callback', reason }, 0);
  }
  metrics.signatureFailures.inc({ source: 'job_status', reason: 'signature_mismatch' }, 0);
  metrics.callbackRejections.inc({ reason: 'CALLBACK_NOT_STORED' }, 0);
  for (const reason of UNTRUSTED_REASONS) {
    for (const body of ['kept', 'withheld']) metrics.untrustedCallbacks.inc({ reason, body }, 0);
  }
  return metrics;
}

/** Changes of job state, and how long jobs take to reach a final one. */
export function jobStateMetrics(registry: Registry) {
  const registers = [registry];
  return {
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
  };
}

/** job_status checks and the calls to the Job Status API behind them. */
export function reconciliationMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
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
  };
  for (const code of ['2205', '2405', 'timeout', 'network_error']) metrics.smileApiErrors.inc({ code }, 0);
  for (const outcome of ['applied', 'stale', 'bad_signature', 'unauthorized', 'retry', 'retries_spent']) {
    metrics.polls.inc({ outcome }, 0);
  }
  return metrics;
}
