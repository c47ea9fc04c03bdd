import type { Job, JobsOptions, Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Metrics } from '../observability/metrics.js';
import type { OutageReporter } from '../util/outages.js';
import { createScheduleRuns } from './schedule-runs.js';

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
/** A schedule that has not completed for this many of its intervals is stalled… */
const STALL_INTERVALS = 3;
/** …and for at least this long: one slow run of a sweep every 500 ms is not a stall. */
export const MIN_STALL_MS = 60_000;

const REASONS = ['missing', 'stalled'] as const;
type Reason = (typeof REASONS)[number];

/**
 * Keeps the schedules declared, however they were lost. Redis holds a schedule only as long as it holds
 * its data: a FLUSHDB, an eviction or a failover to an empty replica removes it without a reconnect, and
 * nothing else would declare it again. So every worker looks on a timer of its own: a missing schedule is
 * declared again, and one that exists but has not completed a run in time (its next run lost alone) is
 * declared again too, at most once per stall. A stalled schedule fails its readiness check, named after it.
 */
export function createScheduleKeeper({
  schedules,
  redis,
  prefix,
  log,
  outages,
  metrics,
  checkIntervalMs = SCHEDULE_CHECK_INTERVAL_MS,
  minStallMs = MIN_STALL_MS,
}: {
  schedules: readonly Schedule[];
  /** The workers' connection: its `ready` declares every schedule at once. */
  redis: Redis;
  prefix: string;
  log: FastifyBaseLogger;
  /** Says Redis being down when a run cannot be recorded. */
  outages: Pick<OutageReporter, 'reportIfUnreachable'>;
  metrics?: Metrics | undefined;
  checkIntervalMs?: number;
  minStallMs?: number;
}) {
  const runs = createScheduleRuns({ redis, prefix, outages, log });
  const names = new Set(schedules.map((schedule) => schedule.name));
  const startedAt = Date.now();
  const redeclaredAt = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  let closed = false;

  const stallAfterMs = ({ every }: Schedule) => Math.max(STALL_INTERVALS * every, minStallMs);
  /** Since the schedule last completed on any worker, or since this one started if that is later. */
  const sinceRunMs = ({ name }: Schedule) => Date.now() - Math.max(runs.lastRun(name) ?? 0, startedAt);
  const stalled = (schedule: Schedule) => sinceRunMs(schedule) > stallAfterMs(schedule);

  for (const schedule of schedules) {
    metrics?.scheduleStalledAfter.set({ schedule: schedule.name }, stallAfterMs(schedule) / 1000);
    for (const reason of REASONS) metrics?.schedulesRedeclared.inc({ schedule: schedule.name, reason }, 0);
  }

  const declare = ({ queue, name, every, options }: Schedule) =>
    queue.upsertJobScheduler(name, { every }, { name, data: {}, ...(options ? { opts: options } : {}) });

  function declareAll() {
    void Promise.all(schedules.map(declare)).catch((error: unknown) => {
      if (!closed) log.warn({ err: error }, 'could not declare the schedules; will retry');
    });
  }

  async function redeclare(schedule: Schedule, reason: Reason) {
    await declare(schedule);
    redeclaredAt.set(schedule.name, Date.now());
    metrics?.schedulesRedeclared.inc({ schedule: schedule.name, reason });
    const secondsSinceRun = Math.round(sinceRunMs(schedule) / 1000);
    log.warn(
      { schedule: schedule.name, secondsSinceRun },
      reason === 'missing'
        ? 'a schedule was missing from Redis; declared it again'
        : 'a schedule has not run in time; declared it again',
    );
  }

  async function keep(schedule: Schedule) {
    if ((await schedule.queue.getJobScheduler(schedule.name)) === undefined) {
      return redeclare(schedule, 'missing');
    }
    const since = Date.now() - (redeclaredAt.get(schedule.name) ?? 0);
    if (stalled(schedule) && since > stallAfterMs(schedule)) await redeclare(schedule, 'stalled');
  }

  /** One look at every schedule; a look still waiting for Redis is not doubled. */
  async function check(): Promise<void> {
    if (checking || closed) return;
    checking = true;
    try {
      await runs.refresh();
      for (const schedule of schedules) await keep(schedule);
    } catch (error) {
      if (!closed) log.warn({ err: error }, 'could not check the schedules; will retry');
    } finally {
      checking = false;
      report();
    }
  }

  /** On every tick, even while a look waits for Redis: a stall must show while Redis is away too. */
  function report() {
    for (const schedule of schedules) {
      metrics?.scheduleSinceRun.set({ schedule: schedule.name }, Math.round(sinceRunMs(schedule) / 1000));
    }
  }

  return {
    start() {
      redis.on('ready', declareAll);
      if (redis.status === 'ready') declareAll();
      report();
      timer = setInterval(() => {
        report();
        void check();
      }, checkIntervalMs);
    },
    /** Records the completed runs of the schedules' jobs that `worker` takes. */
    watch(worker: { on(event: 'completed', listener: (job: Job) => void): unknown }) {
      worker.on('completed', (job) => {
        if (job.repeatJobKey !== undefined && names.has(job.repeatJobKey)) void runs.record(job.repeatJobKey);
      });
    },
    check,
    /** One check per schedule, named after it: it fails while the schedule is stalled. */
    readinessChecks: Object.fromEntries(
      schedules.map((schedule) => [
        schedule.name,
        async () => {
          if (stalled(schedule)) {
            throw new Error(`${schedule.name} has not run for ${Math.round(sinceRunMs(schedule) / 1000)} s`);
          }
        },
      ]),
    ) as Record<string, () => Promise<void>>,
    close() {
      closed = true;
      clearInterval(timer);
      redis.off('ready', declareAll);
    },
  };
}

export type ScheduleKeeper = ReturnType<typeof createScheduleKeeper>;
