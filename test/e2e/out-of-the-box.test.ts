import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, type ServiceProcess, spawnService, waitForOutput } from '../helpers/processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `npm start` with nothing configured but where Postgres and Redis are: development defaults. */
function developmentEnv(port: number): Record<string, string> {
  return {
    NODE_ENV: 'development',
    PORT: String(port),
    DATABASE_URL: inject('databaseUrl'),
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'info',
  };
}

const logLines = (service: ServiceProcess) =>
  service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; smileApi?: string; photos?: string });

/** The simulator's origin, from the warning that names its base URL. */
const simulatorOrigin = (service: ServiceProcess) =>
  /Smile ID is simulated in this process at (http:\/\/[\d.:]+)\/v1;/.exec(service.output())?.[1];

/** Runs `npm run simulate -- …args` to its end, with the environment the service was started with. */
async function simulate(args: string[], env: Record<string, string>, timeoutMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/simulate.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    output += String(chunk);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

describe('npm start in development, with the default keys and no Smile ID base URL', () => {
  let service: ServiceProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    env = developmentEnv(await freePort());
    service = spawnService(env, 'src/dev.ts');
    await waitForOutput(service, 'service started');
  });
  afterAll(async () => {
    await service?.stop('SIGKILL');
  });

  it('keeps photos in an S3-compatible store embedded in its own process, and says so first', async () => {
    const [first] = logLines(service);
    expect(first?.level).toBe(40);
    expect(first?.msg).toMatch(
      /^photos are kept in an S3-compatible store embedded in this process, on .*\.object-store \(http:\/\/127\.0\.0\.1:\d+\); set OBJECT_STORE_BUCKET/,
    );
    expect(logLines(service).find((line) => line.msg === 'service started')?.photos).toBe(
      's3://smileid-bodies/',
    );
  });

  it('plays Smile ID with the simulator in its own process, and says so before anything else', async () => {
    const lines = logLines(service);
    expect(lines[1]?.level).toBe(40);
    expect(lines[1]?.msg).toMatch(
      /^Smile ID is simulated in this process at http:\/\/127\.0\.0\.1:\d+\/v1; /,
    );
    const origin = simulatorOrigin(service);
    expect(origin).not.toBe(`http://127.0.0.1:${env.PORT}`);
    expect(lines.find((line) => line.msg === 'service started')?.smileApi).toBe(`${origin}/v1`);

    const stats = await fetch(`${origin}/__sim/stats`);
    expect(stats.status).toBe(200);
  });

  it('takes npm run simulate -- --submit from the front door to a final, confirmed result and its decision', async () => {
    const { code, output } = await simulate(['--submit'], env, 75_000);
    expect(code, output).toBe(0);
    expect(output).toMatch(/ 202 submission queued {2}← POST \/v1\/submissions/);
    expect(output).toMatch(/submission uploaded \(attempt 1, Smile ID job \d+\)/);
    expect(output).toMatch(
      /approved \(final\), confirmed; submission uploaded .*; decision approve \(approved\)/,
    );
    expect(output).toMatch(
      /^Decision: approve \(reasons: approved\), by rule approved of smile-id-default@/m,
    );
    expect(output).toContain(
      'the default policy decides the approved scenario, once ended and confirmed: approve',
    );
    const outcome = JSON.parse(output.slice(output.indexOf('\n{'))) as Record<string, unknown>;
    expect(outcome).toMatchObject({ state: 'approved', isFinal: true, confirmed: true });
    expect(outcome.decision).toMatchObject({ value: 'approve', rule: 'approved', source: 'policy' });
    expect(outcome.submission).toMatchObject({ status: 'uploaded', attempts: 1, error: null });
  }, 90_000);

  it('closes the simulator and the embedded store after the app on SIGTERM, and exits cleanly', async () => {
    const stats = `${simulatorOrigin(service)}/__sim/stats`;
    expect((await fetch(stats)).status).toBe(200);
    expect(await service.stop('SIGTERM')).toBe(0);
    expect(service.output()).toContain('"msg":"stopped"');
    await expect(fetch(stats)).rejects.toThrow();
  });
});

describe('npm start with SMILE_API_BASE_URL set', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop('SIGKILL');
  });

  it('simulates nothing and uses that URL', async () => {
    const env = { ...developmentEnv(await freePort()), SMILE_API_BASE_URL: 'http://127.0.0.1:9/v1' };
    service = spawnService(env, 'src/dev.ts');
    await waitForOutput(service, 'service started');
    expect(service.output()).not.toContain('simulated in this process');
    expect(logLines(service).find((line) => line.msg === 'service started')?.smileApi).toBe(
      'http://127.0.0.1:9/v1',
    );
  });
});

describe('the production entry point (node dist/main.js) in development, with the default keys', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop('SIGKILL');
  });

  it('simulates nothing, and says that npm start would', async () => {
    service = spawnService(developmentEnv(await freePort()), 'src/main.ts');
    await waitForOutput(service, 'service started');
    expect(service.output()).not.toContain('simulated in this process');
    expect(service.output()).toMatch(/Smile ID is not simulated by this entry point: .*run `npm start`/);
  });

  it('embeds no object store: photos are kept whole in Postgres, and it says that npm start would embed one', () => {
    expect(service!.output()).not.toContain('embedded in this process');
    expect(service!.output()).toMatch(
      /photos are kept whole in Postgres: this entry point embeds no object store; run `npm start`/,
    );
    expect(logLines(service!).find((line) => line.msg === 'service started')?.photos).toBe(
      'kept whole in Postgres',
    );
  });
});
