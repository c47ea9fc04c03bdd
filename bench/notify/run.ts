import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase } from '../shared/database.js';
import type { LoadFigures } from '../shared/load-protocol.js';
import { cpuTimeMs, createProcessGroup, forkForReport, machineBusyMs } from '../shared/processes.js';
import { deleteKeysWithPrefix } from '../shared/redis.js';
import { ROOT, startBenchService, UNBOUND_RATE } from '../shared/service.js';
import { startSimulator } from '../shared/simulator.js';
import { driveChanges } from './drive.js';
import {
  deliveryOutcomes,
  expectedMessages,
  lastChangeId,
  moveEveryJob,
  progress,
  samplePayloads,
  waitForEndpoint,
} from './feed.js';
import type { PhaseWindow } from './figures.js';
import type { BaselineRequest } from './protocol.js';
import {
  type ReceiverArrivals,
  receiverArrivals,
  receiverStats,
  setOtherHanging,
  startReceiver,
} from './receiver-client.js';
import type { NotifySettings } from './settings.js';

/** Deliveries in flight per worker (NOTIFY_CONCURRENCY, the service's default); the baseline sends as many. */
export const DELIVERY_CONCURRENCY = 16;
const POLL_INTERVAL_MS = 100;

export interface NotifyRun {
  phases: PhaseWindow[];
  arrivals: ReceiverArrivals;
  baseline: LoadFigures;
  outcomes: Awaited<ReturnType<typeof deliveryOutcomes>>;
}

/**
 * One run from nothing: a fresh database and Redis prefix, the webhook receiver, the Smile ID simulator,
 * and the service as an API process and a worker process; all removed at the end. Steady phases at each
 * rate, then a burst; then, with the worker restarted to list a second endpoint too, two phases at one
 * rate, the second endpoint answering, then hanging; last, the receiver's own capacity as the baseline.
 */
export async function runNotifyBench(settings: NotifySettings): Promise<NotifyRun> {
  const { BENCH_POSTGRES_URL: postgresUrl, BENCH_DATABASE: database, REDIS_URL: redisUrl } = settings;
  await recreateBenchDatabase(postgresUrl, database);
  // Named after the database, which no other run uses at the same time.
  const prefix = database;
  await deleteKeysWithPrefix(redisUrl, prefix);
  const target = { databaseUrl: databaseUrl(postgresUrl, database), redisUrl };
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const group = createProcessGroup();
  const pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2 });

  try {
    const receiver = await startReceiver(secret);
    group.track('receiver', receiver.child);
    const simulator = await startSimulator(settings.BENCH_LATENCY_MS);
    group.track('simulator', simulator.child);
    const env = {
      REDIS_PREFIX: prefix,
      SMILE_API_BASE_URL: `${simulator.url}/v1`,
      SMILE_API_RATE_LIMIT_PER_SECOND: UNBOUND_RATE,
      NOTIFY_WEBHOOK_URLS: receiver.webhookUrl,
      NOTIFY_WEBHOOK_SECRETS: secret,
      NOTIFY_CONCURRENCY: String(DELIVERY_CONCURRENCY),
    };
    // One after the other: the first migrates the database.
    const api = await startBenchService(target, { ...env, ROLE: 'api' }, group.track);
    let worker = await startBenchService(target, { ...env, ROLE: 'worker' }, group.track);
    await waitForEndpoint(pool, receiver.webhookUrl);

    /** Waits until the feed's messages have all arrived and the phase's jobs are confirmed; false if it gave up. */
    const drain = async (jobPrefix: string) => {
      const deadline = Date.now() + settings.BENCH_DRAIN_SECONDS * 1000;
      while (Date.now() < deadline) {
        group.assertAlive();
        const [made, stats] = await Promise.all([progress(pool, jobPrefix), receiverStats(receiver.url)]);
        if (made.unconfirmed === 0 && stats.unique >= made.messages) return true;
        await sleep(POLL_INTERVAL_MS);
      }
      return false;
    };
    /** One phase: the changes `produce` makes (a burst says when it committed), until all are delivered. */
    const measurePhase = async (
      label: string,
      jobPrefix: string,
      produce: () => Promise<{ committedAt?: number }>,
      secondEndpoint?: PhaseWindow['secondEndpoint'],
    ): Promise<PhaseWindow> => {
      const afterId = await lastChangeId(pool);
      const before = { at: Date.now(), worker: cpuTimeMs(worker.child.pid!), machine: machineBusyMs() };
      const { committedAt } = await produce();
      const producingMs = committedAt === undefined ? Date.now() - before.at : 0;
      const drained = await drain(jobPrefix);
      const elapsedMs = Date.now() - before.at;
      return {
        label,
        expected: await expectedMessages(pool, afterId, await lastChangeId(pool)),
        producingMs,
        committedAt,
        drained,
        workerCpuMs: cpuTimeMs(worker.child.pid!) - before.worker,
        machineBusyShare: (machineBusyMs() - before.machine) / (elapsedMs * os.cpus().length),
        secondEndpoint,
      };
    };

    const targets = { apiUrl: api.url, simulatorUrl: simulator.url };
    const steady = (jobPrefix: string, rate: number) => async () => {
      await driveChanges(targets, {
        prefix: jobPrefix,
        changesPerSecond: rate,
        seconds: settings.BENCH_PHASE_SECONDS,
      });
      return {};
    };
    const phases: PhaseWindow[] = [];
    for (const rate of settings.BENCH_RATES) {
      console.log(`  ${rate} changes/s for ${settings.BENCH_PHASE_SECONDS} s…`);
      phases.push(await measurePhase(`${rate} changes/s`, `r${rate}`, steady(`r${rate}`, rate)));
    }
    console.log('  burst: every job changed in one transaction…');
    phases.push(await measurePhase('burst', 'burst', () => moveEveryJob(pool)));

    const hangRate = settings.BENCH_HANG_RATE;
    if (hangRate > 0) {
      console.log('  the worker restarted with a second endpoint listed after the first…');
      await group.retire(worker.child);
      worker = await startBenchService(
        target,
        {
          ...env,
          ROLE: 'worker',
          NOTIFY_WEBHOOK_URLS: `${receiver.webhookUrl},${receiver.otherWebhookUrl}`,
          NOTIFY_WEBHOOK_SECRETS: `${secret},${secret}`,
        },
        group.track,
      );
      await waitForEndpoint(pool, receiver.otherWebhookUrl);
      for (const state of ['answering', 'hanging'] as const) {
        await setOtherHanging(receiver.url, state === 'hanging');
        const label = `${hangRate} changes/s, 2nd endpoint ${state}`;
        console.log(`  ${label} for ${settings.BENCH_PHASE_SECONDS} s…`);
        const jobPrefix = state === 'hanging' ? 'hang' : 'twin';
        phases.push(await measurePhase(label, jobPrefix, steady(jobPrefix, hangRate), state));
      }
      // What it holds is cut off, so that the worker's shutdown need not wait for its timeouts.
      await setOtherHanging(receiver.url, false);
    }

    console.log(`  baseline: the receiver's capacity, ${DELIVERY_CONCURRENCY} connections…`);
    const request: BaselineRequest = {
      url: receiver.url,
      connections: DELIVERY_CONCURRENCY,
      durationSeconds: settings.BENCH_BASELINE_SECONDS,
      warmupSeconds: settings.BENCH_BASELINE_SECONDS / 2,
      secret,
      payloads: await samplePayloads(pool),
    };
    const baseline = await forkForReport<LoadFigures>(path.join(ROOT, 'bench/notify/baseline.ts'), request);
    return {
      phases,
      arrivals: await receiverArrivals(receiver.url),
      baseline,
      outcomes: await deliveryOutcomes(pool),
    };
  } catch (error) {
    throw group.explain(error);
  } finally {
    await group.stopAll();
    await pool.end();
    await deleteKeysWithPrefix(redisUrl, prefix);
    await dropBenchDatabase(postgresUrl, database);
  }
}
