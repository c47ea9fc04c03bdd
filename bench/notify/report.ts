import { errorCount, type LoadFigures } from '../shared/load-protocol.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import { type PhaseFigures, phaseFigures, unexpectedIds } from './figures.js';
import type { NotifyRun } from './run.js';

/** The notification sweep's period (NOTIFICATION_SWEEP_INTERVAL_MS in src/notify/jobs.ts). */
export const SWEEP_INTERVAL_MS = 500;

const ms = (value: number | undefined) => (value === undefined ? '-' : number(value));
const verdict = (holds: boolean) => (holds ? 'holds' : 'MISSED');

function phaseRow(figures: PhaseFigures): string[] {
  return [
    figures.label,
    number(figures.changes),
    figures.changesPerSecond === undefined ? 'at once' : number(figures.changesPerSecond, 1),
    number(figures.messages),
    number(figures.deliveredPerSecond),
    ms(figures.p50Ms),
    ms(figures.p99Ms),
    ms(figures.maxMs),
    number(figures.lost),
    number(figures.duplicates),
    number(figures.outOfOrder),
    number(figures.workerCpuMsPerMessage, 2),
    `${Math.round(figures.machineBusyShare * 100)}%`,
  ];
}

const HEADER = [
  'phase',
  'changes',
  'changes/s',
  'messages',
  'delivered/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'lost',
  'dup',
  'out of order',
  'worker CPU ms/msg',
  'machine busy',
];

function baselineLine(baseline: LoadFigures): string {
  return (
    `baseline (the receiver alone, a plain client POSTing the same bodies signed): ` +
    `${number(baseline.requestsPerSecond)} req/s, p50 ${number(baseline.p50Ms)} ms, ` +
    `p99 ${number(baseline.p99Ms)} ms, ${number(errorCount(baseline))} errors`
  );
}

export function notifyReport(run: NotifyRun): string {
  const arrivals = new Map(run.arrivals.arrivals);
  const phases = run.phases.map((phase) => phaseFigures(phase, arrivals));
  const lines = [alignedTable([HEADER, ...phases.map(phaseRow)]), '', baselineLine(run.baseline)];

  const burst = phases.find((phase) => phase.label === 'burst');
  if (burst && run.baseline.requestsPerSecond > 0) {
    lines.push(
      `burst delivered/s / baseline req/s: ${number(burst.deliveredPerSecond / run.baseline.requestsPerSecond, 2)}`,
    );
  }
  // A change waits for the next sweep, 0 to SWEEP_INTERVAL_MS, then one request.
  const floorP50 = SWEEP_INTERVAL_MS * 0.5 + run.baseline.p50Ms;
  const floorP99 = SWEEP_INTERVAL_MS * 0.99 + run.baseline.p99Ms;
  lines.push(
    `latency floor (a change waits 0–${SWEEP_INTERVAL_MS} ms for the sweep, then one request): ` +
      `p50 ${number(floorP50)} ms, p99 ${number(floorP99)} ms; a job's next message is queued as soon as ` +
      'the one before is delivered, so a job.finalized should follow its job.updated by about one request',
  );
  for (const phase of phases.filter((each) => each.changesPerSecond !== undefined)) {
    if (phase.p50Ms === undefined || phase.p99Ms === undefined) continue;
    lines.push(
      `  ${phase.label}: p50 / floor ${number(phase.p50Ms / floorP50, 2)}, p99 / floor ` +
        `${number(phase.p99Ms / floorP99, 2)}; job.finalized after its job.updated: p50 ` +
        `${ms(phase.finalizedGapP50Ms)} ms, p99 ${ms(phase.finalizedGapP99Ms)} ms`,
    );
  }
  const twin = phases.find((phase) => phase.secondEndpoint === 'answering');
  const hanging = phases.find((phase) => phase.secondEndpoint === 'hanging');
  if (twin?.p50Ms !== undefined && twin.p99Ms !== undefined && hanging?.p50Ms !== undefined) {
    lines.push(
      `the first endpoint while a second one hangs until every attempt times out: p50 ${number(twin.p50Ms)} → ` +
        `${number(hanging.p50Ms)} ms, p99 ${number(twin.p99Ms)} → ${ms(hanging.p99Ms)} ms, max ` +
        `${ms(twin.maxMs)} → ${ms(hanging.maxMs)} ms (hanging / answering at p99: ` +
        `${number((hanging.p99Ms ?? 0) / twin.p99Ms, 2)})`,
    );
  }
  for (const phase of run.phases.filter((each) => !each.drained)) {
    lines.push(
      `${phase.label}: the bench stopped waiting for its last changes and messages (BENCH_DRAIN_SECONDS)`,
    );
  }

  const expected = run.phases.flatMap((phase) => phase.expected);
  const lost = phases.reduce((sum, phase) => sum + phase.lost, 0);
  const unexpected = unexpectedIds(expected, arrivals);
  const { outcomes } = run;
  lines.push(
    '',
    `lost: ${number(lost)} (target 0: ${verdict(lost === 0)}); duplicates: ` +
      `${number(phases.reduce((sum, phase) => sum + phase.duplicates, 0))}; out of order: ` +
      `${number(phases.reduce((sum, phase) => sum + phase.outOfOrder, 0))}; unexpected webhook-ids: ` +
      `${number(unexpected)}; signatures refused: ${number(run.arrivals.refused)}`,
    `deliveries in Postgres: ${number(outcomes.deliveries)}, ${number(outcomes.retried)} tried more than ` +
      `once, ${number(outcomes.dead)} dead, ${number(outcomes.pending)} still pending`,
  );
  return lines.join('\n');
}
