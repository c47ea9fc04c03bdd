import type { ConnectionOptions, Worker } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Metrics } from './observability/metrics.js';
import { type CatalogEntry, catalog, type JobSettings, type QueueName } from './queues/catalog.js';
import { type JobModule, planWorkers } from './queues/job-module.js';
import { createProducer, type Producer } from './queues/producer.js';
import { createScheduleKeeper } from './queues/schedule-keeper.js';
import { createCatalogWorker } from './queues/worker.js';
import type { OutageReporter } from './util/outages.js';

export interface WorkerDependencies {
  /** A connection with `maxRetriesPerRequest: null`: workers wait for Redis rather than fail. */
  redis: Redis;
  prefix: string;
  /** The figures the catalog's job options depend on. */
  settings: JobSettings;
  log: FastifyBaseLogger;
  metrics?: Metrics | undefined;
  /** Where the queues' and workers' errors go: a Redis outage is said once, and its end once. */
  outages: OutageReporter;
  /** The features' job modules (each folder's jobs.ts), given the producer their work queues jobs with. */
  modules: (producer: Producer<QueueName>) => readonly JobModule[];
  /** How often the schedules are looked at, and how long one may go without a run (tests shorten both). */
  scheduleKeeper?: { checkIntervalMs?: number; minStallMs?: number };
}

/**
 * Builds the worker side, as buildApp builds the HTTP side: it opens the queues the job modules declare,
 * and on start() runs a worker per queue and keeps their schedules declared. Postgres holds when each
 * piece of work is due, so Redis can be lost and rebuilt: the schedules are declared again whenever
 * Redis (re)connects, and whenever the schedule keeper finds one missing or stalled. It never reads the
 * environment; closing it closes what it opened, not the connection it was given.
 */
export function buildWorker(deps: WorkerDependencies) {
  const { redis, prefix, log, outages } = deps;
  const producer = createProducer<QueueName>({ connection: redis, prefix, settings: deps.settings, outages });
  const plan = planWorkers(deps.modules(producer));
  const queues = plan.queues.map(({ name }) => producer.queue(name));
  const keeper = createScheduleKeeper({
    schedules: plan.schedules.map(({ entry, every }) => scheduleOf(entry, every)),
    redis,
    prefix,
    log,
    outages,
    metrics: deps.metrics,
    ...deps.scheduleKeeper,
  });

  function scheduleOf(entry: CatalogEntry, every: number) {
    const job = catalog[entry];
    return { queue: producer.queue(job.queue), name: job.name, every, options: job.options(deps.settings) };
  }

  const workers: Worker[] = [];
  return {
    /** The queues worked here, whose depth /metrics reports. */
    queues,
    /** The producer the modules queue work with; its queues are the worker's. */
    producer,
    start() {
      const connection = redis as unknown as ConnectionOptions;
      for (const { name, settings, handlers } of plan.queues) {
        // Complete for its queue: planWorkers refused a plan with an entry left without a handler.
        const worker = createCatalogWorker(name, handlers as never, {
          connection,
          prefix,
          log,
          outages,
          ...settings,
        });
        keeper.watch(worker);
        workers.push(worker);
      }
      keeper.start();
    },
    /** Redis, and one check per schedule, named after it: it fails while the schedule has not run in time. */
    readinessChecks: {
      redis: () => redis.ping(),
      ...keeper.readinessChecks,
    } as Record<string, () => Promise<unknown>>,
    /** Stops taking work and waits for jobs in flight; what is still queued stays in Redis or Postgres. */
    async close() {
      keeper.close();
      await Promise.all(workers.map((worker) => worker.close()));
      await producer.close();
    },
  };
}

export type WorkerSide = ReturnType<typeof buildWorker>;
