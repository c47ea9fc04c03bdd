import os from 'node:os';
import { killChildrenOnExit, runToCompletion } from '../shared/processes.js';
import { ROOT, SERVICE_LOG_LEVEL } from '../shared/service.js';
import { planJobs } from './plan.js';
import { deliveryLines, lifeTable, targetTable, trafficLine } from './report.js';
import { runConvergence } from './run.js';
import { loadConvergenceSettings } from './settings.js';

/**
 * `npm run bench:convergence [-- --quick | --jobs N]`: do jobs end in Smile ID's real outcome, confirmed,
 * when callbacks are lost, duplicated, reordered and forged? N jobs run through the Smile ID simulator
 * while the bench reads the service's API each second as a consumer would, and compares what it showed
 * with what Smile ID decided, and when. It measures; missed targets still exit 0.
 */

async function main() {
  killChildrenOnExit();
  const settings = loadConvergenceSettings();
  const plan = planJobs(settings.BENCH_JOBS, settings.BENCH_JOBS_PER_SECOND, settings.BENCH_SEED);
  console.log(
    `convergence bench: ${os.cpus().length} CPUs, node ${process.version}, ${plan.length} jobs started at ` +
      `${settings.BENCH_JOBS_PER_SECOND}/s (seed ${settings.BENCH_SEED}); Smile ID simulator answering after ` +
      `${settings.BENCH_LATENCY_MS} ms; the service as one process (ROLE=all, LOG_LEVEL=${SERVICE_LOG_LEVEL}, ` +
      `default SMILE_API_RATE_LIMIT_PER_SECOND and schedule); database ${settings.BENCH_DATABASE} and ` +
      `Redis prefix of the same name, removed at the end`,
  );
  console.log(trafficLine());
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }

  const run = await runConvergence(plan, settings);
  console.log(`\nrun of ${run.seconds.toFixed(0)} s${run.complete ? '' : ', ended by its deadline'}`);
  console.log(deliveryLines(run.drive, run.sampler));
  console.log(`\n${lifeTable(run.verdicts)}`);
  console.log(`\n${targetTable(run.verdicts, run.totalCalls)}`);
  console.log(
    '\nA state is wrong when it claims more than Smile ID knows at that moment: any final state before its ' +
      'final result, another state after it. Times come from each job’s updatedAt when the sample saw the ' +
      'change. calls = job_status calls counted by the simulator (GET /__sim/stats).',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
