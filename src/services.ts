import { once } from 'node:events';
import { createSubmissionIntake } from './api/accept-submission.js';
import { createBearerAuth } from './api/bearer-auth.js';
import { cursorsOf } from './api/cursor.js';
import { createLongPolls } from './api/long-polls.js';
import { createJobRegistration } from './api/register-job.js';
import { createReviewSettlement } from './api/settle-review.js';
import type { Services } from './app-dependencies.js';
import { createIntake } from './callbacks/intake.js';
import type { Metrics } from './observability/metrics.js';
import type { FieldCipher } from './security/field-cipher.js';
import type { Settings } from './settings.js';
import { createJobStatusClient, type JobStatusClient } from './smileid/job-status-client.js';
import type { Database } from './store/connections.js';
import { createCallbackStore } from './store/evidence/callback-store.js';
import { createEventQueries } from './store/evidence/event-queries.js';
import { type ChangeSignal, createChangeFeed } from './store/feed/change-feed.js';
import { createAuditLog } from './store/identity/audit-log.js';
import { eraseUserIdentityData } from './store/identity/identity-maintenance.js';
import { createJobQueries } from './store/jobs/job-queries.js';
import { createRegistrationStore } from './store/jobs/registrations.js';
import { createReviewStore } from './store/jobs/reviews.js';
import { createUserQueries } from './store/jobs/user-queries.js';
import type { BodyVault } from './store/objects/body-vault.js';
import { createSubmissionStore } from './store/submissions/submission-store.js';
import { createWebhookStore } from './store/webhooks/webhook-store.js';

/** The stores both the HTTP side and the workers use: built once per process, over the one pool. */
export function sharedStoresOf(db: Pick<Database, 'pool'>, cipher: FieldCipher) {
  return {
    submissions: createSubmissionStore({ pool: db.pool, cipher }),
    webhooks: createWebhookStore({ pool: db.pool }),
    feed: createChangeFeed({ pool: db.pool }),
  };
}

export type SharedStores = ReturnType<typeof sharedStoresOf>;

/**
 * The HTTP side's services over open connections: flows, stores and the API's reads. Opens nothing,
 * so the tests can wire the real services over their own database.
 */
export function createServices({
  settings,
  db,
  cipher,
  vault,
  stores = sharedStoresOf(db, cipher),
  metrics,
  jobStatus = createJobStatusClient(settings.smileApi.status),
  enqueueCheck = async () => undefined,
  enqueueSubmission = async () => undefined,
  changeSignal = { watch: () => (until) => once(until, 'abort').then(() => undefined) },
  now = () => new Date(),
}: {
  settings: Pick<
    Settings,
    'callbacks' | 'api' | 'pollModel' | 'smileApi' | 'dataEncryptionKeys' | 'decisions'
  >;
  db: Pick<Database, 'pool' | 'prisma'>;
  cipher: FieldCipher;
  /** Where stored bodies' photos go and come from (the object store, or Postgres with inline storage). */
  vault: BodyVault;
  /** The stores the workers of this process use too. */
  stores?: SharedStores;
  metrics?: Metrics | undefined;
  jobStatus?: Pick<JobStatusClient, 'fetchStatus'>;
  /** Queues a status check at once (POST /v1/jobs/:jobId/reconcile); may fail when Redis is down. */
  enqueueCheck?: (jobId: string) => Promise<void>;
  /** Queues a submission's upload at once (POST /v1/submissions); may fail when Redis is down. */
  enqueueSubmission?: (jobId: string) => Promise<void>;
  /** Wakes long polls of the change feed; without one, they wait their whole time, then read again. */
  changeSignal?: Pick<ChangeSignal, 'watch'>;
  now?: () => Date;
}): Services {
  const { pool, prisma } = db;
  const { api } = settings;
  const { policy } = settings.decisions;
  return {
    intake: createIntake({
      store: createCallbackStore({ pool, cipher, vault }),
      policy,
      now,
      cipher,
      metrics,
      options: settings.callbacks,
    }),
    api: {
      jobs: createJobQueries({ pool, cipher }),
      events: createEventQueries({ pool, vault }),
      audit: createAuditLog({ pool, now }),
      registrations: createJobRegistration({
        store: createRegistrationStore({ prisma }),
        pollModel: settings.pollModel,
        policy,
        metrics,
      }),
      reviews: createReviewSettlement({ store: createReviewStore({ pool }), now }),
      users: createUserQueries({ pool }),
      eraseUserIdentityData: (request) => eraseUserIdentityData(pool, cipher, vault, request),
      jobStatus,
      enqueueCheck,
      submissions: {
        intake: createSubmissionIntake({
          store: stores.submissions,
          enqueue: enqueueSubmission,
          policy,
          now,
        }),
        configured: api.submissionsConfigured,
        maxBytes: api.submissionMaxBytes,
        maxImageBytes: api.submissionMaxImageBytes,
      },
      metrics,
      cursors: cursorsOf(settings.dataEncryptionKeys),
      changes: createLongPolls({
        read: stores.feed.read,
        watch: changeSignal.watch,
        maxWaiters: api.changeFeedMaxWaiters,
        onRead: () => metrics?.changeFeedReads.inc(),
        onWaiting: (waiting) => metrics?.changeFeedWaiting.set(waiting),
      }),
      notifications: stores.webhooks,
      now,
      authenticate: createBearerAuth(api.tokens),
      rateLimitPerMinute: api.rateLimitPerMinute,
    },
  };
}
