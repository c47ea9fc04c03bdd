import os from 'node:os';
import { z } from 'zod';
import { resultCallback, signCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase, withClient } from '../shared/database.js';
import { captureOutput, killChildrenOnExit, runToCompletion, stop } from '../shared/processes.js';
import { ROOT, startService, UNBOUND_RATE } from '../shared/service.js';
import {
  benchDatabaseName,
  commonSettings,
  DATABASE_POOL_SIZE,
  parseSettings,
  SMILE_CREDENTIALS,
} from '../shared/settings.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';

/**
 * `npm run bench:job-burst`: a burst of distinct signed callbacks for ONE job, all posted at once, against
 * the same burst spread over as many jobs (the baseline, measured in the same run, alternately). It shows
 * what same-job contention costs: the answers, how long the burst takes, and how many were merged. It
 * measures; it does not judge by exit code.
 */

const settingsSchema = z.object({
  ...commonSettings,
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_burst'),
  BENCH_BURST_SIZE: z.coerce.number().int().min(2).max(1000).default(60),
  BENCH_BURST_ROUNDS: z.coerce.number().int().min(1).max(100).default(5),
});

interface BurstFigures {
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  statuses: Record<number, number>;
  /** Events stored for the burst's jobs. */
  stored: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

/** Posts `size` distinct callbacks at once, for one job or for `size` jobs; each has its own timestamp. */
async function burst(
  url: string,
  databaseUrlOf: string,
  size: number,
  oneJob: boolean,
): Promise<BurstFigures> {
  const shared = simulatedJob();
  const jobs = Array.from({ length: size }, () => (oneJob ? shared : simulatedJob()));
  const bodies = jobs.map((job, index) =>
    JSON.stringify(
      signCallback(resultCallback(job, index === 0 ? 'approved' : 'provisional'), {
        ...SMILE_CREDENTIALS,
        timestamp: new Date(Date.now() - index * 1000).toISOString(),
      }),
    ),
  );
  const started = performance.now();
  const answers = await Promise.all(
    bodies.map(async (body) => {
      const sent = performance.now();
      const response = await fetch(`${url}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      return { status: response.status, ms: performance.now() - sent };
    }),
  );
  const wallMs = performance.now() - started;
  const latencies = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  const statuses: Record<number, number> = {};
  for (const { status } of answers) statuses[status] = (statuses[status] ?? 0) + 1;
  const stored = await withClient(databaseUrlOf, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM callback_events WHERE job_id = ANY($1)',
      [[...new Set(jobs.map((job) => job.jobId))]],
    );
    return rows[0]!.n;
  });
  return { wallMs, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), statuses, stored };
}

async function main() {
  killChildrenOnExit();
  const settings = parseSettings(settingsSchema, process.env);
  const size = settings.BENCH_BURST_SIZE;
  console.log(
    `job-burst bench: ${os.cpus().length} CPUs, node ${process.version}, ${settings.BENCH_BURST_ROUNDS} rounds ` +
      `of ${size} callbacks at once, pool ${DATABASE_POOL_SIZE}, database ${settings.BENCH_DATABASE} (recreated, dropped at the end)`,
  );
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }
  await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  let child: Awaited<ReturnType<typeof startService>>['child'] | undefined;
  let output = () => '';
  try {
    const service = await startService(
      { databaseUrl: url, redisUrl: settings.REDIS_URL },
      {
        ROLE: 'api',
        DATABASE_POOL_SIZE: String(DATABASE_POOL_SIZE),
        CALLBACK_RATE_LIMIT_PER_MINUTE: UNBOUND_RATE,
      },
      (spawned) => {
        output = captureOutput(spawned);
      },
    );
    child = service.child;
    const rows: string[][] = [];
    for (let round = 1; round <= settings.BENCH_BURST_ROUNDS; round += 1) {
      for (const oneJob of [false, true]) {
        const figures = await burst(service.url, url, size, oneJob);
        rows.push([
          String(round),
          oneJob ? `${size} for one job` : `${size} for ${size} jobs (baseline)`,
          number(figures.wallMs),
          number(figures.p50Ms, 1),
          number(figures.p99Ms, 1),
          Object.entries(figures.statuses)
            .map(([status, count]) => `${status}×${count}`)
            .join(' '),
          `${figures.stored}/${size}`,
        ]);
      }
    }
    console.log(
      `\n${alignedTable([['round', 'burst', 'all answered ms', 'p50 ms', 'p99 ms', 'answers', 'stored'], ...rows], 2)}`,
    );
    console.log(`\nload average ${os.loadavg()[0]!.toFixed(1)}; stored = events kept for the burst's jobs`);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- server output ---\n${output().slice(-1500)}`);
  } finally {
    if (child) await stop(child);
    await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
