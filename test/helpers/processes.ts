import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/**
 * Runs an entry point as its own process (through tsx): src/main.ts, as `node dist/main.js` would after a
 * build, src/dev.ts, as `npm start` would, or a command of src/cli/.
 */
export function spawnService(
  env: Record<string, string>,
  entry: 'src/main.ts' | 'src/dev.ts' | `src/cli/${string}.ts` = 'src/main.ts',
  args: readonly string[] = [],
): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      // Already gone (an exit code, or killed by a signal): no 'exit' event will come again.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A Redis server of the test's own, so the test can take it away and bring it back. */
export function spawnRedis(port: number): ServiceProcess {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  return {
    child,
    output: () => output,
    async stop(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      await exited;
      return child.exitCode;
    },
  };
}

/** Waits until a process has printed `text`. */
export async function waitForOutput(
  process: ServiceProcess,
  text: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!process.output().includes(text)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for "${text}"; output:\n${process.output()}`);
    if (process.child.exitCode !== null) throw new Error(`process exited; output:\n${process.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
