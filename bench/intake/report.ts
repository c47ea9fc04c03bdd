import { throughputRatio } from '../shared/checks.js';
import { errorCount } from '../shared/load-protocol.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import type { RunFigures, Scenario } from './scenarios.js';

export interface ScenarioResult {
  scenario: Scenario;
  baseline: RunFigures;
  service: RunFigures;
}

/** The figures of one run as table cells, in the order of TABLE_HEADER. */
function cells(figures: RunFigures): string[] {
  return [
    number(figures.requestsPerSecond),
    number(figures.p50Ms, 1),
    number(figures.p99Ms, 1),
    number(errorCount(figures)),
    number(figures.duplicates),
    number(figures.peakRssMb),
    number(figures.cpuMsPerRequest, 2),
    number(figures.postgresCpuMsPerRequest, 2),
  ];
}

const TABLE_HEADER = [
  'req/s',
  'p50 ms',
  'p99 ms',
  'errors',
  'dup',
  'peak RSS MB',
  'CPU ms/req',
  'PG CPU ms/req',
];

/** One line per run, printed as soon as it ends. */
export function runLine(label: string, figures: RunFigures): string {
  const statuses = Object.entries(figures.statusCodes)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  const values = cells(figures);
  return `  ${label.padEnd(9)} ${TABLE_HEADER.map((name, i) => `${name} ${values[i]}`).join('  ')}  [${statuses}]`;
}

/** The compact table of every run, then each scenario's ratio and targets. */
export function summary(results: readonly ScenarioResult[]): string {
  const rows = [['scenario', 'server', ...TABLE_HEADER]];
  const verdicts: string[] = [];
  for (const { scenario, baseline, service } of results) {
    rows.push([`(${scenario.id})`, 'baseline', ...cells(baseline)]);
    rows.push([`(${scenario.id})`, 'service', ...cells(service)]);
    const checks = scenario
      .checks(service, baseline)
      .map((check) => `${check.label}: ${check.holds ? 'holds' : 'MISSED'}`);
    verdicts.push(
      `(${scenario.id}) ${scenario.title}: service/baseline ${number(throughputRatio(service, baseline), 2)}; ${checks.join('; ')}`,
    );
  }
  return `${alignedTable(rows, 2)}\n\n${verdicts.join('\n')}`;
}
