import type { JobDecision } from '../domain/decision/job-decision.js';
import { shownResult } from '../domain/evidence.js';
import { smileSecureView } from '../domain/smile-secure.js';
import type { StoredJob } from '../store/jobs/job-table.js';
import type { SubmissionView } from '../store/submissions/submission-table.js';

/**
 * A job as the API shows it (docs/api.md#the-job-outcome). `idInfo` (PII) appears only when asked for:
 * the route checks the token and writes the audit row before the store opens it.
 */
export function presentJob(record: StoredJob, { withIdInfo = false }: { withIdInfo?: boolean } = {}) {
  const { outcome } = record;
  const shown = shownResult(outcome.evidence).held?.facet;
  return {
    jobId: outcome.jobId,
    userId: outcome.userId,
    jobType: outcome.jobType,
    smileJobId: outcome.smileJobId ?? outcome.smileJobIds[0] ?? null,
    smileJobIds: outcome.smileJobIds,
    state: outcome.state,
    isFinal: outcome.isFinal,
    confirmed: outcome.confirmed,
    needsConfirmation: outcome.needsConfirmation,
    userIdSource: outcome.identity,
    /** Polled until the horizon without becoming final and confirmed: needs a person. */
    stale: record.staleAt !== null,
    lastCheckedAt: record.lastCheckedAt?.toISOString() ?? null,
    nextCheckAt: record.nextCheckAt?.toISOString() ?? null,
    resultCode: outcome.resultCode,
    resultText: outcome.resultText,
    actions: outcome.actions ?? {},
    resultType: shown?.resultType ?? null,
    confidenceValue: shown?.confidenceValue ?? null,
    isMachineResult: shown?.isMachineResult ?? null,
    partnerParams: shown?.partnerParams ?? {},
    ...(withIdInfo ? { idInfo: outcome.idInfo } : {}),
    idNumberPreviouslyRegistered: outcome.idNumberPreviouslyRegistered,
    previousRegistrantUserIds: outcome.previousRegistrantUserIds,
    suspectUsers: outcome.suspectUsers,
    smileSecure: smileSecureView({ code: outcome.smileSecureCode, suspectUsers: outcome.suspectUsers }),
    submission: record.submission && presentSubmission(record.submission),
    decision: presentDecision(record.decision),
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    finalizedAt: outcome.finalizedAt?.toISOString() ?? null,
  };
}

/** A job's decision as the API shows it. */
export function presentDecision(decision: JobDecision) {
  return {
    value: decision.value,
    reasons: decision.reasons,
    details: decision.details,
    source: decision.source,
    rule: decision.rule,
    policyVersion: decision.policyVersion,
    decidedAt: decision.decidedAt.toISOString(),
  };
}

/** A job's submission as the API shows it. */
export function presentSubmission(submission: SubmissionView) {
  return {
    status: submission.status,
    attempts: submission.attempts,
    smileJobId: submission.smileJobId,
    queuedAt: submission.queuedAt.toISOString(),
    submittedAt: submission.submittedAt?.toISOString() ?? null,
    error: submission.error,
  };
}
