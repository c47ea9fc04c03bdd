import type { Check } from '../shared/checks.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import type { PopulationFigures, RunFigures } from './figures.js';
import { POPULATIONS } from './jobs.js';

/** Issue 3's targets, with the concurrency the README recommends and a rate limit that does not bind. */
export const TARGETS = { minJobsPerSecond: 300, maxCallsPerFinalJob: 1.05 } as const;

export function checks(run: RunFigures): Check[] {
  const final = run.populations.final;
  return [
    {
      label: `≥ ${TARGETS.minJobsPerSecond} jobs/s (${number(run.overall.jobsPerSecond)})`,
      holds: run.complete && run.overall.jobsPerSecond >= TARGETS.minJobsPerSecond,
    },
    {
      label: `≤ ${TARGETS.maxCallsPerFinalJob} calls/job for jobs final through callbacks (${number(final.callsPerJob, 3)})`,
      holds: final.confirmed === final.jobs && final.callsPerJob <= TARGETS.maxCallsPerFinalJob,
    },
  ];
}

const megabytes = (values: number[]) => values.map((mb) => `${number(mb)} MB`).join(', ');

const verdict = (check: Check) => `${check.label}: ${check.holds ? 'holds' : 'MISSED'}`;

const populationRow = (figures: PopulationFigures) => [
  figures.title,
  number(figures.jobs),
  number(figures.confirmed),
  number(figures.seconds, 2),
  number(figures.jobsPerSecond),
  number(figures.calls),
  number(figures.callsPerJob, 3),
];

/** Everything one run measured, printed as soon as it ends. */
export function runReport(run: RunFigures): string {
  const rows = [
    ['population', 'jobs', 'confirmed', 'seconds', 'jobs/s', 'Smile ID calls', 'calls/job'],
    ...POPULATIONS.map(({ id }) => populationRow(run.populations[id])),
    populationRow(run.overall),
  ];
  const cpu = run.cpuMsPerJob;
  return [
    alignedTable(rows).replace(/^/gm, '    '),
    `    peak RSS (VmHWM) of the worker process${run.workers > 1 ? 'es' : ''}: ${megabytes(run.peakRssMb)} ` +
      `(${megabytes(run.peakRssBeforeMb)} when the window opened)`,
    `    CPU ms per job: workers ${number(cpu.workers, 2)}, simulator ${number(cpu.simulator, 2)}, ` +
      `postgres ${number(cpu.postgres, 2)}, redis ${number(cpu.redis, 2)}`,
    `    CPUs busy on average: ${number(run.busyCores.measured, 2)} by the processes above, ` +
      `${number(run.busyCores.machine, 2)} by the whole machine (of ${run.busyCores.available})`,
    `    per job: ${number(run.roundTripsPerJob.postgresTransactions, 1)} Postgres transactions, ` +
      `${number(run.roundTripsPerJob.redisScripts, 1)} Redis scripts, ` +
      `${number(run.roundTripsPerJob.redisCommands, 1)} Redis commands incl. inside scripts (Redis counts are server-wide)`,
    `    concurrent job_status calls: at most ${run.maxConcurrentPolls} overall, ${run.maxConcurrentPollsOfOneJob} for any one job` +
      (run.strayCalls > 0 ? `; ${run.strayCalls} calls for jobs the bench did not create` : ''),
    run.complete
      ? ''
      : '    TIMED OUT before every job was confirmed: figures cover the jobs confirmed by then',
    `    ${checks(run).map(verdict).join('; ')}`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** One line per concurrency tried, then which of them met both targets. */
export function summary(runs: readonly RunFigures[]): string {
  const rows = [
    [
      'RECONCILE_CONCURRENCY',
      'jobs/s',
      ...POPULATIONS.map(({ id }) => `${id} jobs/s`),
      'final calls/job',
      'all calls/job',
      'peak RSS MB',
      'other CPUs busy',
      'targets',
    ],
    ...runs.map((run) => [
      String(run.concurrency),
      number(run.overall.jobsPerSecond),
      ...POPULATIONS.map(({ id }) => number(run.populations[id].jobsPerSecond)),
      number(run.populations.final.callsPerJob, 3),
      number(run.overall.callsPerJob, 3),
      number(Math.max(...run.peakRssMb)),
      number(run.busyCores.machine - run.busyCores.measured, 2),
      checks(run).every((check) => check.holds) ? 'hold' : 'MISSED',
    ]),
  ];
  const meeting = runs.filter((run) => checks(run).every((check) => check.holds));
  const conclusion =
    meeting.length === 0
      ? 'No concurrency tried met both targets.'
      : `Both targets held with RECONCILE_CONCURRENCY=${meeting.map((run) => run.concurrency).join(', ')}.`;
  return `${alignedTable(rows)}\n\n${conclusion}`;
}
