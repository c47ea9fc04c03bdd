import os from 'node:os';
import { killChildrenOnExit, runToCompletion } from '../shared/processes.js';
import { ROOT, SERVICE_LOG_LEVEL } from '../shared/service.js';
import { CHANGES_PER_JOB } from './drive.js';
import { notifyReport } from './report.js';
import { DELIVERY_CONCURRENCY, runNotifyBench } from './run.js';
import { loadNotifySettings } from './settings.js';

/**
 * `npm run bench:notify`: how fast and how surely the service's signed webhooks reach an endpoint. Jobs
 * live at a steady rate of changes (registered, called back, confirmed by the worker against the
 * simulator); then every job changes at once. A receiver on this machine verifies each message with
 * the `standardwebhooks` package and records its arrival; the baseline is the same receiver driven by
 * a plain client at full speed. It measures; missed targets still exit 0.
 */

async function main() {
  killChildrenOnExit();
  const settings = loadNotifySettings();
  console.log(
    `notify bench: ${os.cpus().length} CPUs, node ${process.version}; phases of ` +
      `${settings.BENCH_RATES.join(', ')} changes/s for ${settings.BENCH_PHASE_SECONDS} s (${CHANGES_PER_JOB} ` +
      `changes a job), then a burst of one change per job` +
      (settings.BENCH_HANG_RATE > 0
        ? `, then ${settings.BENCH_HANG_RATE} changes/s with a second endpoint answering, then hanging`
        : '') +
      `; the service as an API and a worker process ` +
      `(LOG_LEVEL=${SERVICE_LOG_LEVEL}, NOTIFY_CONCURRENCY=${DELIVERY_CONCURRENCY}, Smile ID simulator ` +
      `answering after ${settings.BENCH_LATENCY_MS} ms, limits that never bind); database ` +
      `${settings.BENCH_DATABASE} and Redis prefix of the same name, removed at the end`,
  );
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }
  const startedAt = Date.now();
  const run = await runNotifyBench(settings);
  console.log(`\nrun of ${((Date.now() - startedAt) / 1000).toFixed(0)} s\n`);
  console.log(notifyReport(run));
  console.log(
    '\nchanges = rows the phase added to job_changes; messages = the webhooks they call for (a job.updated ' +
      'each, a job.finalized after a change that settled its job). delivered/s = messages received, first ' +
      'arrival to last. Latency = first arrival at the receiver − the change’s job_changes.at (the burst: ' +
      'its commit, as the bench saw it). dup = arrivals beyond the first of a webhook-id. worker CPU = the ' +
      'worker process over the phase (checks included in the steady phases) per message. machine busy = all ' +
      'CPU time the machine spent over the phase, this bench and anything else running, per CPU available.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
