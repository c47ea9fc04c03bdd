import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { ensureLocalBucket, localBucketEnv, localBucketSettings } from '../../src/local-s3/local-bucket.js';
import { startLocalS3 } from '../../src/local-s3/server.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { createFieldCipher, parseKeyring } from '../../src/security/field-cipher.js';
import { createServices } from '../../src/services.js';
import { settingsOf } from '../../src/settings.js';
import {
  idInfoCallback,
  resultCallback,
  signCallback,
  simulatedJob,
  smileSecureCallback,
} from '../../src/simulator/callbacks.js';
import { jobStatusAt } from '../../src/simulator/job-lives.js';
import { createDatabase, postgresOutages } from '../../src/store/connections.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { migrate } from '../../src/store/migrate.js';
import { createObjectStorage, objectStoreOf } from '../../src/store/objects/object-storage.js';
import { createObjectStore } from '../../src/store/objects/object-store.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase, withClient } from '../shared/database.js';
import { benchDatabaseName, commonSettings, parseSettings, SMILE_CREDENTIALS } from '../shared/settings.js';

/**
 * `npm run bench:storage`: what one realistic Biometric KYC job costs at rest — a provisional result, the
 * ID-information callback with a 1.4 MB photo, Smile Secure, the final result after review, and the two
 * job_status answers that confirm it (each carrying the photo in its history, as Smile ID's do) — in
 * Postgres and in the object store, with photos in the object store and, as the baseline measured in the
 * same run, with every body kept whole in Postgres (OBJECT_STORE_INLINE=true). Then the projection at
 * 10,000 jobs a day over the retention period. It measures; a missed goal still exits 0.
 */

const settingsSchema = z.object({
  ...commonSettings,
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_storage'),
  BENCH_JOBS: z.coerce.number().int().positive().default(100),
  /** Stored before measuring, so that tables and indexes are past their first pages, as in service. */
  BENCH_WARMUP_JOBS: z.coerce.number().int().nonnegative().default(20),
  BENCH_PHOTO_BYTES: z.coerce.number().int().positive().default(1_400_000),
  BENCH_JOBS_PER_DAY: z.coerce.number().int().positive().default(10_000),
});

const GOAL_POSTGRES_BYTES_PER_JOB = 24 * 1024;
const KiB = 1024;
const GB = 1e9;
const log = pino({ level: 'silent' });

type Settings = z.infer<typeof settingsSchema>;

/**
 * Every table, index and TOAST table of the database's own schema, in bytes: `at rest` after `VACUUM FULL`
 * (the live rows, as a backup, a restore or a new replica holds them, and what the tables settle at as
 * autovacuum's freed space is taken by new rows), `asWritten` after a plain `VACUUM` (the space the
 * versions a job's updates left behind still take, before new rows reuse it).
 */
async function postgresBytes(url: string, vacuum: 'VACUUM' | 'VACUUM FULL'): Promise<number> {
  return withClient(url, async (client) => {
    await client.query(vacuum);
    const { rows } = await client.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')`,
    );
    return Number(rows[0]!.bytes);
  });
}

/** Stores `count` realistic jobs through the service's own intake and reconcile flows. */
async function storeJobs(settings: Settings, env: Record<string, string>, url: string, count: number) {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    SMILE_PARTNER_ID: SMILE_CREDENTIALS.partnerId,
    SMILE_API_KEYS: SMILE_CREDENTIALS.apiKey,
    ...env,
  });
  const db = createDatabase({ url, poolSize: 4, timeoutMs: 30_000, outages: postgresOutages(url, pino()) });
  const cipher = createFieldCipher(parseKeyring(config.DATA_ENCRYPTION_KEYS));
  const storage = createObjectStorage({
    settings: objectStoreOf(config),
    cipher,
    pool: db.pool,
    log,
    orphanGraceMs: 3_600_000,
  });
  const services = createServices({ settings: settingsOf(config), db, cipher, vault: storage.vault });
  const check = createStatusCheck({
    store: createStatusStore({ pool: db.pool, cipher, vault: storage.vault }),
    client: { fetchStatus: async () => Promise.reject(new Error('answers are handed in')) },
    log,
    pollModel: { ...DEFAULT_POLL_MODEL, horizonMs: 7 * 86_400_000 },
    policy: config.DECISION_POLICY,
  });
  const sign = (body: Record<string, unknown>) =>
    Buffer.from(JSON.stringify(signCallback(body, SMILE_CREDENTIALS)));
  try {
    for (let index = 0; index < count; index += 1) {
      const job = simulatedJob({ jobId: `bench-${randomUUID()}` });
      const timing = { photoBytes: settings.BENCH_PHOTO_BYTES };
      for (const body of [
        resultCallback(job, 'provisional'),
        idInfoCallback(job, timing),
        smileSecureCallback(job),
        resultCallback(job, 'approved'),
      ]) {
        await services.intake!.receive({ raw: sign(body), sourceIp: '34.240.137.52', log });
      }
      for (const elapsedMs of [1000, 3_600_000]) {
        const body = { ...jobStatusAt('review', job, elapsedMs, timing), timestamp: 'ts', signature: 'sig' };
        const raw = Buffer.from(JSON.stringify(body));
        await check.apply(
          job.jobId,
          { kind: 'status', body, raw, timestamp: 'ts', signature: 'sig' },
          new Date(),
        );
      }
    }
  } finally {
    storage.close();
    await db.close();
  }
}

/** Every object under the bucket, in bytes. */
async function objectBytes(endpoint: string, bucket: string): Promise<number> {
  const objects = createObjectStore(localBucketSettings(endpoint, bucket));
  let total = 0;
  let after: string | undefined;
  for (;;) {
    const page = await objects.list(after, 1000);
    total += page.objects.reduce((sum, object) => sum + object.size, 0);
    after = page.objects.at(-1)?.key;
    if (!page.more) break;
  }
  objects.close();
  return total;
}

async function measure(settings: Settings, mode: 'object store' | 'inline', env: Record<string, string>) {
  const name = `${settings.BENCH_DATABASE}_${mode === 'inline' ? 'inline' : 'objects'}`;
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, name);
  await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, name);
  try {
    await migrate(url, log);
    await storeJobs(settings, env, url, settings.BENCH_WARMUP_JOBS);
    const before = await postgresBytes(url, 'VACUUM FULL');
    const started = performance.now();
    await storeJobs(settings, env, url, settings.BENCH_JOBS);
    const seconds = (performance.now() - started) / 1000;
    const perJob = (bytes: number) => (bytes - before) / settings.BENCH_JOBS;
    const asWritten = perJob(await postgresBytes(url, 'VACUUM'));
    return { postgres: perJob(await postgresBytes(url, 'VACUUM FULL')), asWritten, seconds };
  } finally {
    await dropBenchDatabase(settings.BENCH_POSTGRES_URL, name);
  }
}

const kib = (bytes: number) => `${(bytes / KiB).toFixed(1)} KiB`;

async function main() {
  const settings = parseSettings(settingsSchema, process.env);
  const retentionDays = loadConfig({}).RETENTION_DAYS;
  console.log(
    `storage bench: ${settings.BENCH_JOBS} jobs, each a provisional result, an ID callback with a ` +
      `${(settings.BENCH_PHOTO_BYTES / 1e6).toFixed(1)} MB photo, Smile Secure, the final result and two ` +
      'job_status answers (the photo in their history); Postgres measured as tables + indexes + TOAST at rest and as written',
  );
  const directory = await mkdtemp(path.join(os.tmpdir(), 'bench-storage-'));
  const server = await startLocalS3({ directory });
  const bucket = 'bench-photos';
  try {
    await ensureLocalBucket(server.url, bucket);

    const inline = await measure(settings, 'inline', { OBJECT_STORE_INLINE: 'true' });
    const objects = await measure(settings, 'object store', localBucketEnv(server.url, bucket));
    // The bucket holds the warm-up jobs' objects too.
    const bucketPerJob =
      (await objectBytes(server.url, bucket)) / (settings.BENCH_JOBS + settings.BENCH_WARMUP_JOBS);

    const perDay = settings.BENCH_JOBS_PER_DAY;
    const kept = perDay * retentionDays;
    console.log('\nper job              Postgres at rest   as written      object store   stored in');
    console.log(
      `  bodies whole       ${kib(inline.postgres).padEnd(18)} ${kib(inline.asWritten).padEnd(15)} ${'-'.padEnd(14)} ${inline.seconds.toFixed(1)} s`,
    );
    console.log(
      `  photos as objects  ${kib(objects.postgres).padEnd(18)} ${kib(objects.asWritten).padEnd(15)} ${kib(bucketPerJob).padEnd(14)} ${objects.seconds.toFixed(1)} s`,
    );
    console.log(
      '  (at rest: after VACUUM FULL, the live rows; as written: after VACUUM, with the space of the versions ' +
        'its updates replaced, which autovacuum frees and new rows reuse)',
    );
    console.log(
      `\nPostgres with photos as objects / with bodies whole: ${(objects.postgres / inline.postgres).toFixed(3)}`,
    );
    console.log(
      `goal ≤ 24 KiB per job in Postgres at rest: ${objects.postgres <= GOAL_POSTGRES_BYTES_PER_JOB ? 'holds' : 'MISSED'} (${kib(objects.postgres)})`,
    );
    console.log(
      `\nat ${perDay.toLocaleString('en')} jobs a day, kept ${retentionDays} days (RETENTION_DAYS):`,
    );
    const line = (label: string, bytes: number) =>
      console.log(
        `  ${label.padEnd(26)} ${((bytes * perDay) / GB).toFixed(2).padStart(8)} GB a day  ${((bytes * kept) / GB).toFixed(1).padStart(8)} GB in all`,
      );
    line('Postgres, bodies whole', inline.postgres);
    line('Postgres, photos outside', objects.postgres);
    line('object store', bucketPerJob);
  } finally {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
