import os from 'node:os';
import { dropBenchDatabase } from '../shared/database.js';
import { killChildrenOnExit, runToCompletion } from '../shared/processes.js';
import { ROOT, SERVICE_LOG_LEVEL } from '../shared/service.js';
import type { RunFigures } from './figures.js';
import { benchJobs } from './jobs.js';
import { runReport, summary } from './report.js';
import { measureRun } from './run.js';
import { loadReconcileSettings } from './settings.js';

/**
 * `npm run bench:reconcile`: how fast the built service's workers (`node dist/main.js`, ROLE=worker)
 * confirm jobs against the Smile ID simulator answering after 50 ms, and how many job_status calls that
 * takes. Half the jobs are already final through a signed callback and only need confirming; half were
 * registered and never heard from, and are settled by polling alone. Each RECONCILE_CONCURRENCY tried
 * gets a fresh run. It measures; it does not judge by exit code: missed targets still exit 0.
 */

async function main() {
  killChildrenOnExit();
  const settings = loadReconcileSettings();
  const jobs = benchJobs(settings.BENCH_JOBS);
  console.log(
    `reconcile bench: ${os.cpus().length} CPUs, node ${process.version}, ${jobs.length} jobs per run ` +
      `(half final through callbacks, half registered and silent), simulator latency ${settings.BENCH_LATENCY_MS} ms, ` +
      `${settings.BENCH_WORKERS} worker process(es), SMILE_API_RATE_LIMIT_PER_SECOND high enough not to bind, ` +
      `RECONCILE_SWEEP_INTERVAL_MS=200, LOG_LEVEL=${SERVICE_LOG_LEVEL}, database ${settings.BENCH_DATABASE} ` +
      '(recreated for each run, dropped at the end)',
  );
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }

  const runs: RunFigures[] = [];
  for (const concurrency of settings.BENCH_CONCURRENCIES) {
    console.log(`\nRECONCILE_CONCURRENCY=${concurrency}: setting up ${jobs.length} jobs…`);
    const run = await measureRun(concurrency, jobs, settings);
    console.log(runReport(run));
    runs.push(run);
  }
  // Kept when the bench fails, for a look; the next run drops it anyway.
  await dropBenchDatabase(settings.BENCH_POSTGRES_URL, settings.BENCH_DATABASE);
  console.log(`\n${summary(runs)}`);
  console.log(
    '\njobs/s = jobs confirmed (is_final AND confirmed) / seconds from the moment all were due to the last ' +
      'confirmation; the two populations are checked at the same time, so their rates add up to the overall ' +
      'one. calls = job_status calls counted by the simulator (GET /__sim/stats). CPU = process time over ' +
      'the window per job confirmed. other CPUs busy = the whole machine minus the processes measured (the ' +
      'bench itself, anything else running): high values mean the run was slowed by other work.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
