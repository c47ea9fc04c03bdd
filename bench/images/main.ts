import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import { z } from 'zod';
import { jpegOfSize } from '../../scripts/sized-jpegs.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDependencies } from '../../src/deps.js';
import { decodeImages } from '../../src/domain/submission.js';
import { migrate } from '../../src/store/migrate.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase } from '../shared/database.js';
import { benchDatabaseName, commonSettings, parseSettings } from '../shared/settings.js';
import { alignedTable, formatNumber } from '../shared/table.js';

/**
 * `npm run bench:images`: what checking a submission's images costs, per image, beside decoding the
 * same base64 with `Buffer.from` (the least any check must do) measured in the same run, and beside a
 * strict base64 regular expression, the usual way and the one that fails on images this size. Then
 * the whole `POST /v1/submissions` of a 4 MiB image through the service in this process (ROLE=api, its
 * real Postgres), with the longest event-loop delay while it runs, beside the same request with a
 * 4 KB image. It measures; it does not judge by exit code.
 */

const settingsSchema = z.object({
  BENCH_POSTGRES_URL: commonSettings.BENCH_POSTGRES_URL,
  REDIS_URL: commonSettings.REDIS_URL,
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_images'),
  BENCH_REPEATS: z.coerce.number().int().min(1).max(100).default(15),
  /** `0` measures the checks alone, without Postgres. */
  BENCH_REQUESTS: z.enum(['0', '1']).default('1'),
});

const MIB = 1024 * 1024;
const LIMIT = 4 * MIB;
/** Strict base64 as a pattern: linear in theory, but each repetition costs a stack frame in V8. */
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RESOLUTION_MS = 10;
const API_TOKEN = 'bench-images-token';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median and longest time of `work` over the repeats, or the error it throws. */
function timed(repeats: number, work: () => unknown): { medianMs: number; maxMs: number } | string {
  const times: number[] = [];
  for (let round = 0; round < repeats; round += 1) {
    const started = performance.now();
    try {
      work();
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
    times.push(performance.now() - started);
  }
  return { medianMs: median(times), maxMs: Math.max(...times) };
}

function checkRows(repeats: number) {
  const table = [['image', 'check', 'median ms', 'max ms', '× decode']];
  for (const bytes of [MIB, 3_000_000, Math.round(3.2 * MIB), 3_800_000, LIMIT]) {
    const base64 = jpegOfSize(bytes).toString('base64');
    const label = `${formatNumber(bytes)} B (${formatNumber(base64.length)} chars)`;
    const rows: [string, () => unknown][] = [
      ['Buffer.from(base64) alone (baseline)', () => Buffer.from(base64, 'base64')],
      [
        'decodeImages: size, strict base64, JPEG structure',
        () => decodeImages([{ type: 'selfie', jpegBase64: base64 }], { maxImageBytes: LIMIT }),
      ],
      ['strict base64 regular expression', () => BASE64_PATTERN.test(base64)],
    ];
    let baselineMs = 0;
    for (const [check, work] of rows) {
      timed(2, work); // compiled and warm before it is measured
      const figures = timed(repeats, work);
      if (typeof figures === 'string') {
        table.push([label, check, figures.slice(0, 60), '', '']);
        continue;
      }
      if (baselineMs === 0) baselineMs = figures.medianMs;
      table.push([
        label,
        check,
        formatNumber(figures.medianMs, 2),
        formatNumber(figures.maxMs, 2),
        formatNumber(figures.medianMs / baselineMs, 1),
      ]);
    }
  }
  return table;
}

async function requestRows(settings: z.infer<typeof settingsSchema>) {
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  const logger = pino({ level: 'error' });
  await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  await migrate(url, logger);
  const config = loadConfig({
    NODE_ENV: 'development',
    ROLE: 'api',
    LOG_LEVEL: 'error',
    DATABASE_URL: url,
    REDIS_URL: settings.REDIS_URL,
    REDIS_PREFIX: `bench-images-${randomBytes(4).toString('hex')}`,
    INTERNAL_API_TOKENS: API_TOKEN,
    API_RATE_LIMIT_PER_MINUTE: '1000000000',
  });
  const deps = createDependencies(config, logger);
  const app = await buildApp({ config, logger, ...deps.forApp });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const table = [['request', 'answers', 'loop max ms', 'request ms', '× baseline']];
  try {
    let baselineMs = 0;
    for (const [name, jpeg] of [
      ['4 KB selfie (baseline)', jpegOfSize(4096)],
      ['4 MiB selfie, at the limit', jpegOfSize(LIMIT)],
      ['4 MiB + 1 selfie, refused', jpegOfSize(LIMIT + 1)],
    ] as const) {
      const figures = await measureRequests(baseUrl, jpeg, settings.BENCH_REPEATS);
      if (baselineMs === 0) baselineMs = figures.maxMs;
      table.push([
        name,
        [...figures.answers].map(([answer, count]) => `${count}× ${answer}`).join(', '),
        formatNumber(figures.maxMs, 1),
        formatNumber(figures.meanRequestMs, 1),
        formatNumber(figures.maxMs / baselineMs, 1),
      ]);
    }
  } finally {
    await app.close();
    await deps.close();
    await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  }
  return table;
}

/** Each request a job of its own; the event loop sampled while each is in flight. */
async function measureRequests(baseUrl: string, jpeg: Buffer, repeats: number) {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const answers = new Map<string, number>();
  const jpegBase64 = jpeg.toString('base64');
  let requestMs = 0;
  for (let round = 0; round < repeats; round += 1) {
    const body = JSON.stringify({
      userId: `bench-${round}`,
      jobType: 1,
      idInfo: { country: 'NG', idType: 'NIN', idNumber: '00000000000' },
      images: [{ type: 'selfie', jpegBase64 }],
    });
    histogram.enable();
    const started = performance.now();
    const response = await fetch(`${baseUrl}/v1/submissions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    requestMs += performance.now() - started;
    await delay(3 * RESOLUTION_MS);
    histogram.disable();
    const code = response.ok ? '' : ` ${(JSON.parse(text) as { error?: { code?: string } }).error?.code}`;
    const answer = `${response.status}${code}`;
    answers.set(answer, (answers.get(answer) ?? 0) + 1);
  }
  return { answers, maxMs: histogram.max / 1e6, meanRequestMs: requestMs / repeats };
}

async function main() {
  const settings = parseSettings(settingsSchema, process.env);
  console.log(
    `images bench: ${os.cpus().length} CPUs, node ${process.version}, ${settings.BENCH_REPEATS} repeats per row`,
  );
  console.log(`\n${alignedTable(checkRows(settings.BENCH_REPEATS), 2)}`);
  console.log(
    '\n× decode = median over the median of decoding the same base64 with Buffer.from, in the same run. ' +
      'Each check runs on the event loop: its time is the time the loop is held.',
  );
  if (settings.BENCH_REQUESTS === '0') return;
  console.log(`\n${alignedTable(await requestRows(settings), 2)}`);
  console.log(
    `\nloop max = longest event-loop delay sampled while the row's requests were in flight ` +
      `(monitorEventLoopDelay, ${RESOLUTION_MS} ms resolution, included); request ms = mean time to the answer, ` +
      `this process being client and server (database ${settings.BENCH_DATABASE}, recreated and dropped).`,
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
