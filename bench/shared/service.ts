import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnNode, waitUntilReady } from './processes.js';
import { BENCH_API_TOKEN } from './requests.js';
import { SMILE_CREDENTIALS } from './settings.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** High enough never to bind: a bench measures the service's work, not its limiters. */
export const UNBOUND_RATE = '1000000000';

/** Warn: the service prints only problems, which the benches show when something fails. */
export const SERVICE_LOG_LEVEL = 'warn';

export interface ServiceTarget {
  databaseUrl: string;
  redisUrl: string;
}

/**
 * The built service (`node dist/main.js`) as a child process. Everything it is told comes through its
 * environment: the bench's database, Redis and Smile ID credentials, plus what `env` adds (ROLE, PORT…).
 */
export function spawnService(target: ServiceTarget, env: Record<string, string>) {
  return spawnNode(path.join(ROOT, 'dist/main.js'), {
    // main.js loads ./.env when there is one; elsewhere, a developer's .env cannot change what is measured.
    cwd: os.tmpdir(),
    env: {
      ...process.env,
      DATABASE_URL: target.databaseUrl,
      REDIS_URL: target.redisUrl,
      HOST: '127.0.0.1',
      SMILE_PARTNER_ID: SMILE_CREDENTIALS.partnerId,
      SMILE_API_KEYS: SMILE_CREDENTIALS.apiKey,
      LOG_LEVEL: SERVICE_LOG_LEVEL,
      ...env,
    },
  });
}

/**
 * The service on a free port, ready once its /readyz answers (after migrations, for the first).
 * `onSpawn` sees the child at once, so a start that fails can still show what it printed.
 */
export async function startService(
  target: ServiceTarget,
  env: Record<string, string>,
  onSpawn: (child: ChildProcess) => void = () => {},
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawnService(target, { ...env, PORT: String(port) });
  onSpawn(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(url, child);
  return { child, url };
}

/** A service process with the bench's token and request limits that never bind, tracked under its ROLE. */
export function startBenchService(
  target: ServiceTarget,
  env: Record<string, string>,
  track: (name: string, child: ChildProcess) => ChildProcess,
) {
  const role = env.ROLE ?? 'service';
  return startService(
    target,
    {
      ...env,
      INTERNAL_API_TOKENS: BENCH_API_TOKEN,
      API_RATE_LIMIT_PER_MINUTE: UNBOUND_RATE,
      CALLBACK_RATE_LIMIT_PER_MINUTE: UNBOUND_RATE,
    },
    (child) => track(role, child),
  );
}
