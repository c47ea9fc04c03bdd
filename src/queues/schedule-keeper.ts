import type { Job, JobsOptions, Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Metrics } from '../observability/metrics.js';
import { createScheduleRuns, type ScheduleRuns } from './schedule-runs.js';
import { MIN_STALL_MS, redeclareStalled, sinceRunMs, stallAfterMs } from './schedule-stall.js';

/** A job the worker side runs on a schedule: a job scheduler named after the job, on the job's queue. */
export interface Schedule {
  queue: Pick<Queue, 'upsertJobScheduler' | 'getJobScheduler'>;
  name: string;
  every: number;
  /** The options of each run's job (the catalog entry's). */
  options?: JobsOptions;
}

/** How often each worker looks: a lost schedule is declared again well within a minute. */
export const SCHEDULE_CHECK_INTERVAL_MS = 15_000;

/** A worker, as far as the keeper hears of it: the runs it completes. */
type CompletingWorker = { on(event: 'completed', listener: (job: Job) => void): unknown };

const REASONS = ['missing', 'stalled'] as const;
type Reason = (typeof REASONS)[number];

/** What the keeper's steps share: its schedules and services, and what it has seen and done. */
interface Keeper {
  schedules: readonly Schedule[];
  redis: Redis;
  log: FastifyBaseLogger;
  metrics: Metrics | undefined;
  minStallMs: number;
  runs: ScheduleRuns;
  startedAt: number;
  /** When this worker last declared each schedule again. */
  redeclaredAt: Map<string, number>;
  /** Redis's `ready` listener: one function, so that closing removes it. */
  declareAll: () => void;
  timer: NodeJS.Timeout | undefined;
  checking: boolean;
  closed: boolean;
}

/**
 * Keeps the schedules declared, however they were lost. Redis holds a schedule only as long as it holds
 * its data: a FLUSHDB, an eviction or a failover to an empty replica removes it without a reconnect, and
 * nothing else would declare it again. So every worker looks on a timer of its own: a missing schedule is
 * declared again, and one that exists but has not completed a run in time (its next run lost alone) is
 * declared again too, at most once per stall (schedule-stall.ts). A stalled schedule fails its readiness
 * check, named after it.
 */
export function createScheduleKeeper({
  schedules,
  redis,
  prefix,
  log,
  metrics,
  checkIntervalMs = SCHEDULE_CHECK_INTERVAL_MS,
  minStallMs = MIN_STALL_MS,
}: {
  schedules: readonly Schedule[];
  /** The workers' connection: its `ready` declares every schedule at once. */
  redis: Redis;
  prefix: string;
  log: FastifyBaseLogger;
  metrics?: Metrics | undefined;
  checkIntervalMs?: number;
  minStallMs?: number;
}) {
  const keeper: Keeper = {
    schedules,
    redis,
    log,
    metrics,
    minStallMs,
    runs: createScheduleRuns({ redis, prefix }),
    startedAt: Date.now(),
    redeclaredAt: new Map(),
    declareAll: () => declareAll(keeper),
    timer: undefined,
    checking: false,
    closed: false,
  };
  exportStallLimits(keeper);
  return {
    start: () => start(keeper, checkIntervalMs),
    /** Records the completed runs of the schedules' jobs that `worker` takes. */
    watch: (worker: CompletingWorker) => watchRuns(keeper, worker),
    /** One look at every schedule; a look still waiting for Redis is not doubled. */
    check: () => check(keeper),
    /** One check per schedule, named after it: it fails while the schedule is stalled. */
    readinessChecks: readinessChecks(keeper),
    close: () => close(keeper),
  };
}

export type ScheduleKeeper = ReturnType<typeof createScheduleKeeper>;

const stallAfter = (keeper: Keeper, { every }: Schedule) => stallAfterMs(every, keeper.minStallMs);
const sinceRun = (keeper: Keeper, { name }: Schedule) =>
  sinceRunMs({ lastRunAt: keeper.runs.lastRun(name), startedAt: keeper.startedAt, now: Date.now() });
const stalled = (keeper: Keeper, schedule: Schedule) =>
  sinceRun(keeper, schedule) > stallAfter(keeper, schedule);

/** Each schedule's stall limit, and its redeclarations from 0, so that alerts see every series. */
function exportStallLimits(keeper: Keeper) {
  for (const schedule of keeper.schedules) {
    keeper.metrics?.scheduleStalledAfter.set(
      { schedule: schedule.name },
      stallAfter(keeper, schedule) / 1000,
    );
    for (const reason of REASONS)
      keeper.metrics?.schedulesRedeclared.inc({ schedule: schedule.name, reason }, 0);
  }
}

function start(keeper: Keeper, checkIntervalMs: number) {
  keeper.redis.on('ready', keeper.declareAll);
  if (keeper.redis.status === 'ready') keeper.declareAll();
  report(keeper);
  keeper.timer = setInterval(() => {
    report(keeper);
    void check(keeper);
  }, checkIntervalMs);
}

function watchRuns(keeper: Keeper, worker: CompletingWorker) {
  const names = new Set(keeper.schedules.map((schedule) => schedule.name));
  worker.on('completed', (job) => {
    if (job.repeatJobKey !== undefined && names.has(job.repeatJobKey)) keeper.runs.record(job.repeatJobKey);
  });
}

function close(keeper: Keeper) {
  keeper.closed = true;
  clearInterval(keeper.timer);
  keeper.redis.off('ready', keeper.declareAll);
}

const declare = ({ queue, name, every, options }: Schedule) =>
  queue.upsertJobScheduler(name, { every }, { name, data: {}, ...(options ? { opts: options } : {}) });

function declareAll(keeper: Keeper) {
  void Promise.all(keeper.schedules.map(declare)).catch((error: unknown) => {
    if (!keeper.closed) keeper.log.warn({ err: error }, 'could not declare the schedules; will retry');
  });
}

async function check(keeper: Keeper): Promise<void> {
  if (keeper.checking || keeper.closed) return;
  keeper.checking = true;
  try {
    await keeper.runs.refresh();
    for (const schedule of keeper.schedules) await keep(keeper, schedule);
  } catch (error) {
    if (!keeper.closed) keeper.log.warn({ err: error }, 'could not check the schedules; will retry');
  } finally {
    keeper.checking = false;
    report(keeper);
  }
}

/** Declares one schedule again if Redis has lost it, or if it is stalled and not declared again yet. */
async function keep(keeper: Keeper, schedule: Schedule) {
  if ((await schedule.queue.getJobScheduler(schedule.name)) === undefined) {
    return redeclare(keeper, schedule, 'missing');
  }
  const due = redeclareStalled({
    sinceRun: sinceRun(keeper, schedule),
    stallAfter: stallAfter(keeper, schedule),
    redeclaredAt: keeper.redeclaredAt.get(schedule.name),
    now: Date.now(),
  });
  if (due) await redeclare(keeper, schedule, 'stalled');
}

async function redeclare(keeper: Keeper, schedule: Schedule, reason: Reason) {
  await declare(schedule);
  keeper.redeclaredAt.set(schedule.name, Date.now());
  keeper.metrics?.schedulesRedeclared.inc({ schedule: schedule.name, reason });
  const secondsSinceRun = Math.round(sinceRun(keeper, schedule) / 1000);
  keeper.log.warn(
    { schedule: schedule.name, secondsSinceRun },
    reason === 'missing'
      ? 'a schedule was missing from Redis; declared it again'
      : 'a schedule has not run in time; declared it again',
  );
}

/** On every tick, even while a look waits for Redis: a stall must show while Redis is away too. */
function report(keeper: Keeper) {
  for (const schedule of keeper.schedules) {
    keeper.metrics?.scheduleSinceRun.set(
      { schedule: schedule.name },
      Math.round(sinceRun(keeper, schedule) / 1000),
    );
  }
}

function readinessChecks(keeper: Keeper): Record<string, () => Promise<void>> {
  return Object.fromEntries(
    keeper.schedules.map((schedule) => [
      schedule.name,
      async () => {
        if (stalled(keeper, schedule)) {
          throw new Error(
            `${schedule.name} has not run for ${Math.round(sinceRun(keeper, schedule) / 1000)} s`,
          );
        }
      },
    ]),
  );
}
