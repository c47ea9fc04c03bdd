import os from 'node:os';
import type { SimulatorStats } from '../shared/simulator.js';
import type { CpuMs, RoundTrips } from './costs.js';
import { type BenchJob, POPULATIONS, type PopulationId } from './jobs.js';
import type { Confirmed } from './window.js';

/** What one population (or all jobs) took to be confirmed. */
export interface PopulationFigures {
  title: string;
  jobs: number;
  confirmed: number;
  /** From the moment every job was due to its last confirmation (or to the timeout). */
  seconds: number;
  jobsPerSecond: number;
  /** job_status calls the simulator counted for these jobs. */
  calls: number;
  callsPerJob: number;
}

export interface RunFigures {
  concurrency: number;
  workers: number;
  /** False when the timeout came before every job was confirmed. */
  complete: boolean;
  populations: Record<PopulationId, PopulationFigures>;
  overall: PopulationFigures;
  /** VmHWM of each worker process, which started fresh for this run: at the end, and when the window opened. */
  peakRssMb: number[];
  peakRssBeforeMb: number[];
  /** CPU time over the window, per job: the workers, the simulator, every postgres and redis-server process. */
  cpuMsPerJob: Omit<CpuMs, 'machine'>;
  /**
   * CPUs kept busy on average over the window: by the processes above, and by the whole machine. The
   * difference is everything else (the bench itself, other users' work), which the figures suffered from.
   */
  busyCores: { measured: number; machine: number; available: number };
  /** Per job over the window: Redis Lua scripts and commands (server-wide), Postgres transactions (bench database). */
  roundTripsPerJob: RoundTrips;
  maxConcurrentPollsOfOneJob: number;
  maxConcurrentPolls: number;
  /** Calls naming a job the bench did not create: there should be none. */
  strayCalls: number;
}

export interface RunInputs {
  concurrency: number;
  workers: number;
  jobs: readonly BenchJob[];
  window: { startedAt: Date; endedAt: Date; complete: boolean };
  confirmed: Record<PopulationId, Confirmed>;
  stats: SimulatorStats;
  peakRssMb: number[];
  peakRssBeforeMb: number[];
  cpuMs: CpuMs;
  roundTrips: RoundTrips;
}

export function figuresOf(inputs: RunInputs): RunFigures {
  const { window, stats } = inputs;
  // A population's window ends at its last confirmation, as the worker wrote it; unfinished, at the timeout.
  const secondsUntil = (last: Date | null, complete: boolean) =>
    ((complete && last ? last : window.endedAt).getTime() - window.startedAt.getTime()) / 1000;
  const populationFigures = (title: string, jobs: readonly BenchJob[], confirmed: Confirmed) => {
    const calls = jobs.reduce((sum, { job }) => sum + (stats.callsPerJob[job.jobId] ?? 0), 0);
    const seconds = secondsUntil(confirmed.lastAt, confirmed.confirmed === jobs.length);
    return {
      title,
      jobs: jobs.length,
      confirmed: confirmed.confirmed,
      seconds,
      jobsPerSecond: confirmed.confirmed / seconds,
      calls,
      callsPerJob: calls / jobs.length,
    };
  };

  const populations = Object.fromEntries(
    POPULATIONS.map(({ id, title }) => [
      id,
      populationFigures(
        title,
        inputs.jobs.filter((job) => job.population === id),
        inputs.confirmed[id],
      ),
    ]),
  ) as Record<PopulationId, PopulationFigures>;
  const all = Object.values(inputs.confirmed);
  const latest = all
    .map((each) => each.lastAt)
    .reduce<Date | null>((max, at) => (at && (!max || at > max) ? at : max), null);
  const byJob = populationFigures('all jobs', inputs.jobs, {
    confirmed: all.reduce((sum, each) => sum + each.confirmed, 0),
    lastAt: latest,
  });
  // Every call the simulator answered, including any naming a job the bench never created.
  const overall = { ...byJob, calls: stats.totalCalls, callsPerJob: stats.totalCalls / byJob.jobs };
  const perJob = (ms: number) => ms / Math.max(1, overall.confirmed);
  const { workers, simulator, postgres, redis, machine } = inputs.cpuMs;
  const windowMs = window.endedAt.getTime() - window.startedAt.getTime();

  return {
    concurrency: inputs.concurrency,
    workers: inputs.workers,
    complete: window.complete,
    populations,
    overall,
    peakRssMb: inputs.peakRssMb,
    peakRssBeforeMb: inputs.peakRssBeforeMb,
    cpuMsPerJob: {
      workers: perJob(workers),
      simulator: perJob(simulator),
      postgres: perJob(postgres),
      redis: perJob(redis),
    },
    busyCores: {
      measured: (workers + simulator + postgres + redis) / windowMs,
      machine: machine / windowMs,
      available: os.cpus().length,
    },
    roundTripsPerJob: {
      redisScripts: perJob(inputs.roundTrips.redisScripts),
      redisCommands: perJob(inputs.roundTrips.redisCommands),
      postgresTransactions: perJob(inputs.roundTrips.postgresTransactions),
    },
    maxConcurrentPollsOfOneJob: stats.maxConcurrentForAnyJob,
    maxConcurrentPolls: stats.maxConcurrentOverall,
    strayCalls: stats.totalCalls - byJob.calls,
  };
}
