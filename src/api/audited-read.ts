import type { FastifyRequest } from 'fastify';
import { CodedError } from '../http/coded-error.js';
import type { IdentityRead } from '../store/identity/audit-log.js';
import { type Caller, requirePiiAccess } from './bearer-auth.js';
import type { RouteContext } from './route-context.js';

/** What a review token may read of a job in review: what a person needs to see to decide. */
const REVIEWABLE: ReadonlySet<IdentityRead> = new Set(['idInfo', 'images']);

/** Whether the caller reads as a reviewer: a review token without PII rights, reading what a review needs. */
const readsAsReviewer = (caller: Caller, read: IdentityRead) =>
  caller.access !== 'pii' && caller.reviewer && REVIEWABLE.has(read);

/** Refuses at once a caller who may read this identity data of no job. */
export function requireIdentityReader(caller: Caller, read: IdentityRead): void {
  if (!readsAsReviewer(caller, read)) requirePiiAccess(caller);
}

/**
 * The gate before any read of identity data: a PII token, or a review token reading the ID record or
 * image links of a job in review; then a durable audit row naming the token's fingerprint, the job, what
 * is read and through which route. False (and no row) when the job does not exist; a row that cannot be
 * written fails the request, so nothing is read unrecorded. A reviewer's row is written only while the
 * job is in review, in the statement that checks it.
 */
export async function auditIdentityRead(
  context: Pick<RouteContext, 'audit' | 'callerOf' | 'jobs'>,
  request: FastifyRequest,
  jobId: string,
  read: IdentityRead,
): Promise<boolean> {
  const caller = context.callerOf(request);
  const reviewing = readsAsReviewer(caller, read);
  if (!reviewing) requirePiiAccess(caller);
  const recorded = await context.audit.recordRead({
    jobId,
    fingerprint: caller.fingerprint,
    read,
    route: `${request.method} ${request.routeOptions.url}`,
    requestId: request.id,
    whileInReview: reviewing,
  });
  if (recorded || !reviewing) return recorded;
  if (await context.jobs.exists(jobId))
    throw new CodedError({ code: 'PII_FORBIDDEN', variant: 'notInReview' });
  return false;
}
