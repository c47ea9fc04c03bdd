import type { IdInfo } from '../jobs/facets.js';
import { type JobRecord, outcomeFromRecord } from '../jobs/job-record.js';

/**
 * A job as CONTRACT.md shows it. `idInfo` (PII) appears only when the caller passes it, opened through
 * identity-data.ts after checking the token and writing the audit row; the record alone never shows it.
 */
export function presentJob(record: JobRecord, { idInfo }: { idInfo?: IdInfo | null } = {}) {
  const outcome = outcomeFromRecord(record);
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
    ...(idInfo !== undefined ? { idInfo } : {}),
    idNumberPreviouslyRegistered: outcome.idNumberPreviouslyRegistered ?? false,
    previousRegistrantUserIds: outcome.previousRegistrantUserIds,
    suspectUsers: outcome.suspectUsers,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    finalizedAt: outcome.finalizedAt?.toISOString() ?? null,
  };
}
