import autocannon, { type Request } from 'autocannon';
import type { LoadFigures } from './load-protocol.js';

/**
 * What every load generator shares: a process of its own (so its CPU is never the server's) that reads
 * its request from argv[2], runs a warm-up and then the measured window with autocannon, and sends its
 * figures back to the orchestrator over IPC (see `forkForReport` in processes.ts).
 */

export interface WindowOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

/** Per-window counts a generator keeps from its responses. */
export interface Tally {
  non2xx: number;
  /** 2xx whose body was not the expected answer. */
  unexpected: number;
  statusCodes: Record<string, number>;
}

export const emptyTally = (): Tally => ({ non2xx: 0, unexpected: 0, statusCodes: {} });

/** Counts one response: its status, and whether a 2xx answered what `expected` looks for. */
export function countResponse(
  tally: Tally,
  status: number,
  body: string,
  expected: (body: string) => boolean,
) {
  tally.statusCodes[status] = (tally.statusCodes[status] ?? 0) + 1;
  if (status < 200 || status > 299) tally.non2xx += 1;
  else if (!expected(body)) tally.unexpected += 1;
}

/**
 * A warm-up, then the measured window, with the same requests. `startWindow` runs in between, so the
 * generator's own tallies cover the window only.
 */
export async function warmUpAndMeasure(
  options: WindowOptions,
  requests: Request[],
  startWindow: () => void,
): Promise<Omit<LoadFigures, keyof Tally>> {
  const run = (duration: number) =>
    autocannon({ url: options.url, connections: options.connections, duration, timeout: 30, requests });
  const warmup = options.warmupSeconds > 0 ? await run(options.warmupSeconds) : undefined;
  startWindow();
  const result = await run(options.durationSeconds);
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    completed: result.requests.total,
    socketErrors: result.errors - result.timeouts,
    timeouts: result.timeouts,
    completedWithWarmup: result.requests.total + (warmup?.requests.total ?? 0),
  };
}

/** The process around a generator: parse argv[2], run, report over IPC, exit; exit 1 on any failure. */
export function runLoadGenerator<TRequest, TReport>(generate: (request: TRequest) => Promise<TReport>): void {
  // Orphaned by a crashed orchestrator: stop loading a server nobody measures.
  process.on('disconnect', () => process.exit(1));
  generate(JSON.parse(process.argv[2] ?? '') as TRequest).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (error: unknown) => {
      console.error('load generator failed:', error);
      process.exit(1);
    },
  );
}
