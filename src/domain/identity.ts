import type { IdentitySource, JobOutcome, Observation } from './outcome.js';

type IdentityFields = Pick<
  JobOutcome,
  'userId' | 'jobType' | 'identity' | 'identityAt' | 'identityConflictAt'
>;

const STRENGTH: Readonly<Record<IdentitySource, number>> = {
  registration: 3,
  job_status: 3,
  callback: 1,
  untrusted: 0,
};

/**
 * Whom a job belongs to. Identity comes from us: a registration (or a job_status answer that returned
 * the job for the user we asked about) fixes the user id and job type, and a body naming someone else
 * changes neither and is only flagged. A job we never registered shows the user its bodies name: a
 * trusted body's over an untrusted one's, and among equals the earliest received, so the order of
 * arrival does not matter; job_status is then asked about that user, and confirms it.
 */
export function mergeIdentity(base: JobOutcome, observation: Observation): Partial<IdentityFields> {
  const receivedAt = observation.receivedAt.getTime();
  if (observation.authority === 'job_status') {
    const confirms =
      observation.trusted &&
      observation.returnsJob === true &&
      base.userId !== null &&
      (base.identity === 'callback' || base.identity === 'untrusted');
    return confirms ? { identity: 'job_status' } : {};
  }
  const named = observation.userId;
  if (named === null) return {};
  const source: IdentitySource = observation.trusted ? 'callback' : 'untrusted';
  const claim = { userId: named, identity: source, identityAt: receivedAt };
  if (base.userId === null || base.identity === null) {
    return { ...claim, jobType: base.jobType ?? observation.jobType };
  }
  const held = STRENGTH[base.identity];
  const offered = STRENGTH[source];
  if (named === base.userId) {
    const upgraded = offered > held || (offered === held && receivedAt < (base.identityAt ?? receivedAt));
    return {
      ...(upgraded ? { identity: source, identityAt: receivedAt } : {}),
      // Only a trusted body may fill a job type the job lacks.
      ...(observation.trusted ? { jobType: base.jobType ?? observation.jobType } : {}),
    };
  }
  // Another user, named by a trusted body against a trusted or established identity: flagged whoever
  // wins, from the later of the two bodies, so either order flags alike. Untrusted bodies flag nothing.
  const conflictAt =
    observation.trusted && base.identity !== 'untrusted'
      ? { identityConflictAt: Math.max(base.identityConflictAt ?? 0, receivedAt, base.identityAt ?? 0) }
      : {};
  const replaces = offered > held || (offered === held && receivedAt < (base.identityAt ?? receivedAt));
  return replaces ? { ...claim, jobType: observation.jobType ?? base.jobType, ...conflictAt } : conflictAt;
}
