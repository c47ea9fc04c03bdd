import type { FastifyBaseLogger } from 'fastify';
import type { PollModel } from '../domain/poll-schedule.js';
import type { Metrics } from '../observability/metrics.js';
import type { JobStatusClient } from '../smileid/job-status-client.js';
import type { StatusStore } from '../store/evidence/status-store.js';
import type { StoredJob } from '../store/jobs/job-table.js';

/** What every job_status check works with: the flow's dependencies and settings. */
export interface CheckFlow {
  store: StatusStore;
  client: Pick<JobStatusClient, 'fetchStatus'>;
  pollModel: PollModel;
  now: () => Date;
  metrics: Metrics | undefined;
}

/** One check of one job: the flow, the job as loaded, and the queued job's own logger. */
export interface JobCheck {
  flow: CheckFlow;
  job: StoredJob;
  log: FastifyBaseLogger;
}
