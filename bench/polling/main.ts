import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import { createJobs, type Figures, previousSchedule, serviceSchedule, simulate, type World } from './sim.js';

/**
 * `npm run bench:polling`: today's and the new poll schedule over the same simulated week (a virtual
 * clock; no real waiting), at a low and a high callback loss rate, under the default budget. The model
 * behind the world's numbers is docs/design.md#the-polling-model.
 */

const MINUTE = 60_000;
const jobsPerDay = Number(process.env.POLLING_JOBS_PER_DAY ?? 100_000);
const base: Omit<World, 'lossRate'> = {
  days: 7,
  jobsPerDay,
  reviewShare: 0.2,
  reviewMedianMs: 20 * MINUTE,
  reviewSigma: 1.2,
  budgetPerSecond: 20,
  seed: 2026,
};

const rows: string[][] = [];
const header = [
  'loss',
  'schedule',
  'calls/job',
  'lag p50 s (arrived)',
  'lag p99 s (arrived)',
  'lag p50 s (lost)',
  'lag p99 s (lost)',
  'peak calls/s',
  'unconfirmed',
];
const ratios: string[] = [];
for (const lossRate of [0.001, 0.3]) {
  const world: World = { ...base, lossRate };
  const jobs = createJobs(world);
  const results: [string, Figures][] = [];
  for (const schedule of [
    previousSchedule(DEFAULT_POLL_MODEL.horizonMs),
    serviceSchedule(DEFAULT_POLL_MODEL),
  ]) {
    const started = performance.now();
    const figures = simulate(world, jobs, schedule);
    process.stderr.write(
      `  ${schedule.name}, loss ${lossRate}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    results.push([schedule.name, figures]);
    rows.push([
      `${lossRate * 100}%`,
      schedule.name,
      number(figures.callsPerJob, 2),
      number(figures.lagArrived.p50, 1),
      number(figures.lagArrived.p99, 1),
      number(figures.lagLost.p50, 1),
      number(figures.lagLost.p99, 1),
      `${number(figures.peakCallsPerSecond)} / ${world.budgetPerSecond}`,
      number(figures.unconfirmed),
    ]);
  }
  const [today, next] = results.map(([, figures]) => figures);
  ratios.push(
    `loss ${lossRate * 100}%: ${number(today!.callsPerJob / next!.callsPerJob, 1)}× fewer calls per job`,
  );
}

console.log(
  `A simulated week: ${jobsPerDay.toLocaleString('en')} jobs a day (daily peak 1.8× the mean), ` +
    `${base.reviewShare * 100}% in human review (log-normal, median ${base.reviewMedianMs / MINUTE} min), ` +
    `budget ${base.budgetPerSecond} calls/s. Lag: Smile ID's final result → confirmed.\n`,
);
console.log(alignedTable([header, ...rows], 2));
console.log(`\n${ratios.join('\n')}`);
