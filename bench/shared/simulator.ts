import path from 'node:path';
import { z } from 'zod';
import { forkTypeScript, freePort, waitUntilReady } from './processes.js';
import { ROOT } from './service.js';

/** The part of `GET /__sim/stats` the bench reads; parsed, since it comes from another process. */
const statsSchema = z.object({
  totalCalls: z.number().int(),
  callsPerJob: z.record(z.string(), z.number().int()),
  maxConcurrentForAnyJob: z.number().int(),
  maxConcurrentOverall: z.number().int(),
});
export type SimulatorStats = z.infer<typeof statsSchema>;

/** The Smile ID simulator in its own process (bench/shared/simulator-server.ts), answering after `latencyMs`. */
export async function startSimulator(latencyMs: number) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = forkTypeScript(path.join(ROOT, 'bench/shared/simulator-server.ts'), [], {
    env: { ...process.env, PORT: String(port), LATENCY_MS: String(latencyMs) },
  });
  // The simulator has no /readyz; its stats route answers as soon as it listens.
  await waitUntilReady(url, child, { path: '/__sim/stats' });
  return { child, url };
}

export async function simulatorStats(url: string): Promise<SimulatorStats> {
  const response = await fetch(`${url}/__sim/stats`);
  if (!response.ok) throw new Error(`GET /__sim/stats answered ${response.status}`);
  return statsSchema.parse(await response.json());
}
