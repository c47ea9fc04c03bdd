import type { FastifyRequest } from 'fastify';
import type { Registrations } from '../jobs/registration.js';
import type { FieldCipher } from '../security/field-cipher.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { AuditLog } from './audit-log.js';
import type { Caller } from './bearer-auth.js';
import type { EventQueries } from './event-queries.js';
import type { JobQueries } from './job-queries.js';

/** What every /v1 route plugin is given (routes.ts builds it once). */
export interface RouteContext {
  jobs: JobQueries;
  events: EventQueries;
  audit: AuditLog;
  cipher: FieldCipher;
  registrations: Registrations;
  /** Smile ID's job_status, asked directly by routes that must answer with what it says now. */
  jobStatus: Pick<JobStatusClient, 'fetchStatus'>;
  enqueueCheck: (jobId: string) => Promise<void>;
  horizonMs: number;
  now: () => Date;
  /** The authenticated caller of a request (set before validation by routes.ts). */
  callerOf: (request: FastifyRequest) => Caller;
  /** Route config every /v1 route carries: its rate limit. */
  routeConfig: { rateLimit: { max: number; timeWindow: string } };
}

/** OpenAPI tags and security for every /v1 route. */
export const BEARER_ROUTE = { tags: ['jobs'], security: [{ bearerAuth: [] }] };
