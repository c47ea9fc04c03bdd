import { type JobRecord, outcomeFromRecord } from '../jobs/job-record.js';

/** A job as CONTRACT.md shows it. `idInfo` (PII) appears only when asked for with a PII token. */
export function presentJob(record: JobRecord, { includeIdInfo }: { includeIdInfo: boolean }) {
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
    /** Polled until the horizon without becoming final and confirmed: needs a person. */
    stale: record.staleAt !== null,
    lastCheckedAt: record.lastCheckedAt?.toISOString() ?? null,
    nextCheckAt: record.nextCheckAt?.toISOString() ?? null,
    resultCode: outcome.resultCode,
    resultText: outcome.resultText,
    actions: outcome.actions ?? {},
    ...(includeIdInfo ? { idInfo: outcome.idInfo } : {}),
    idNumberPreviouslyRegistered: outcome.idNumberPreviouslyRegistered ?? false,
    previousRegistrantUserIds: outcome.previousRegistrantUserIds,
    suspectUsers: outcome.suspectUsers,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    finalizedAt: outcome.finalizedAt?.toISOString() ?? null,
  };
}
