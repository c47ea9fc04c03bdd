import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { z } from 'zod';
import { createFieldCipher, parseKeyring } from '../../src/security/field-cipher.js';
import { createDatabase, postgresOutages } from '../../src/store/connections.js';
import { createJobQueries } from '../../src/store/jobs/job-queries.js';
import { decodeJob } from '../../src/store/jobs/job-table.js';
import { migrate } from '../../src/store/migrate.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase, withClient } from '../shared/database.js';
import {
  BENCH_DATA_ENCRYPTION_KEYS,
  benchDatabaseName,
  commonSettings,
  parseSettings,
} from '../shared/settings.js';

/**
 * `npm run bench:store-reads`: why the API's job read is hand-written SQL rather than a Prisma call. The
 * same read (one job by id, decoded into the same StoredJob) through the store's prepared statement and
 * through Prisma's `findUnique`, on the same pool, interleaved round by round; prints the ratio.
 */
const settings = parseSettings(
  z.object({
    ...commonSettings,
    BENCH_DATABASE: benchDatabaseName.default('smileid_bench_store'),
    BENCH_JOBS: z.coerce.number().int().positive().default(2000),
    BENCH_READS: z.coerce.number().int().positive().default(4000),
    BENCH_CONCURRENCY: z.coerce.number().int().positive().default(16),
    BENCH_ROUNDS: z.coerce.number().int().positive().default(5),
  }),
  process.env,
);

const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
await migrate(url, pino({ level: 'warn' }));
await withClient(url, (client) =>
  client.query(
    `INSERT INTO jobs (job_id, user_id, state, is_final, confirmed, result_code, result_text, actions, tracked,
                       created_at, updated_at)
     SELECT 'job-' || n, 'user-' || n, 'approved', true, true, '1012', 'Enroll User',
            '{"Liveness_Check": "Passed", "Verify_ID_Number": "Verified"}', true, now(), now()
       FROM generate_series(1, $1::int) AS n`,
    [settings.BENCH_JOBS],
  ),
);

const db = createDatabase({ url, poolSize: 10, timeoutMs: 5000, outages: postgresOutages(url, pino()) });
const cipher = createFieldCipher(parseKeyring([BENCH_DATA_ENCRYPTION_KEYS]));
const queries = createJobQueries({ pool: db.pool, cipher });
const readers = {
  'store statement': (jobId: string) => queries.read(jobId, { withIdInfo: false }),
  'Prisma findUnique': async (jobId: string) => {
    const row = await db.prisma.job.findUnique({ where: { jobId } });
    return row && decodeJob(row as unknown as Record<string, unknown>);
  },
};

/** Reads per second with BENCH_CONCURRENCY reads in flight. */
async function measure(read: (jobId: string) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: settings.BENCH_CONCURRENCY }, async () => {
      while (next < settings.BENCH_READS) {
        next += 1;
        await read(`job-${(next % settings.BENCH_JOBS) + 1}`);
      }
    }),
  );
  return settings.BENCH_READS / ((performance.now() - started) / 1000);
}

try {
  const rates: Record<string, number[]> = Object.fromEntries(Object.keys(readers).map((name) => [name, []]));
  for (const read of Object.values(readers)) await measure(read); // warm-up: plans, prepared statements
  for (let round = 0; round < settings.BENCH_ROUNDS; round += 1) {
    for (const [name, read] of Object.entries(readers)) rates[name]!.push(await measure(read));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const statement = median(rates['store statement']!);
  const prisma = median(rates['Prisma findUnique']!);
  console.log(
    `one job by id, ${settings.BENCH_CONCURRENCY} in flight, median of ${settings.BENCH_ROUNDS} rounds of ${settings.BENCH_READS}:`,
  );
  console.log(`  store statement    ${statement.toFixed(0).padStart(7)} reads/s`);
  console.log(
    `  Prisma findUnique  ${prisma.toFixed(0).padStart(7)} reads/s   (${(prisma / statement).toFixed(2)} of the statement)`,
  );
} finally {
  await db.close();
  await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
}
