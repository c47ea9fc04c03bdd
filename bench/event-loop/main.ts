import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pino } from 'pino';
import { z } from 'zod';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDependencies } from '../../src/deps.js';
import { idInfoCallback, openingMembers, simulatedJob } from '../../src/simulator/callbacks.js';
import { HOSTILE_SHAPES } from '../../src/simulator/hostile-shapes.js';
import { migrate } from '../../src/store/migrate.js';
import { databaseUrl, dropBenchDatabase, recreateBenchDatabase } from '../shared/database.js';
import { benchDatabaseName, commonSettings, parseSettings, SMILE_CREDENTIALS } from '../shared/settings.js';
import { alignedTable, formatNumber } from '../shared/table.js';

/**
 * `npm run bench:event-loop`: how long the service's event loop stays blocked while it answers the
 * costliest callback bodies we know (src/simulator/hostile-shapes.ts), each signed fresh, signed
 * stale and unsigned, beside an ordinary 1.5 MB ID-information callback measured in the same run. The
 * service runs in this process (ROLE=api, its real dependencies), so `monitorEventLoopDelay` samples
 * exactly the loop that parses, verifies, classifies and stores. Bounded: BENCH_REPEATS requests per
 * row, and no new request after BENCH_MAX_SECONDS. It measures; it does not judge by exit code.
 */

const settingsSchema = z.object({
  BENCH_POSTGRES_URL: commonSettings.BENCH_POSTGRES_URL,
  REDIS_URL: commonSettings.REDIS_URL,
  BENCH_DATABASE: benchDatabaseName.default('smileid_bench_event_loop'),
  BENCH_REPEATS: z.coerce.number().int().min(1).max(50).default(5),
  BENCH_MAX_SECONDS: z.coerce.number().positive().default(300),
});

/** The sampler's interval: every figure includes it (an idle loop reads ~10 ms). */
const RESOLUTION_MS = 10;
/** A request that takes longer is reported as such, not waited for. */
const REQUEST_TIMEOUT_MS = 180_000;
const STALE_TIMESTAMP = '2023-02-14T00:07:49.924Z';

/**
 * This process is also the client: building a body of a million array items leaves garbage whose
 * collection would otherwise land in the next measurement. Bodies are built first, then collected.
 */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

type Variant = 'fresh' | 'stale' | 'unsigned';

interface Row {
  body: string;
  variant: Variant;
  build: (lead: string, maxBytes: number) => string;
}

interface Figures {
  answers: Map<string, number>;
  maxMs: number;
  p99Ms: number;
  meanRequestMs: number;
  requests: number;
}

function leadFor(variant: Variant): string {
  if (variant === 'unsigned') return openingMembers();
  return openingMembers({
    ...SMILE_CREDENTIALS,
    timestamp: variant === 'stale' ? STALE_TIMESTAMP : undefined,
  });
}

/** An ordinary ID-information callback with a 1.4 MB photo, as Smile ID sends it. */
function ordinaryBody(lead: string): string {
  const text = JSON.stringify(idInfoCallback(simulatedJob(), { photoBytes: 1_400_000 }));
  return `{${lead}${text.slice(1)}`;
}

async function measureRow(url: string, row: Row, maxBytes: number, repeats: number, deadline: number) {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const answers = new Map<string, number>();
  let requestMs = 0;
  let requests = 0;
  const bodies = Array.from({ length: repeats }, () =>
    Buffer.from(row.build(leadFor(row.variant), maxBytes)),
  );
  collectGarbage();
  for (const raw of bodies) {
    if (performance.now() >= deadline) break;
    histogram.enable();
    const started = performance.now();
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
      .then(async (response) => {
        const text = await response.text();
        const code = response.ok ? '' : ` ${(JSON.parse(text) as { error?: { code?: string } }).error?.code}`;
        return `${response.status}${code}`;
      })
      .catch((error: unknown) => `no answer (${(error as Error).name})`);
    requestMs += performance.now() - started;
    // A block is recorded when the sampler's next timer fires.
    await delay(3 * RESOLUTION_MS);
    histogram.disable();
    answers.set(answer, (answers.get(answer) ?? 0) + 1);
    requests += 1;
  }
  return {
    answers,
    maxMs: histogram.max / 1e6,
    p99Ms: histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0,
    meanRequestMs: requests > 0 ? requestMs / requests : 0,
    requests,
  } satisfies Figures;
}

async function main() {
  const settings = parseSettings(settingsSchema, process.env);
  const url = databaseUrl(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  // Error: the unsigned rows would otherwise print a warning per request.
  const logger = pino({ level: 'error' });
  await recreateBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  await migrate(url, logger);
  const config = loadConfig({
    NODE_ENV: 'development',
    ROLE: 'api',
    LOG_LEVEL: 'error',
    DATABASE_URL: url,
    REDIS_URL: settings.REDIS_URL,
    REDIS_PREFIX: `bench-event-loop-${randomBytes(4).toString('hex')}`,
    SMILE_PARTNER_ID: SMILE_CREDENTIALS.partnerId,
    SMILE_API_KEYS: SMILE_CREDENTIALS.apiKey,
    // High enough never to bind: every body must reach the parser.
    CALLBACK_RATE_LIMIT_PER_MINUTE: '1000000000',
  });
  const deps = createDependencies(config, logger);
  const app = await buildApp({ config, logger, ...deps.forApp });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const maxBytes = config.CALLBACK_MAX_BYTES;
  console.log(
    `event-loop bench: ${os.cpus().length} CPUs, node ${process.version}, bodies up to ${formatNumber(maxBytes)} bytes, ` +
      `${settings.BENCH_REPEATS} requests per row, sampler resolution ${RESOLUTION_MS} ms, ` +
      `database ${settings.BENCH_DATABASE} (recreated, dropped at the end)`,
  );

  const variants: Variant[] = ['fresh', 'stale', 'unsigned'];
  const rows: Row[] = [
    { body: 'baseline: ordinary ID-information callback, 1.5 MB', variant: 'fresh', build: ordinaryBody },
    ...HOSTILE_SHAPES.flatMap((shape) =>
      variants.map((variant) => ({ body: shape.name, variant, build: shape.build })),
    ),
  ];
  const deadline = performance.now() + settings.BENCH_MAX_SECONDS * 1000;
  const table = [['body', 'signed', 'answers', 'max ms', 'p99 ms', '× baseline', 'request ms']];
  let baselineMaxMs = 0;
  try {
    // One unmeasured request first, so the first row does not pay for compiling the code paths.
    await measureRow(`${baseUrl}/callbacks/smile-id`, rows[0]!, maxBytes, 1, deadline);
    for (const row of rows) {
      if (performance.now() >= deadline) {
        console.log(
          `BENCH_MAX_SECONDS reached: the remaining ${rows.length - table.length + 1} rows were not run`,
        );
        break;
      }
      const figures = await measureRow(
        `${baseUrl}/callbacks/smile-id`,
        row,
        maxBytes,
        settings.BENCH_REPEATS,
        deadline,
      );
      if (table.length === 1) baselineMaxMs = figures.maxMs;
      const answers = [...figures.answers].map(([answer, count]) => `${count}× ${answer}`).join(', ');
      table.push([
        row.body,
        row.variant,
        answers,
        formatNumber(figures.maxMs, 1),
        formatNumber(figures.p99Ms, 1),
        formatNumber(figures.maxMs / baselineMaxMs, 2),
        formatNumber(figures.meanRequestMs, 1),
      ]);
      console.log(`  ${row.body} (${row.variant}): max ${formatNumber(figures.maxMs, 1)} ms`);
    }
  } finally {
    await app.close();
    await deps.close();
    await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  }
  console.log(`\n${alignedTable(table, 3)}`);
  console.log(
    '\nmax / p99 = longest and 99th-percentile event-loop delay sampled while the row’s requests were in flight ' +
      `(monitorEventLoopDelay, ${RESOLUTION_MS} ms resolution, included in every figure); × baseline = max over the ` +
      'baseline row’s max; request ms = mean time to the answer, this process being client and server.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
