import type { FastifyRequest } from 'fastify';
import type { Metrics } from '../observability/metrics.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { EventQueries } from '../store/evidence/event-queries.js';
import type { AuditLog } from '../store/identity/audit-log.js';
import type { eraseUserIdentityData } from '../store/identity/identity-maintenance.js';
import type { JobQueries } from '../store/jobs/job-queries.js';
import type { UserQueries } from '../store/jobs/user-queries.js';
import type { WebhookStore } from '../store/webhooks/webhook-store.js';
import type { SubmissionIntake } from './accept-submission.js';
import type { Caller } from './bearer-auth.js';
import type { Cursors } from './cursor.js';
import type { LongPolls } from './long-polls.js';
import type { JobRegistrations } from './register-job.js';
import type { ReviewSettlement } from './settle-review.js';

/** What every /v1 route plugin is given (routes.ts builds it once). */
export interface RouteContext {
  jobs: JobQueries;
  events: EventQueries;
  audit: AuditLog;
  registrations: JobRegistrations;
  /** POST /v1/jobs/:jobId/review: a person's decision on a job in review, audited. */
  reviews: ReviewSettlement;
  /** GET /v1/users/:userId: a user's verification, jobs and risk facts. */
  users: UserQueries;
  /** Erases one user's identity data from every job of theirs, audited in the same transaction. */
  eraseUserIdentityData: (
    request: Parameters<typeof eraseUserIdentityData>[3],
  ) => ReturnType<typeof eraseUserIdentityData>;
  /** Smile ID's job_status, asked directly by routes that must answer with what it says now. */
  jobStatus: Pick<JobStatusClient, 'fetchStatus'>;
  enqueueCheck: (jobId: string) => Promise<void>;
  /** POST /v1/submissions: the intake flow and its limits; `configured` false without PUBLIC_CALLBACK_URL. */
  submissions: {
    intake: SubmissionIntake;
    configured: boolean;
    maxBytes: number;
    maxImageBytes: number;
  };
  metrics?: Metrics | undefined;
  /** Issues and checks the page cursors of every listing (cursor.ts). */
  cursors: Cursors;
  /** GET /v1/changes: reads of the feed and waits for its next changes, shared (long-polls.ts). */
  changes: Pick<LongPolls, 'changesAfter'>;
  /** Dead letters and endpoints of the webhooks. */
  notifications: Pick<
    WebhookStore,
    'listDead' | 'redeliver' | 'listEndpoints' | 'enableEndpoint' | 'removeRetiredEndpoint'
  >;
  now: () => Date;
  /** The authenticated caller of a request (set before validation by routes.ts). */
  callerOf: (request: FastifyRequest) => Caller;
  /** Route config every /v1 route carries: its rate limit. */
  routeConfig: { rateLimit: { max: number; timeWindow: string } };
}

/** OpenAPI tags and security for every /v1 route. */
export const BEARER_ROUTE = { tags: ['jobs'], security: [{ bearerAuth: [] }] };
