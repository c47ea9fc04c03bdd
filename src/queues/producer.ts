import { type ConnectionOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { OutageReporter } from '../util/outages.js';
import type { JobDefinition, JobOn, JobSettings, QueueName } from './catalog.js';

/** What, beside the data, a job is queued with: its priority, and whatever its id rule asks for. */
export type AddOptions<J> = { priority?: number } & (J extends JobDefinition<QueueName, z.ZodType, infer I>
  ? I
  : never);

/** One job of a bulk add. */
export interface Queued<J extends JobDefinition> {
  data: z.input<J['data']>;
  options?: AddOptions<J>;
}

/**
 * Queues the catalog's jobs on the queues `Q`, and only those: an entry of another queue does not
 * compile. Data is validated against the entry's schema before it goes to Redis, and the job id and
 * options are the entry's own, so a job is the same whoever queues it.
 */
export interface Producer<Q extends QueueName> {
  add<J extends JobOn<Q>>(job: J, data: z.input<J['data']>, options?: AddOptions<J>): Promise<void>;
  addBulk<J extends JobOn<Q>>(job: J, jobs: readonly Queued<J>[]): Promise<void>;
  /** Jobs waiting or delayed on `queue`. */
  count(queue: Q): Promise<number>;
  /** The BullMQ queue, opened at its first use. */
  queue(name: Q): Queue;
  /** Every queue opened so far. */
  readonly queues: readonly Queue[];
  close(): Promise<void>;
}

/**
 * A producer over one Redis connection. Queues are opened on first use, or at once for those listed in
 * `open` (whose depth /metrics then reports from the start).
 */
export function createProducer<Q extends QueueName>({
  connection,
  prefix,
  settings,
  outages,
  open = [],
}: {
  connection: Redis;
  prefix: string;
  settings: JobSettings;
  /** Where the queues' errors go: an outage of Redis is said once. */
  outages: OutageReporter;
  open?: readonly Q[];
}): Producer<Q> {
  const opened = new Map<Q, Queue>();

  function queue(name: Q): Queue {
    let found = opened.get(name);
    if (!found) {
      found = new Queue(name, { connection: connection as unknown as ConnectionOptions, prefix });
      found.on('error', outages.listener('queue error', { queue: name }));
      opened.set(name, found);
    }
    return found;
  }

  /** The job as BullMQ takes it: the entry's name, data its schema accepts, the entry's id and options. */
  function bullJob(job: JobDefinition, data: unknown, options: { priority?: number } = {}) {
    const { priority, ...asked } = options;
    const parsed = job.data.parse(data);
    const jobId = job.jobId?.(parsed, asked);
    return {
      name: job.name,
      data: parsed,
      opts: {
        ...job.options(settings),
        ...(jobId === undefined ? {} : { jobId }),
        ...(priority === undefined ? {} : { priority }),
      },
    };
  }

  for (const name of open) queue(name);
  return {
    async add(job, data, options) {
      const { name, data: parsed, opts } = bullJob(job, data, options);
      await queue(job.queue as Q).add(name, parsed, opts);
    },
    async addBulk(job, jobs) {
      if (jobs.length === 0) return;
      await queue(job.queue as Q).addBulk(jobs.map(({ data, options }) => bullJob(job, data, options)));
    },
    count: (name) => queue(name).count(),
    queue,
    get queues() {
      return [...opened.values()];
    },
    async close() {
      await Promise.all(
        [...opened.values()].map((each) => each.close().catch(outages.listener('could not close a queue'))),
      );
    },
  };
}
