import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { resultCallback, signCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import {
  databaseUrl,
  dropBenchDatabase,
  recreateBenchDatabase,
  transactionCount,
} from '../shared/database.js';
import {
  cpuTimeMs,
  createProcessGroup,
  forkTypeScript,
  machineBusyMs,
  postgresCpuMs,
} from '../shared/processes.js';
import { deleteKeysWithPrefix } from '../shared/redis.js';
import { BENCH_API_TOKEN } from '../shared/requests.js';
import { ROOT, startBenchService } from '../shared/service.js';
import { SMILE_CREDENTIALS } from '../shared/settings.js';
import type { ConsumersReport, ConsumersRequest } from './protocol.js';
import type { FeedSettings } from './settings.js';

/** Figures of one phase: callbacks posted at the steady rate, and what the feed cost meanwhile. */
export interface FeedPhase {
  label: string;
  /** Each callback's time to its answer, in ms, sorted. */
  latenciesMs: number[];
  failures: number;
  seconds: number;
  feedReads: number;
  transactions: number;
  /** CPU time of the API process, and of the whole machine (every process, every CPU), over the phase. */
  apiCpuMs: number;
  /** The API's event loop delay over the phase, p99 (its /metrics resets it at every scrape). */
  apiLoopLagP99Ms: number;
  consumersCpuMs: number;
  postgresCpuMs: number;
  machineBusyMs: number;
}

export interface FeedRun {
  phases: FeedPhase[];
  consumers: ConsumersReport;
  /** Changes the consumers should each have been handed: the callbacks of the phases they followed. */
  changesFollowed: number;
}

/** A counter or gauge of the service's /metrics, summed over its series. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The feed's end now, as a consumer that caught up holds it. */
async function feedEnd(url: string): Promise<string> {
  let after = '';
  for (;;) {
    const response = await fetch(`${url}/v1/changes?limit=1000${after ? `&after=${after}` : ''}`, {
      headers: { authorization: `Bearer ${BENCH_API_TOKEN}` },
    });
    const page = (await response.json()) as { items: unknown[]; nextCursor: string };
    after = page.nextCursor;
    if (page.items.length < 1000) return after;
  }
}

/**
 * Posts `rate` signed result callbacks a second for `seconds`, each for a job of its own (a change each),
 * timing every answer.
 */
async function postCallbacks(url: string, label: string, rate: number, seconds: number) {
  const latenciesMs: number[] = [];
  let failures = 0;
  const startedAt = performance.now();
  const posts: Promise<void>[] = [];
  for (let index = 0; index < rate * seconds; index += 1) {
    await sleep(Math.max(0, startedAt + (index * 1000) / rate - performance.now()));
    const job = simulatedJob({ jobId: `${label}-${String(index).padStart(6, '0')}` });
    const body = JSON.stringify(signCallback(resultCallback(job, 'approved'), SMILE_CREDENTIALS));
    const sentAt = performance.now();
    posts.push(
      fetch(`${url}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
        .then(async (response) => {
          await response.text();
          if (response.status === 200) latenciesMs.push(performance.now() - sentAt);
          else failures += 1;
        })
        .catch(() => {
          failures += 1;
        }),
    );
  }
  await Promise.all(posts);
  return { latenciesMs: latenciesMs.sort((a, b) => a - b), failures };
}

/** A session of the server's `postgres` database holding a transaction open, with its id assigned. */
async function holdTransactionElsewhere(postgresUrl: string) {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT pg_current_xact_id()');
  return async () => {
    await client.query('COMMIT');
    await client.end();
  };
}

/**
 * One run from nothing: a fresh database, the service as one API process; callbacks at the steady rate
 * without consumers, then with the consumers waiting, then with them while a transaction stays open in
 * another database of the server. Everything is removed at the end.
 */
export async function runFeedBench(settings: FeedSettings): Promise<FeedRun> {
  const { BENCH_POSTGRES_URL: postgresUrl, BENCH_DATABASE: database, REDIS_URL: redisUrl } = settings;
  await recreateBenchDatabase(postgresUrl, database);
  const prefix = database;
  await deleteKeysWithPrefix(redisUrl, prefix);
  const target = { databaseUrl: databaseUrl(postgresUrl, database), redisUrl };
  const group = createProcessGroup();
  const rate = settings.BENCH_CHANGES_PER_SECOND;
  const seconds = settings.BENCH_PHASE_SECONDS;
  try {
    const api = await startBenchService(target, { ROLE: 'api', REDIS_PREFIX: prefix }, group.track);
    let consumersPid: number | undefined;
    const consumersCpu = () => (consumersPid === undefined ? 0 : cpuTimeMs(consumersPid));
    const phase = async (label: string) => {
      console.log(`  ${label}: ${rate} callbacks/s for ${seconds} s…`);
      const before = {
        reads: await metric(api.url, 'smileid_change_feed_reads_total'),
        transactions: await transactionCount(postgresUrl, database),
        apiCpuMs: cpuTimeMs(api.child.pid!),
        consumersCpuMs: consumersCpu(),
        postgresCpuMs: postgresCpuMs(),
        machineBusyMs: machineBusyMs(),
      };
      const startedAt = performance.now();
      const posted = await postCallbacks(api.url, label.replace(/\W+/g, '-'), rate, seconds);
      const elapsed = (performance.now() - startedAt) / 1000;
      group.assertAlive();
      return {
        label,
        ...posted,
        seconds: elapsed,
        apiLoopLagP99Ms: (await metric(api.url, 'smileid_process_nodejs_eventloop_lag_p99_seconds')) * 1000,
        feedReads: (await metric(api.url, 'smileid_change_feed_reads_total')) - before.reads,
        transactions: (await transactionCount(postgresUrl, database)) - before.transactions,
        apiCpuMs: cpuTimeMs(api.child.pid!) - before.apiCpuMs,
        consumersCpuMs: consumersCpu() - before.consumersCpuMs,
        postgresCpuMs: postgresCpuMs() - before.postgresCpuMs,
        machineBusyMs: machineBusyMs() - before.machineBusyMs,
      };
    };

    await postCallbacks(api.url, 'warm-up', rate, 3);
    const phases: FeedPhase[] = [await phase('no consumers')];

    const request: ConsumersRequest = {
      url: api.url,
      token: BENCH_API_TOKEN,
      consumers: settings.BENCH_CONSUMERS,
      after: await feedEnd(api.url),
      waitSeconds: 30,
    };
    const consumers = group.track(
      'consumers',
      forkTypeScript(path.join(ROOT, 'bench/feed/consumers.ts'), [JSON.stringify(request)]),
    );
    consumersPid = consumers.pid;
    os.setPriority(consumers.pid!, settings.BENCH_CONSUMERS_NICE);
    const deadline = Date.now() + 60_000;
    while ((await metric(api.url, 'smileid_change_feed_waiting_requests')) < settings.BENCH_CONSUMERS) {
      if (Date.now() > deadline) throw new Error('the consumers never all waited at once');
      group.assertAlive();
      await sleep(200);
    }
    // As for the first phase: the measured window starts once the consumers' paths are warm.
    const warmUp = await postCallbacks(api.url, 'warm-up-consumers', rate, 5);
    phases.push(await phase(`${settings.BENCH_CONSUMERS} consumers`));
    const release = await holdTransactionElsewhere(postgresUrl);
    try {
      phases.push(await phase(`${settings.BENCH_CONSUMERS} consumers, postgres held`));
    } finally {
      await release();
    }
    // The last changes reach every consumer within a second; then they stop and report.
    await sleep(2000);
    const reported = once(consumers, 'message') as Promise<[ConsumersReport]>;
    consumers.send('stop');
    const [report] = await reported;
    return {
      phases,
      consumers: report,
      changesFollowed:
        warmUp.latenciesMs.length + phases.slice(1).reduce((sum, p) => sum + p.latenciesMs.length, 0),
    };
  } catch (error) {
    throw group.explain(error);
  } finally {
    await group.stopAll();
    await deleteKeysWithPrefix(redisUrl, prefix);
    await dropBenchDatabase(postgresUrl, database);
  }
}
