import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureLocalBucket, localBucketEnv } from '../../src/local-s3/local-bucket.js';
import { startLocalS3 } from '../../src/local-s3/server.js';
import {
  createBaselineTable,
  databaseUrl,
  dropBenchDatabase,
  recreateBenchDatabase,
  resetTables,
  storedCounts,
} from '../shared/database.js';
import { errorCount, type LoadReport, type LoadRequest } from '../shared/load-protocol.js';
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
import { ROOT, SERVICE_LOG_LEVEL, spawnService } from '../shared/service.js';
import { DATABASE_POOL_SIZE, SMILE_CREDENTIALS } from '../shared/settings.js';
import { runLine, type ScenarioResult, summary } from './report.js';
import { type RunFigures, SCENARIOS, type Scenario } from './scenarios.js';
import { type IntakeSettings, loadIntakeSettings } from './settings.js';

/**
 * `npm run bench:intake`: how fast the built service takes callbacks compared with a bare Fastify route
 * that only parses and INSERTs, on the same machine and Postgres; the service writes photos to the
 * S3-compatible store of development, started here. For every scenario, each server runs
 * in a fresh process (so its VmHWM is this run's peak) and is driven by a separate load-generator
 * process. It measures; it does not judge by exit code: missed targets still exit 0.
 */

type ServerName = 'baseline' | 'service';

const PHOTOS_BUCKET = 'bench-photos';

/**
 * The S3-compatible store `npm start` embeds (src/local-s3/), here in the bench's own process on a
 * temporary folder, so that the service's photos go where they would in development: over HTTP, to a
 * folder on this machine.
 */
async function startPhotoStore() {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'bench-intake-photos-'));
  const server = await startLocalS3({ directory });
  await ensureLocalBucket(server.url, PHOTOS_BUCKET);
  const env = localBucketEnv(server.url, PHOTOS_BUCKET);
  return {
    env,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

let photoStoreEnv: Record<string, string> = {};

function startServer(server: ServerName, port: number, settings: IntakeSettings) {
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  if (server === 'baseline') {
    return forkTypeScript(path.join(ROOT, 'bench/intake/baseline-server.ts'), [], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: url },
    });
  }
  return spawnService(
    { databaseUrl: url, redisUrl: settings.REDIS_URL },
    {
      DATABASE_POOL_SIZE: String(DATABASE_POOL_SIZE),
      ROLE: 'api',
      PORT: String(port),
      // High enough never to bind: the bench measures intake, not the limiter's refusals.
      CALLBACK_RATE_LIMIT_PER_MINUTE: '1000000000',
      ...photoStoreEnv,
    },
  );
}

const runLoad = (request: LoadRequest) =>
  forkForReport<LoadReport>(path.join(ROOT, 'bench/intake/load.ts'), request);

async function measure(
  server: ServerName,
  scenario: Scenario,
  settings: IntakeSettings,
): Promise<RunFigures> {
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  const port = await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const child = startServer(server, port, settings);
  const output = captureOutput(child);
  try {
    await waitUntilReady(serverUrl, child);
    await resetTables(url, server);
    const figures: RunFigures = await withServerCosts(child.pid!, () =>
      runLoad({
        url: serverUrl,
        kind: scenario.kind,
        connections: scenario.connections,
        durationSeconds: settings.BENCH_DURATION_SECONDS,
        warmupSeconds: settings.BENCH_WARMUP_SECONDS,
        ...SMILE_CREDENTIALS,
      }),
    );
    // Stopped before counting, so the requests still in flight when the load ended have committed.
    await stop(child);
    const stored = await storedCounts(url, server);
    console.log(runLine(server, figures));
    console.log(
      `  ${''.padEnd(9)} stored ${stored.events} bodies` +
        (stored.jobs === null ? '' : ` as ${stored.jobs} jobs (${stored.untrusted} untrusted)`) +
        ` for ${figures.completedWithWarmup} answers incl. warm-up; load average ${os.loadavg()[0]!.toFixed(1)}`,
    );
    // At LOG_LEVEL=warn the service prints only problems: show why requests failed.
    if (errorCount(figures) > 0 && output().trim() !== '') {
      console.log(`  ${''.padEnd(9)} last server output:\n${output().slice(-1500)}`);
    }
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
  const settings = loadIntakeSettings();
  console.log(
    `intake bench: ${os.cpus().length} CPUs, node ${process.version}, ` +
      `${settings.BENCH_WARMUP_SECONDS} s warm-up + ${settings.BENCH_DURATION_SECONDS} s per run, ` +
      `database ${settings.BENCH_DATABASE} (recreated, dropped at the end), service LOG_LEVEL=${SERVICE_LOG_LEVEL}, ROLE=api`,
  );
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }
  const photoStore = await startPhotoStore();
  photoStoreEnv = photoStore.env;
  await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  await createBaselineTable(databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE));

  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS.filter((each) => settings.BENCH_SCENARIOS.includes(each.id))) {
    console.log(`\n(${scenario.id}) ${scenario.title}`);
    const baseline = await measure('baseline', scenario, settings);
    const service = await measure('service', scenario, settings);
    results.push({ scenario, baseline, service });
  }
  // Kept when the bench fails, for a look; the next run drops it anyway.
  await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  await photoStore.close();
  console.log(`\n${summary(results)}`);
  console.log(
    '\nerrors = non-2xx + 2xx not `accepted`/`duplicate` + socket errors + timeouts; ' +
      'dup = answered `duplicate`; peak RSS = VmHWM of a fresh server process; CPU = the server process, ' +
      'PG CPU = all postgres processes, both over warm-up + window, per answer.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
