import { buildSimulator } from '../../src/simulator/server.js';
import { SMILE_CREDENTIALS } from './settings.js';

/**
 * The Smile ID simulator for bench:reconcile, :convergence and :notify, in a process of its own so that
 * its CPU is never the worker's. The same app as `npm run simulator`, without that CLI's line per
 * request: on a small machine, tens of thousands of log lines would take CPU from the service being
 * measured. Usage: PORT=… LATENCY_MS=… node --import tsx this file (simulator.ts forks it).
 */

const port = Number(process.env.PORT);
const latencyMs = Number(process.env.LATENCY_MS ?? '0');
const { app } = buildSimulator({ ...SMILE_CREDENTIALS, defaultFaults: { latencyMs } });

const stop = () => void app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
// Orphaned by a crashed orchestrator: go away rather than hold the port.
process.once('disconnect', stop);

await app.listen({ port, host: '127.0.0.1' });
