import type { PolicyInUse } from '../domain/decision/policy.js';
import { changeFromRegistration } from '../domain/job-change.js';
import type { PollModel } from '../domain/poll-schedule.js';
import { type Metrics, recordDecision } from '../observability/metrics.js';
import type { JobRegistration, RegistrationStore } from '../store/jobs/registrations.js';
import { withCompareAndSwap } from '../store/transactions.js';

export type RegistrationResult = 'created' | 'existing' | 'conflict';

/**
 * The registration flow: read → decide (domain/job-change.ts) → write, until a write lands. Registers a
 * job we expect callbacks for, so that it is reconciled even if none ever arrives, and fixes whom it
 * belongs to. Registering again is harmless (`existing`); registering a job that only callbacks knew is
 * a new registration (`created`).
 */
export function createJobRegistration({
  store,
  pollModel,
  policy,
  metrics,
}: {
  store: RegistrationStore;
  pollModel: PollModel;
  /** The decision policy a registered job's decision is derived by (its job type, ID type and country count). */
  policy: PolicyInUse;
  metrics?: Metrics | undefined;
}) {
  async function register(registration: JobRegistration, now: Date): Promise<RegistrationResult> {
    return withCompareAndSwap(async () => {
      const job = await store.load(registration.jobId);
      const change = changeFromRegistration(job, registration, { now, pollModel, policy });
      switch (change.kind) {
        case 'conflict':
          return 'conflict';
        case 'create':
          // Created concurrently: read it and adopt it instead.
          return (await store.create(registration, { now, ...change })) ? 'created' : null;
        case 'adopt': {
          const adopted = await store.adopt(job!, { ...change, now });
          if (!adopted) return null;
          recordDecision(metrics, { before: job!.decision, after: change.decision });
          return change.firstRegistration ? 'created' : 'existing';
        }
      }
    });
  }

  return { register, requestCheck: store.requestCheck };
}

export type JobRegistrations = ReturnType<typeof createJobRegistration>;
