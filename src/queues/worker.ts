import { type ConnectionOptions, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { OutageReporter } from '../util/outages.js';
import { type CatalogEntry, catalog, type EntriesOf, type Handler, type QueueName } from './catalog.js';

/**
 * One worker for one queue of the catalog, dispatching each job to its entry's handler by name. A name
 * the catalog does not know, or data its schema refuses, fails at once as unrecoverable: retrying
 * cannot fix either, and running something else in its place would hide the fault.
 */
export function createCatalogWorker<Q extends QueueName>(
  queue: Q,
  handlers: { [E in EntriesOf<Q>]: Handler<E> },
  options: Omit<WorkerOptions, 'connection'> & {
    connection: ConnectionOptions;
    log: FastifyBaseLogger;
    /** Where the worker's errors go: an outage of Redis is said once, not at every reconnect. */
    outages: OutageReporter;
  },
): Worker {
  const { log, outages, ...workerOptions } = options;
  const entries = new Map(
    (Object.keys(handlers) as EntriesOf<Q>[]).map((entry) => [
      catalog[entry].name as string,
      entry as CatalogEntry,
    ]),
  );
  const worker = new Worker(
    queue,
    async (job) => {
      const entry = entries.get(job.name);
      if (entry === undefined) throw new UnrecoverableError(`queue ${queue} has no job named "${job.name}"`);
      const data = catalog[entry].data.safeParse(job.data);
      if (!data.success) throw new UnrecoverableError(`invalid data for ${job.name}: ${data.error.message}`);
      const handler = handlers[entry as EntriesOf<Q>] as Handler<CatalogEntry>;
      return handler(data.data as never, {
        log: log.child({ queue, job: job.name, queuedJobId: job.id }),
        // attemptsMade counts the attempts that failed before this one.
        finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        checkpoint: async (next) => {
          await job.updateData(catalog[entry].data.parse(next));
        },
      });
    },
    workerOptions,
  );
  worker.on('error', outages.listener('worker error', { queue }));
  worker.on('failed', (job, error) =>
    log.warn(
      { queue, job: job?.name, queuedJobId: job?.id, attempt: job?.attemptsMade, err: error },
      'queued job failed',
    ),
  );
  return worker;
}
