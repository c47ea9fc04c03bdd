import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase } from '../shared/database.js';
import { captureOutput, stop } from '../shared/processes.js';
import { deleteKeysWithPrefix } from '../shared/redis.js';
import { BENCH_API_TOKEN } from '../shared/requests.js';
import { startService } from '../shared/service.js';
import { simulatorStats, startSimulator } from '../shared/simulator.js';
import { type DriveReport, drive } from './drive.js';
import { type JobVerdict, judgeJobs } from './figures.js';
import type { PlannedJob } from './plan.js';
import { Sampler, type SamplerFigures } from './sampler.js';
import type { ConvergenceSettings } from './settings.js';
import { ShownHistory } from './views.js';

/** After the last forgery, how long every job must stay converged before the run may end early. */
const SETTLE_MS = 5000;
const PROGRESS_EVERY_MS = 10_000;

export interface ConvergenceRun {
  verdicts: JobVerdict[];
  drive: DriveReport;
  sampler: SamplerFigures;
  totalCalls: number;
  seconds: number;
  /** False when the deadline came before every job converged. */
  complete: boolean;
}

/**
 * One run from nothing: a fresh database and Redis prefix, the simulator as Smile ID, the service as
 * one process (ROLE=all) with its defaults, the Smile ID rate limit included; all removed at the end.
 */
export async function runConvergence(
  plan: readonly PlannedJob[],
  settings: ConvergenceSettings,
): Promise<ConvergenceRun> {
  const { BENCH_POSTGRES_URL: postgresUrl, BENCH_DATABASE: database, REDIS_URL: redisUrl } = settings;
  await recreateBenchDatabase(postgresUrl, database);
  // Named after the database, which no other run uses at the same time.
  const prefix = database;
  await deleteKeysWithPrefix(redisUrl, prefix);
  const started: { name: string; child: ChildProcess; output: () => string }[] = [];
  const track = (name: string) => (child: ChildProcess) => {
    started.push({ name, child, output: captureOutput(child) });
  };
  const assertAlive = () => {
    const dead = started.find(({ child }) => child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with code ${dead.child.exitCode} during the run`);
  };

  try {
    const simulator = await startSimulator(settings.BENCH_LATENCY_MS);
    track('simulator')(simulator.child);
    const target = { databaseUrl: databaseUrl(postgresUrl, database), redisUrl };
    const service = await startService(
      target,
      {
        ROLE: 'all',
        REDIS_PREFIX: prefix,
        SMILE_API_BASE_URL: `${simulator.url}/v1`,
        INTERNAL_API_TOKENS: BENCH_API_TOKEN,
        POLL_SILENT_FIRST_MS: String(settings.BENCH_POLL_SILENT_FIRST_MS),
        POLL_REVIEW_FIRST_MS: String(settings.BENCH_POLL_REVIEW_FIRST_MS),
        POLL_MAX_INTERVAL_MS: String(settings.BENCH_POLL_MAX_INTERVAL_MS),
      },
      track('service'),
    );

    const history = new ShownHistory();
    const finalAt = new Map<string, number>();
    const sampler = new Sampler(service.url, history);
    const startedAt = Date.now();
    sampler.start(startedAt);
    let driven: { report: DriveReport; endedAt: number } | undefined;
    let driveFailure: unknown;
    const driving = drive(plan, {
      serviceUrl: service.url,
      simulatorUrl: simulator.url,
      startedAt,
      onRegistered: (planned, at) => finalAt.set(planned.job.jobId, at),
    }).then(
      (report) => {
        driven = { report, endedAt: Date.now() };
      },
      (error: unknown) => {
        driveFailure = error;
      },
    );

    const converged = () =>
      plan.filter(({ job, truth }) => {
        const shown = history.latest(job.jobId);
        return shown?.state === truth && shown.isFinal && shown.confirmed;
      }).length;
    // Bounds the run even if the drive hangs: every job's life, delays and forgeries fit in two minutes.
    const lastArrival = startedAt + (plan.at(-1)?.arriveAtMs ?? 0);
    const cap = lastArrival + 120_000 + settings.BENCH_GRACE_SECONDS * 1000;
    let lastProgress = startedAt;
    let complete = false;
    for (;;) {
      assertAlive();
      sampler.assertSampling();
      if (driveFailure !== undefined) throw driveFailure;
      const now = Date.now();
      const done = converged();
      if (now - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now;
        const elapsed = Math.round((now - startedAt) / 1000);
        console.log(
          `  ${String(elapsed).padStart(5)} s: ${finalAt.size} of ${plan.length} started, ${done} converged`,
        );
      }
      if (driven) {
        complete = done === plan.length;
        if (complete && now >= driven.endedAt + SETTLE_MS) break;
        const lastFinal = Math.max(driven.endedAt, ...finalAt.values());
        if (now >= lastFinal + settings.BENCH_GRACE_SECONDS * 1000) break;
      }
      if (now >= cap) break;
      await sleep(1000);
    }

    // Past the cap, the deliveries and forgeries still under way end with their own timeouts.
    await driving;
    if (!driven) throw driveFailure;
    const samplerFigures = await sampler.stop();
    await sampler.sampleAll();
    const endedAt = Date.now();
    const stats = await simulatorStats(simulator.url);
    return {
      verdicts: judgeJobs(plan, finalAt, history, stats.callsPerJob, endedAt),
      drive: driven.report,
      sampler: samplerFigures,
      totalCalls: stats.totalCalls,
      seconds: (endedAt - startedAt) / 1000,
      complete,
    };
  } catch (error) {
    const outputs = started.map(({ name, output }) => `--- ${name} output ---\n${output() || '(none)'}`);
    throw new Error(`${(error as Error).message}\n${outputs.join('\n')}`);
  } finally {
    for (const { child } of started.reverse()) await stop(child);
    await deleteKeysWithPrefix(redisUrl, prefix);
    await dropBenchDatabase(postgresUrl, database);
  }
}
