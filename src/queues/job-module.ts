import { type CatalogEntry, catalog, type Handler, type QueueName } from './catalog.js';

/** How a queue's worker takes its jobs (BullMQ's worker options). */
export interface WorkerSettings {
  /** Jobs in flight at once in this process. */
  concurrency: number;
  /** At most `max` jobs per `duration` ms, across every worker process (kept in Redis). */
  limiter?: { max: number; duration: number };
  /** BullMQ's lock on a job in flight, renewed at half this while its worker lives. */
  lockDuration?: number;
  /** How often a lapsed lock is looked for. */
  stalledInterval?: number;
}

export type Handlers = { [E in CatalogEntry]?: Handler<E> };

/**
 * A feature's queued work, declared in one place (its folder's jobs.ts): the queues it owns and how
 * they are worked, a handler for each catalog entry it runs (on its entry's queue, whichever module
 * owns it: a sweep runs on the maintenance queue), and the entries it runs on a schedule.
 */
export interface JobModule {
  /** Names the module in errors about the declarations. */
  feature: string;
  queues?: { [Q in QueueName]?: WorkerSettings };
  handlers: Handlers;
  /** Each runs every `every` ms, on every worker process's schedule (queues/schedule-keeper.ts). */
  schedules?: { [E in CatalogEntry]?: { every: number } };
}

/** One queue to work: its settings and the handlers of every entry on it. */
export interface QueuePlan {
  name: QueueName;
  settings: WorkerSettings;
  handlers: Handlers;
}

/**
 * The worker processes' plan, from the modules: a worker per queue a module owns, each with a handler
 * for every entry of its queue, and the schedules. Declarations that cannot run as written (a queue
 * owned twice, a handler for a queue no module owns, an entry of an owned queue without a handler, a
 * schedule of an entry no module handles) stop the process at start, naming what is wrong.
 */
export function planWorkers(modules: readonly JobModule[]): {
  queues: QueuePlan[];
  schedules: Array<{ entry: CatalogEntry; every: number }>;
} {
  const owners = new Map<QueueName, string>();
  const queues = new Map<QueueName, QueuePlan>();
  for (const module of modules) {
    for (const [name, settings] of Object.entries(module.queues ?? {}) as [QueueName, WorkerSettings][]) {
      const owner = owners.get(name);
      if (owner !== undefined)
        throw new Error(`queue ${name} is declared by both ${owner} and ${module.feature}`);
      owners.set(name, module.feature);
      queues.set(name, { name, settings, handlers: {} });
    }
  }

  const handledBy = new Map<CatalogEntry, string>();
  for (const module of modules) {
    for (const [entry, handler] of Object.entries(module.handlers) as [
      CatalogEntry,
      Handler<CatalogEntry>,
    ][]) {
      const queue = queues.get(catalog[entry].queue);
      if (!queue) {
        throw new Error(
          `${module.feature} handles ${entry}, but no module declares its queue ${catalog[entry].queue}`,
        );
      }
      const other = handledBy.get(entry);
      if (other !== undefined) throw new Error(`${entry} is handled by both ${other} and ${module.feature}`);
      handledBy.set(entry, module.feature);
      (queue.handlers as Record<string, unknown>)[entry] = handler;
    }
  }

  for (const entry of Object.keys(catalog) as CatalogEntry[]) {
    const queue = catalog[entry].queue;
    if (queues.has(queue) && !handledBy.has(entry)) {
      throw new Error(
        `${entry} runs on ${queue}, which ${owners.get(queue)} declares, but no module handles it`,
      );
    }
  }

  const schedules = modules.flatMap((module) =>
    (Object.entries(module.schedules ?? {}) as [CatalogEntry, { every: number }][]).map(
      ([entry, { every }]) => {
        if (!handledBy.has(entry))
          throw new Error(`${module.feature} schedules ${entry}, which no module handles`);
        return { entry, every };
      },
    ),
  );
  return { queues: [...queues.values()], schedules };
}
