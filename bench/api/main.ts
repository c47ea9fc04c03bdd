import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { cursorsOf } from '../../src/api/cursor.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase, withClient } from '../shared/database.js';
import {
  captureOutput,
  forkForReport,
  forkTypeScript,
  freePort,
  killChildrenOnExit,
  runToCompletion,
  stop,
  waitUntilReady,
  withServerCosts,
} from '../shared/processes.js';
import { deleteKeysWithPrefix } from '../shared/redis.js';
import { ROOT, SERVICE_LOG_LEVEL, spawnService } from '../shared/service.js';
import { BENCH_DATA_ENCRYPTION_KEYS, DATABASE_POOL_SIZE } from '../shared/settings.js';
import { type ApiRunFigures, type ApiScenarioResult, apiRunLine, apiSummary } from './report.js';
import {
  API_SCENARIOS,
  type ApiLoadRequest,
  type ApiScenario,
  BENCH_TOKENS,
  LIST_QUERY,
  type PathSource,
} from './scenarios.js';
import { seedJobs } from './seed.js';
import { type ApiBenchSettings, loadApiBenchSettings } from './settings.js';

/**
 * `npm run bench:api`: how fast the built service answers the internal API over 100,000 jobs, compared
 * with bare Fastify routes running the same SQL with `pg`, on the same machine and Postgres. Each server
 * runs in a fresh process per scenario and is driven by a separate load-generator process. It measures;
 * it does not judge by exit code: missed targets still exit 0.
 */

type ServerName = 'baseline' | 'service';

/** At most this many listing pages are drawn from, spread over the whole listing. */
const SAMPLED_PAGES = 400;

interface Run {
  settings: ApiBenchSettings;
  url: string;
  redisPrefix: string;
  cursors: string[];
}

function startServer(server: ServerName, port: number, run: Run) {
  if (server === 'baseline') {
    return forkTypeScript(path.join(ROOT, 'bench/api/baseline-server.ts'), [], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: run.url },
    });
  }
  return spawnService(
    { databaseUrl: run.url, redisUrl: run.settings.REDIS_URL },
    {
      ROLE: 'api',
      PORT: String(port),
      DATABASE_POOL_SIZE: String(DATABASE_POOL_SIZE),
      INTERNAL_API_TOKENS: BENCH_TOKENS.api,
      INTERNAL_PII_TOKENS: BENCH_TOKENS.pii,
      DATA_ENCRYPTION_KEYS: BENCH_DATA_ENCRYPTION_KEYS,
      REDIS_PREFIX: run.redisPrefix,
      // High enough never to bind: the limiter still counts every request in Redis, as in production.
      API_RATE_LIMIT_PER_MINUTE: '1000000000',
    },
  );
}

/** Cursors of pages spread over the list scenario's whole listing, as the service would issue them. */
async function listCursors(url: string): Promise<string[]> {
  const { rows } = await withClient(url, (client) =>
    client.query<{ seq: string }>(
      `SELECT seq::text AS seq FROM (
         SELECT seq, row_number() OVER (ORDER BY seq) AS position
           FROM jobs WHERE state = 'approved' AND is_final) AS listing
        WHERE position % 50 = 0 ORDER BY seq`,
    ),
  );
  const step = Math.max(1, Math.floor(rows.length / SAMPLED_PAGES));
  const cursors = cursorsOf([BENCH_DATA_ENCRYPTION_KEYS]);
  return rows.filter((_, index) => index % step === 0).map((row) => cursors.encode('jobs', { seq: row.seq }));
}

/** The run with the median throughput: one real run's figures, not a mix of several. */
function medianRun(runs: ApiRunFigures[]): ApiRunFigures {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function pathsOf(scenario: ApiScenario, run: Run): PathSource {
  if (scenario.id === 'list') return { kind: 'list', query: LIST_QUERY, cursors: run.cursors };
  const withIdInfo = scenario.id === 'idinfo';
  return {
    kind: 'job',
    jobs: run.settings.BENCH_JOBS,
    withIdInfo,
    query: withIdInfo ? 'include=idInfo' : '',
  };
}

async function measure(server: ServerName, scenario: ApiScenario, run: Run): Promise<ApiRunFigures> {
  const port = await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const child = startServer(server, port, run);
  const output = captureOutput(child);
  try {
    await waitUntilReady(serverUrl, child);
    const request: ApiLoadRequest = {
      url: serverUrl,
      connections: scenario.connections,
      durationSeconds: run.settings.BENCH_DURATION_SECONDS,
      warmupSeconds: run.settings.BENCH_WARMUP_SECONDS,
      token: BENCH_TOKENS[scenario.token],
      paths: pathsOf(scenario, run),
      // The baseline sends rows as they are: any 2xx is its answer.
      expect: server === 'baseline' ? '' : scenario.expect,
    };
    const figures = await withServerCosts(child.pid!, () =>
      forkForReport<ApiRunFigures>(path.join(ROOT, 'bench/api/load.ts'), request),
    );
    console.log(apiRunLine(server, figures));
    console.log(`  ${''.padEnd(9)} load average ${os.loadavg()[0]!.toFixed(1)}`);
    return figures;
  } catch (error) {
    throw new Error(
      `${server}, scenario (${scenario.id}): ${(error as Error).message}\n--- server output ---\n${output()}`,
    );
  } finally {
    await stop(child);
  }
}

async function main() {
  killChildrenOnExit();
  const settings = loadApiBenchSettings();
  console.log(
    `API bench: ${os.cpus().length} CPUs, node ${process.version}, ${settings.BENCH_JOBS} jobs, ` +
      `${settings.BENCH_WARMUP_SECONDS} s warm-up + ${settings.BENCH_DURATION_SECONDS} s per run, ` +
      `${settings.BENCH_ROUNDS} rounds (median shown), ` +
      `database ${settings.BENCH_DATABASE} (recreated, dropped at the end), service LOG_LEVEL=${SERVICE_LOG_LEVEL}, ROLE=api`,
  );
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }
  await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  const seeded = await seedJobs(url, settings.BENCH_JOBS);
  console.log(
    `seeded ${settings.BENCH_JOBS} jobs (${seeded.withIdInfo} with identity data) in ${seeded.seconds.toFixed(1)} s`,
  );
  const run: Run = {
    settings,
    url,
    redisPrefix: `bench-api-${randomBytes(4).toString('hex')}`,
    cursors: await listCursors(url),
  };

  const results: ApiScenarioResult[] = [];
  for (const scenario of API_SCENARIOS.filter((each) => settings.BENCH_SCENARIOS.includes(each.id))) {
    console.log(`\n(${scenario.id}) ${scenario.title}`);
    const baselines: ApiRunFigures[] = [];
    const services: ApiRunFigures[] = [];
    for (let round = 0; round < settings.BENCH_ROUNDS; round += 1) {
      if (scenario.reference === 'baseline') baselines.push(await measure('baseline', scenario, run));
      services.push(await measure('service', scenario, run));
    }
    results.push({
      scenario,
      baseline: baselines.length > 0 ? medianRun(baselines) : undefined,
      service: medianRun(services),
    });
  }
  // Kept when the bench fails, for a look; the next run drops it anyway.
  await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  await deleteKeysWithPrefix(settings.REDIS_URL, run.redisPrefix);
  console.log(`\n${apiSummary(results)}`);
  console.log(
    '\nerrors = non-2xx + 2xx without the expected answer + socket errors + timeouts; peak RSS = VmHWM of a ' +
      'fresh server process; CPU = the server process, PG CPU = all postgres processes, both over warm-up + ' +
      'window, per answer. The service also counts every request in Redis (rate limit); the baseline does not.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
