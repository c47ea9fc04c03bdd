import { collectDefaultMetrics, Registry } from 'prom-client';
import { callbackMetrics, jobStateMetrics, reconciliationMetrics } from './callback-metrics.js';
import { decisionMetrics } from './decision-metrics.js';
import { changeFeedMetrics, notificationMetrics, submissionMetrics } from './delivery-metrics.js';
import { objectStoreMetrics } from './object-store-metrics.js';
import { httpMetrics, jobGaugeMetrics, queueMetrics, scheduleMetrics } from './runtime-metrics.js';

export { UNTRUSTED_REASONS } from './callback-metrics.js';
export { type DecisionMove, recordDecision } from './decision-metrics.js';
export { objectStorageObserverOf } from './object-store-metrics.js';

/**
 * Every metric the service exports, in a registry of its own per app instance (tests build many apps).
 * Labels are small closed sets: never a job id, user id, or anything from a body.
 */
export function createMetrics({ defaultMetrics = true }: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'smileid_process_' });
  return {
    registry,
    ...httpMetrics(registry),
    ...callbackMetrics(registry),
    ...jobStateMetrics(registry),
    ...decisionMetrics(registry),
    ...reconciliationMetrics(registry),
    ...submissionMetrics(registry),
    ...notificationMetrics(registry),
    ...changeFeedMetrics(registry),
    ...jobGaugeMetrics(registry),
    ...queueMetrics(registry),
    ...scheduleMetrics(registry),
    ...objectStoreMetrics(registry),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

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
