import { type ChildProcess, fork, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Every child the bench starts, so that none outlives it, however it ends. */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills the children on exit, on errors and on Ctrl-C; call once, first thing. */
export function killChildrenOnExit(): void {
  // 'exit' listeners must be synchronous: a signal is all there is time for.
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the bench and its children`);
      process.exit(code);
    });
  }
}

/** Runs a command to completion, showing its output only if it fails. */
export async function runToCompletion(command: string, args: string[], options: SpawnOptions = {}) {
  const child = track(spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${output}`);
}

/** Runs a TypeScript file in a child node with IPC: tsx as a loader keeps it one process, one pid. */
export function forkTypeScript(file: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
  return track(fork(file, args, { execArgv: ['--import', 'tsx'], stdio: 'pipe', ...options }));
}

/**
 * Forks a load generator (see load-generator.ts) with `request` as JSON in argv[2] and resolves with the
 * one report it sends back over IPC; fails with its output if it exits without one.
 */
export async function forkForReport<TReport>(file: string, request: unknown): Promise<TReport> {
  const child = forkTypeScript(file, [JSON.stringify(request)]);
  const output = captureOutput(child);
  let report: TReport | undefined;
  child.once('message', (message) => {
    report = message as TReport;
  });
  // 'close', not 'exit': it comes after the IPC channel has delivered everything.
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0 || report === undefined) throw new Error(`${file} failed (exit ${code}):\n${output()}`);
  return report;
}

export function spawnNode(file: string, options: { cwd?: string; env: NodeJS.ProcessEnv }) {
  return track(spawn(process.execPath, [file], { ...options, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** The last few kilobytes a child printed, to explain a failure. */
export function captureOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no TCP port was assigned');
  return address.port;
}

/** Polls GET `path` (the service's /readyz by default) until it answers 200; fails early if the server exits first. */
export async function waitUntilReady(
  url: string,
  child: ChildProcess,
  { path = '/readyz', timeoutMs = 60_000 }: { path?: string; timeoutMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before ready`);
    const status = await fetch(`${url}${path}`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(100);
  }
  throw new Error(`server not ready after ${timeoutMs} ms`);
}

/**
 * The children one run starts, by name: a failure can show what each printed, and whoever started
 * them stops them all, the last started first.
 */
export function createProcessGroup() {
  const started: { name: string; child: ChildProcess; output: () => string }[] = [];
  return {
    track(name: string, child: ChildProcess): ChildProcess {
      started.push({ name, child, output: captureOutput(child) });
      return child;
    },
    /** Fails if a child has exited while it should be serving. */
    assertAlive(): void {
      const dead = started.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
      if (dead) {
        const how = dead.child.signalCode ?? `code ${dead.child.exitCode}`;
        throw new Error(`${dead.name} exited (${how}) during the run`);
      }
    },
    /** The error, followed by the last output of every child. */
    explain(error: unknown): Error {
      const outputs = started.map(({ name, output }) => `--- ${name} output ---\n${output() || '(none)'}`);
      return new Error(`${error instanceof Error ? error.message : String(error)}\n${outputs.join('\n')}`);
    },
    /** Stops one child on purpose, before the others: it no longer counts as one that should serve. */
    async retire(child: ChildProcess): Promise<void> {
      await stop(child);
      const index = started.findIndex((entry) => entry.child === child);
      if (index >= 0) started.splice(index, 1);
    },
    async stopAll(): Promise<void> {
      for (const { child } of [...started].reverse()) await stop(child);
    },
  };
}

/** SIGTERM for a graceful stop; SIGKILL if it takes longer than the grace period. */
export async function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** What serving a load cost a server process: its peak memory, and CPU per answer, its own and Postgres'. */
export interface ServerCosts {
  /** VmHWM of a server process started for this run alone, so the lifetime peak is this run's peak. */
  peakRssMb: number;
  /** Server process CPU (user + system) over warm-up and measured window, per response. */
  cpuMsPerRequest: number;
  /** The same for every Postgres process on the machine: the database's share of each request. */
  postgresCpuMsPerRequest: number;
}

/** Runs `load` against the server process `pid` and adds what it cost the server to its figures. */
export async function withServerCosts<T extends { completedWithWarmup: number }>(
  pid: number,
  load: () => Promise<T>,
): Promise<T & ServerCosts> {
  const cpuBefore = cpuTimeMs(pid);
  const postgresCpuBefore = postgresCpuMs();
  const figures = await load();
  const answers = Math.max(1, figures.completedWithWarmup);
  return {
    ...figures,
    peakRssMb: peakRssMb(pid),
    cpuMsPerRequest: (cpuTimeMs(pid) - cpuBefore) / answers,
    postgresCpuMsPerRequest: (postgresCpuMs() - postgresCpuBefore) / answers,
  };
}

/** Peak resident set size over the process's life (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** User + system CPU time the process has used, in ms. */
export function cpuTimeMs(pid: number): number {
  return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuMs;
}

/**
 * CPU time used by every process named `postgres` (backends, WAL writer, checkpointer), in ms. Backends
 * that exit in between are missed; the servers' pools keep theirs open for the whole run.
 */
export function postgresCpuMs(): number {
  return commandCpuMs('postgres');
}

/** CPU time used by every process with this command name (e.g. `redis-server`), in ms. */
export function commandCpuMs(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat.command === command) total += stat.cpuMs;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

function parseStat(stat: string): { command: string; cpuMs: number } {
  // The command name is parenthesised and may contain spaces; after it, utime and stime are fields
  // 14 and 15 of the whole line, in clock ticks of 1/100 s (USER_HZ on Linux).
  const commandEnd = stat.lastIndexOf(')');
  const fields = stat.slice(commandEnd + 2).split(' ');
  return {
    command: stat.slice(stat.indexOf('(') + 1, commandEnd),
    cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
  };
}

/**
 * CPU time the whole machine has spent busy (every CPU, user + system + interrupts), in ms: compared
 * with the measured processes' share, it shows how much other work (other benches, test suites) ran.
 */
export function machineBusyMs(): number {
  // The first line of /proc/stat sums every CPU: user nice system idle iowait irq softirq steal …, in 1/100 s.
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) * 10;
}
