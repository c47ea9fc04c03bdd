import { parseArgs } from 'node:util';
import { loadEntryPointConfig } from '../config.js';
import { JOB_LIVES, LIFE_DECISIONS } from '../simulator/job-lives.js';
import { buildSimulator } from '../simulator/server.js';

/**
 * `npm run simulator`: Smile ID's job_status API and callback delivery on a local port, signed with the
 * service's own partner id and first API key, so the service can be pointed at it unchanged.
 */
const { values: options } = parseArgs({
  options: {
    port: { type: 'string', default: '3900' },
    host: { type: 'string', default: '127.0.0.1' },
    'latency-ms': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (options.help) {
  console.log(`usage: npm run simulator -- [--port 3900] [--host 127.0.0.1] [--latency-ms N]
  Point the service at it with SMILE_API_BASE_URL=http://127.0.0.1:<port>/v1
  POST /__sim/jobs {jobId, userId, life, startDelayMs?, reviewDelayMs?, faults?}   register a job
       life, and the decision the default policy gives it once ended and confirmed:
${JOB_LIVES.map((life) => `         ${life.padEnd(17)} → ${LIFE_DECISIONS[life].value} (${LIFE_DECISIONS[life].rule})`).join('\n')}
  POST /__sim/jobs/:jobId/deliver {callbackUrl, order?, duplicate?, drop?}         send its callbacks
  POST /__sim/faults {latencyMs?, failRate?, failNext?, timeoutNext?, badSignature?, resultAsString?, authError?}
  GET  /__sim/stats    POST /__sim/reset`);
  process.exit(0);
}

const port = Number(options.port);
const latencyMs = options['latency-ms'] === undefined ? undefined : Number(options['latency-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535`);
if (latencyMs !== undefined && !(Number.isInteger(latencyMs) && latencyMs >= 0)) {
  throw new Error('--latency-ms must be a whole number of milliseconds');
}

const config = loadEntryPointConfig();
const { app } = buildSimulator({
  partnerId: config.SMILE_PARTNER_ID,
  apiKey: config.SMILE_API_KEYS[0]!,
  defaultFaults: latencyMs === undefined ? {} : { latencyMs },
});

// One line per request; bodies are never printed, since callbacks and results carry PII.
app.addHook('onResponse', async (request, reply) => {
  const body = request.body as { job_id?: unknown } | undefined;
  const job = typeof body?.job_id === 'string' ? ` job=${body.job_id}` : '';
  console.log(
    `${new Date().toISOString()} ${request.method} ${request.url} → ${reply.statusCode}${job} ${reply.elapsedTime.toFixed(0)} ms`,
  );
});

const address = await app.listen({ port, host: options.host });
console.log(`Smile ID simulator on ${address} (partner ${config.SMILE_PARTNER_ID})`);
console.log(`Point the service at it with SMILE_API_BASE_URL=${address}/v1`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: closing`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
