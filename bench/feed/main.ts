import os from 'node:os';
import { killChildrenOnExit, runToCompletion } from '../shared/processes.js';
import { ROOT, SERVICE_LOG_LEVEL } from '../shared/service.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import { type FeedPhase, type FeedRun, runFeedBench } from './run.js';
import { loadFeedSettings } from './settings.js';

/**
 * `npm run bench:feed`: what consumers long-polling the change feed cost the callbacks. Callbacks come at
 * a steady rate, each a change; first with no consumer, then with many waiting on GET /v1/changes?wait=30
 * (each woken by every change, each polling again at once), then with them while a session holds a
 * transaction open in another database of the server. The baseline is the first phase of the same run.
 * It measures; a missed goal still exits 0.
 */

/** Callback p95 with consumers within this factor of the p95 without. */
const GOAL_RATIO = 2;

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

function row(phase: FeedPhase): string[] {
  return [
    phase.label,
    number(phase.latenciesMs.length),
    number(phase.failures),
    number(quantile(phase.latenciesMs, 0.5), 1),
    number(quantile(phase.latenciesMs, 0.95), 1),
    number(quantile(phase.latenciesMs, 0.99), 1),
    number(phase.latenciesMs.at(-1) ?? Number.NaN, 1),
    number(phase.feedReads / phase.seconds, 1),
    number(phase.transactions / phase.seconds),
    `${Math.round(phase.apiCpuMs / phase.seconds / 10)}%`,
    number(phase.apiLoopLagP99Ms, 1),
    `${Math.round(phase.consumersCpuMs / phase.seconds / 10)}%`,
    `${Math.round(phase.postgresCpuMs / phase.seconds / 10)}%`,
    `${Math.round(phase.machineBusyMs / phase.seconds / 10 / os.cpus().length)}%`,
  ];
}

function report(run: FeedRun, consumers: number): string {
  const table = alignedTable([
    [
      'phase',
      'callbacks',
      'failed',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'feed reads/s',
      'db xact/s',
      'api CPU',
      'api loop lag p99 ms',
      'consumers CPU',
      'postgres CPU',
      'machine busy',
    ],
    ...run.phases.map(row),
  ]);
  const p95 = (phase: FeedPhase | undefined) => quantile(phase?.latenciesMs ?? [], 0.95);
  const ratio = p95(run.phases[1]) / p95(run.phases[0]);
  const { changes, distinctJobs, polls, busy, errors, firstError } = run.consumers;
  const exact = changes.filter(
    (count, index) => count === run.changesFollowed && distinctJobs[index] === count,
  );
  return [
    table,
    '',
    `callback p95 with ${consumers} consumers / without: ${number(ratio, 2)}× (goal ≤ ${GOAL_RATIO}×: ${
      ratio <= GOAL_RATIO ? 'holds' : 'MISSED'
    })`,
    `consumers: ${number(polls)} polls answered, ${number(busy)} busy (429), ${number(errors)} errors` +
      `${firstError ? ` (first: ${firstError})` : ''}; ${number(exact.length)} of ${number(changes.length)} ` +
      `handed each of the ${number(run.changesFollowed)} changes exactly once ` +
      `(min ${number(Math.min(...changes))}, max ${number(Math.max(...changes))})`,
  ].join('\n');
}

async function main() {
  killChildrenOnExit();
  const settings = loadFeedSettings();
  console.log(
    `feed bench: ${os.cpus().length} CPUs, node ${process.version}; ${settings.BENCH_CHANGES_PER_SECOND} ` +
      `signed result callbacks/s (a change each) for ${settings.BENCH_PHASE_SECONDS} s per phase, ` +
      `${settings.BENCH_CONSUMERS} consumers on GET /v1/changes?wait=30 from the second phase (their ` +
      `process at nice ${settings.BENCH_CONSUMERS_NICE}); the service ` +
      `as one API process (LOG_LEVEL=${SERVICE_LOG_LEVEL}, limits that never bind); database ` +
      `${settings.BENCH_DATABASE}, removed at the end`,
  );
  if (settings.BENCH_SKIP_BUILD === '0') {
    console.log('building the service (npm run build)…');
    await runToCompletion('npm', ['run', 'build'], { cwd: ROOT });
  }
  const run = await runFeedBench(settings);
  console.log(`\n${report(run, settings.BENCH_CONSUMERS)}`);
  console.log(
    '\nLatency = a callback POST to its 200, seen by the bench (the service stores it and its change in one ' +
      'transaction). feed reads/s = smileid_change_feed_reads_total over the phase. db xact/s = the bench ' +
      "database's committed and rolled-back transactions (pg_stat_database, published within about a second), " +
      'the callbacks’ own included. postgres held = a session of the server’s `postgres` database keeps a ' +
      'transaction open, with its id, for the whole phase. api CPU, consumers CPU, postgres CPU = CPU time ' +
      'of the API process, the consumers’ process and every Postgres process (all databases) over the phase ' +
      '(100% = one CPU); api loop lag = how late the API’s event loop ran its timers over the phase ' +
      '(Node’s monitorEventLoopDelay, p99); machine busy = every process’s, this bench, Postgres and anything else ' +
      'running, per CPU available.',
  );
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
