import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { ApiOptions } from './api/routes.js';
import type { Intake } from './callbacks/intake.js';
import type { Config } from './config.js';
import type { Metrics } from './observability/metrics.js';
import type { QueueCounter } from './observability/scrape-gauges.js';
import type { GaugeQueries } from './store/jobs/job-gauges.js';

/**
 * What buildApp (app.ts) is given and the composition root (deps.ts) builds: here, so that each of
 * them imports these types and neither imports the other.
 */

/** What the HTTP routes serve: the callback flow and the /v1 API's services. */
export interface Services {
  intake: Intake;
  api: ApiOptions;
}

export interface AppDependencies {
  config: Config;
  logger: FastifyBaseLogger;
  /** What the routes serve (deps.ts); absent in a worker-only process, which serves health endpoints alone. */
  services?: Services | undefined;
  /** Rate-limit store; without it, limits are kept in process memory. */
  redis?: Redis | undefined;
  /** Each named check resolves when its dependency answers (/readyz). */
  readinessChecks: Record<string, () => Promise<unknown>>;
  /** This instance's metrics; without them, nothing is measured and /metrics is absent. */
  metrics?: Metrics | undefined;
  /** The Postgres reads behind the job gauges of /metrics. */
  gauges?:
    | (Pick<
        GaugeQueries,
        'jobCounts' | 'reviewQueue' | 'submissionCounts' | 'notificationCounts' | 'changeFeedHeldBack'
      > &
        Partial<Pick<GaugeQueries, 'inlineBodies'>>)
    | undefined;
  /** Queues whose depth /metrics reports. */
  queues?: readonly QueueCounter[];
}
