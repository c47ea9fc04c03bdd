import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { databaseUrl, recreateBenchDatabase } from '../shared/database.js';
import { captureOutput, peakRssMb, stop } from '../shared/processes.js';
import { deleteKeysWithPrefix } from '../shared/redis.js';
import { type ServiceTarget, startBenchService, UNBOUND_RATE } from '../shared/service.js';
import { simulatorStats, startSimulator } from '../shared/simulator.js';
import { startCostMeter } from './costs.js';
import { figuresOf, type RunFigures } from './figures.js';
import { type BenchJob, POPULATIONS, type PopulationId } from './jobs.js';
import { registerInSimulator, seedService } from './seed.js';
import type { ReconcileSettings } from './settings.js';
import { checkSeeded, confirmedSoFar, holdBack, makeAllDue, waitUntilConfirmed } from './window.js';

/** Lets fresh workers declare their sweep schedule and open their blocking connections before the clock starts. */
const SETTLE_MS = 1000;

type Track = (name: string, child: ChildProcess) => ChildProcess;

/**
 * One measured run at one RECONCILE_CONCURRENCY, from nothing: a fresh database, simulator, Redis
 * prefix and worker processes, so no run inherits another's caches, rows or peak RSS.
 */
export async function measureRun(
  concurrency: number,
  jobs: readonly BenchJob[],
  settings: ReconcileSettings,
): Promise<RunFigures> {
  const { BENCH_POSTGRES_URL: postgresUrl, BENCH_DATABASE: database, REDIS_URL: redisUrl } = settings;
  await recreateBenchDatabase(postgresUrl, database);
  const target: ServiceTarget = { databaseUrl: databaseUrl(postgresUrl, database), redisUrl };
  // Named after the database, which no other run uses at the same time; cleared first, in case a run
  // interrupted by Ctrl-C left queued checks behind.
  const prefix = database;
  await deleteKeysWithPrefix(redisUrl, prefix);
  const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });
  const started: { name: string; child: ChildProcess; output: () => string }[] = [];
  const track: Track = (name, child) => {
    started.push({ name, child, output: captureOutput(child) });
    return child;
  };

  try {
    const simulator = await startSimulator(settings.BENCH_LATENCY_MS);
    track('simulator', simulator.child);
    await registerInSimulator(simulator.url, jobs);

    // Set-up, not measured: the API process migrates the database and writes the rows, then goes.
    const api = await startBenchService(target, { ROLE: 'api', REDIS_PREFIX: prefix }, track);
    await seedService(api.url, jobs);
    await stop(api.child);
    const expected = Object.fromEntries(
      POPULATIONS.map(({ id }) => [id, jobs.filter((job) => job.population === id).length]),
    ) as Record<PopulationId, number>;
    await checkSeeded(pool, expected);
    await holdBack(pool);

    const workerEnv = {
      ROLE: 'worker',
      REDIS_PREFIX: prefix,
      SMILE_API_BASE_URL: `${simulator.url}/v1`,
      SMILE_API_RATE_LIMIT_PER_SECOND: UNBOUND_RATE,
      RECONCILE_CONCURRENCY: String(concurrency),
      RECONCILE_SWEEP_INTERVAL_MS: '200',
    };
    const workers = await Promise.all(
      Array.from({ length: settings.BENCH_WORKERS }, () => startBenchService(target, workerEnv, track)),
    );
    await sleep(SETTLE_MS);

    const workerPids = workers.map((worker) => worker.child.pid!);
    const peaksBefore = workerPids.map(peakRssMb);
    const meter = await startCostMeter({
      workerPids,
      simulatorPid: simulator.child.pid!,
      redisUrl,
      postgresUrl,
      database,
    });
    const startedAt = new Date();
    await makeAllDue(pool, startedAt);
    const complete = await waitUntilConfirmed(pool, jobs.length, {
      timeoutMs: settings.BENCH_TIMEOUT_SECONDS * 1000,
      assertAlive: () => {
        const dead = started.find(({ name, child }) => name !== 'api' && child.exitCode !== null);
        if (dead) throw new Error(`${dead.name} exited with code ${dead.child.exitCode} during the window`);
      },
    });
    const endedAt = new Date();
    const { cpuMs, redis } = await meter.atEndOfWindow();
    const confirmed = await confirmedSoFar(pool);
    const stats = await simulatorStats(simulator.url);
    const peaks = workerPids.map(peakRssMb);
    await Promise.all(workers.map((worker) => stop(worker.child)));
    const postgresTransactions = await meter.transactions();

    return figuresOf({
      concurrency,
      workers: workers.length,
      jobs,
      window: { startedAt, endedAt, complete },
      confirmed,
      stats,
      peakRssMb: peaks,
      peakRssBeforeMb: peaksBefore,
      cpuMs,
      roundTrips: { ...redis, postgresTransactions },
    });
  } catch (error) {
    const outputs = started.map(({ name, output }) => `--- ${name} output ---\n${output() || '(none)'}`);
    throw new Error(
      `RECONCILE_CONCURRENCY=${concurrency}: ${(error as Error).message}\n${outputs.join('\n')}`,
    );
  } finally {
    for (const { child } of started.reverse()) await stop(child);
    await pool.end();
    await deleteKeysWithPrefix(redisUrl, prefix);
  }
}
