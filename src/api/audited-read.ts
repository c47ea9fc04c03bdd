import type { FastifyRequest } from 'fastify';
import type { IdentityRead } from '../store/identity/audit-log.js';
import { requirePiiAccess } from './bearer-auth.js';
import type { RouteContext } from './route-context.js';

/**
 * The gate before any read of identity data: a PII token, then a durable audit row naming the token's
 * fingerprint, the job, what is read and through which route. False (and no row) when the job does not
 * exist; a row that cannot be written fails the request, so nothing is read unrecorded.
 */
export async function auditIdentityRead(
  context: Pick<RouteContext, 'audit' | 'callerOf'>,
  request: FastifyRequest,
  jobId: string,
  read: IdentityRead,
): Promise<boolean> {
  const caller = context.callerOf(request);
  requirePiiAccess(caller);
  return context.audit.recordRead({
    jobId,
    fingerprint: caller.fingerprint,
    read,
    route: `${request.method} ${request.routeOptions.url}`,
    requestId: request.id,
  });
}
