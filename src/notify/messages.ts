import type { Cursors } from '../api/cursor.js';
import { type ComparedDecision, decisionChanged } from '../domain/decision/job-decision.js';
import type { SuspectUser } from '../domain/facets.js';
import { smileSecureView } from '../domain/smile-secure.js';
import type { FeedChange } from '../store/feed/change-feed.js';
import type { DeliveryDraft } from '../store/webhooks/fan-out.js';

/**
 * The webhook messages a change makes, in the Standard Webhooks shape `{type, timestamp, data}`:
 * `job.updated` for every change, then `job.finalized` when the change made the job final and
 * confirmed, then `job.decided` when it changed the job's decision. `data` is the job as consumers see
 * it, without identity data, with the change itself and its feed cursor, so that a consumer can tell a
 * late repeat from news.
 */

export const EVENTS = { updated: 'job.updated', finalized: 'job.finalized', decided: 'job.decided' } as const;

export function becameSettled(change: FeedChange): boolean {
  return change.toFinal && change.confirmed && !(change.fromFinal === true && change.fromConfirmed === true);
}

/**
 * The change moved the job's decision in a way a consumer acts on (domain/decision/job-decision.ts). A
 * change recorded before decisions existed carries none, and decided nothing.
 */
export function becameDecided(change: FeedChange): boolean {
  const after = change.outcome.decision as ComparedDecision | undefined;
  if (!after) return false;
  return decisionChanged((change.fromDecision as ComparedDecision | null) ?? null, after);
}

export function webhookData(change: FeedChange, cursors: Pick<Cursors, 'change'>) {
  const outcome = change.outcome;
  return {
    cursor: cursors.change(change),
    jobId: change.jobId,
    userId: change.userId,
    jobType: outcome.jobType ?? null,
    smileJobId: outcome.smileJobId ?? null,
    state: change.toState,
    isFinal: change.toFinal,
    confirmed: change.confirmed,
    needsConfirmation: outcome.needsConfirmation ?? false,
    resultCode: outcome.resultCode ?? null,
    resultText: outcome.resultText ?? null,
    actions: outcome.actions ?? {},
    idNumberPreviouslyRegistered: outcome.idNumberPreviouslyRegistered ?? null,
    previousRegistrantUserIds: outcome.previousRegistrantUserIds ?? [],
    suspectUsers: outcome.suspectUsers ?? [],
    smileSecure: smileSecureView({
      code: (outcome.smileSecureCode as string | null | undefined) ?? null,
      suspectUsers: (outcome.suspectUsers as SuspectUser[] | undefined) ?? [],
    }),
    decision: outcome.decision ?? null,
    change: {
      fromState: change.fromState,
      toState: change.toState,
      fromFinal: change.fromFinal,
      toFinal: change.toFinal,
      fromConfirmed: change.fromConfirmed,
      confirmed: change.confirmed,
      fromDecision: (change.fromDecision?.value as string | undefined) ?? null,
    },
    createdAt: outcome.createdAt ?? null,
    updatedAt: outcome.updatedAt ?? null,
    finalizedAt: outcome.finalizedAt ?? null,
  };
}

/** The deliveries of these changes to one endpoint, in feed order. */
export function draftDeliveries(
  changes: readonly FeedChange[],
  cursors: Pick<Cursors, 'change'>,
): DeliveryDraft[] {
  return changes.flatMap((change) => {
    const events = [
      EVENTS.updated,
      ...(becameSettled(change) ? [EVENTS.finalized] : []),
      ...(becameDecided(change) ? [EVENTS.decided] : []),
    ];
    const data = webhookData(change, cursors);
    return events.map((type) => ({
      changeId: change.position.id,
      jobId: change.jobId,
      event: type,
      // Stable across attempts and endpoints: receivers drop repeats by it.
      messageId: `msg_${change.position.id}_${type.slice('job.'.length)}`,
      payload: JSON.stringify({ type, timestamp: change.at.toISOString(), data }),
    }));
  });
}
