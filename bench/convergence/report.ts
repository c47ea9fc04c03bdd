import { quantile } from '../shared/quantile.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import type { DriveReport } from './drive.js';
import { groupFigures, type JobVerdict } from './figures.js';
import { TRAFFIC } from './plan.js';
import type { SamplerFigures } from './sampler.js';

/** Issue 8's targets. */
export const TARGETS = { maxWrongFinalSeconds: 5 } as const;

const LIVES = ['approved', 'rejected', 'id_not_found', 'suspects', 'review'] as const;

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : number(ms / 1000, 1));
const percent = (share: number) => `${Math.round(share * 100)}%`;
const verdict = (holds: boolean) => (holds ? 'holds' : 'MISSED');
const answers = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([status, count]) => `${status}×${number(count)}`)
    .join(' ') || 'none';

export function trafficLine(): string {
  const [reviewLow, reviewHigh] = TRAFFIC.reviewMs;
  return (
    `traffic: ${percent(TRAFFIC.lossRate)} of callbacks lost, ${percent(TRAFFIC.duplicateRate)} sent twice, ` +
    `every sending delayed 0–${TRAFFIC.spreadMs / 1000} s; human review on a fifth of the jobs ` +
    `(${reviewLow / 1000}–${reviewHigh / 1000} s); ${TRAFFIC.forgeriesPerJob} forged final results on ` +
    `${percent(TRAFFIC.forgedShare)} of the jobs, at random moments, carrying pairs from other jobs' callbacks`
  );
}

export function deliveryLines(drive: DriveReport, sampler: SamplerFigures): string {
  const { callbacks, forgeries } = drive;
  return [
    `callbacks: ${number(callbacks.sent)} sent, ${number(callbacks.duplicated)} duplicates, ` +
      `${number(callbacks.lost)} lost; answers ${answers(callbacks.answers)}`,
    `forgeries: ${number(forgeries.posted)} posted (${number(forgeries.beforeFinal)} before Smile ID's ` +
      `final result), answers ${answers(forgeries.answers)}` +
      (forgeries.withoutPair > 0 ? `; ${forgeries.withoutPair} skipped, no pair captured yet` : ''),
    `sampling: ${number(sampler.samples)} samples of GET /v1/jobs?updatedSince=…, slowest ` +
      `${number(sampler.slowestMs)} ms (a wrong state shown for less than a second between samples may go unseen)`,
  ].join('\n');
}

/** One row per life, the forged jobs apart, then all. */
export function lifeTable(verdicts: readonly JobVerdict[]): string {
  const groups = [
    ...LIVES.map((life) =>
      groupFigures(
        life,
        verdicts.filter((each) => each.planned.life === life),
      ),
    ),
    groupFigures(
      'forged',
      verdicts.filter((each) => each.planned.forgeries.length > 0),
    ),
    groupFigures('all', verdicts),
  ];
  const rows = [
    [
      'jobs',
      'count',
      'converged',
      'to confirmed p50 s',
      'p99 s',
      'calls/job',
      'calls p99',
      'shown wrong final',
    ],
    ...groups.map((group) => [
      group.label,
      number(group.jobs),
      number(group.converged),
      seconds(group.confirmP50Ms),
      seconds(group.confirmP99Ms),
      number(group.callsPerJob, 2),
      group.callsP99 === undefined ? '-' : number(group.callsP99),
      number(group.wrongFinal),
    ]),
  ];
  return alignedTable(rows);
}

/** The headline figures, each beside its target. */
export function targetTable(verdicts: readonly JobVerdict[], totalCalls: number): string {
  const all = groupFigures('all', verdicts);
  const wrongConfirmed = verdicts.filter((each) => each.wrongConfirmed);
  const wrongFinal = verdicts.filter((each) => each.longestWrongFinalMs > 0);
  const worst = wrongFinal.reduce<JobVerdict | undefined>(
    (found, each) => (found && found.longestWrongFinalMs >= each.longestWrongFinalMs ? found : each),
    undefined,
  );
  const longestMs = worst?.longestWrongFinalMs ?? 0;
  const forgedAmongWrong = wrongFinal.filter((each) => each.planned.forgeries.length > 0).length;
  const stillWrong = wrongFinal.filter((each) => each.wrongFinalAtEnd).length;
  const calls = verdicts.map((each) => each.calls);
  const rows = [
    ['figure', 'value', 'target', ''],
    [
      "jobs converged to Smile ID's final state and confirmed",
      `${number(all.converged)} of ${number(all.jobs)}`,
      'all',
      verdict(all.converged === all.jobs),
    ],
    [
      'jobs ever shown a wrong state with confirmed:true',
      wrongConfirmed.length === 0 ? '0' : `${wrongConfirmed.length} (${sample(wrongConfirmed)})`,
      'none',
      verdict(wrongConfirmed.length === 0),
    ],
    [
      'longest time a job showed a wrong final state',
      worst ? `${seconds(longestMs)} s (${worst.planned.job.jobId}, ${worst.planned.life})` : '0 s',
      `< ${TARGETS.maxWrongFinalSeconds} s`,
      verdict(longestMs < TARGETS.maxWrongFinalSeconds * 1000),
    ],
    [
      '  jobs ever shown a wrong final state',
      `${number(wrongFinal.length)} (${forgedAmongWrong} with forgeries, ${stillWrong} still at the end)`,
      '',
      '',
    ],
    [
      "Smile ID's final result → confirmed:true",
      `p50 ${seconds(all.confirmP50Ms)} s, p99 ${seconds(all.confirmP99Ms)} s`,
      '',
      '',
    ],
    [
      'job_status calls per job',
      `mean ${number(all.callsPerJob, 2)}, p50 ${number(quantile(calls, 0.5) ?? 0)}, ` +
        `p99 ${number(all.callsP99 ?? 0)}, max ${number(Math.max(0, ...calls))} (${number(totalCalls)} calls in all)`,
      '',
      '',
    ],
  ];
  return alignedTable(rows, rows[0]!.length);
}

const sample = (verdicts: readonly JobVerdict[]) =>
  verdicts
    .slice(0, 3)
    .map((each) => each.planned.job.jobId)
    .join(', ') + (verdicts.length > 3 ? ', …' : '');
