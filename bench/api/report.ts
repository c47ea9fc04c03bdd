import { throughputRatio } from '../shared/checks.js';
import { errorCount, type LoadFigures } from '../shared/load-protocol.js';
import type { ServerCosts } from '../shared/processes.js';
import { alignedTable, formatNumber as number } from '../shared/table.js';
import type { ApiScenario } from './scenarios.js';

export type ApiRunFigures = LoadFigures & ServerCosts;

export interface ApiScenarioResult {
  scenario: ApiScenario;
  /** The bare baseline's figures, for scenarios measured against it. */
  baseline?: ApiRunFigures;
  service: ApiRunFigures;
}

const HEADER = ['req/s', 'p50 ms', 'p99 ms', 'errors', 'peak RSS MB', 'CPU ms/req', 'PG CPU ms/req'];

function cells(figures: ApiRunFigures): string[] {
  return [
    number(figures.requestsPerSecond),
    number(figures.p50Ms, 1),
    number(figures.p99Ms, 1),
    number(errorCount(figures)),
    number(figures.peakRssMb),
    number(figures.cpuMsPerRequest, 2),
    number(figures.postgresCpuMsPerRequest, 2),
  ];
}

/** One line per run, printed as soon as it ends. */
export function apiRunLine(label: string, figures: ApiRunFigures): string {
  const values = cells(figures);
  const statuses = Object.entries(figures.statusCodes)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
  return `  ${label.padEnd(9)} ${HEADER.map((name, i) => `${name} ${values[i]}`).join('  ')}  [${statuses}]`;
}

/** The table of each scenario's median runs, then its ratio to its reference and its targets. */
export function apiSummary(results: readonly ApiScenarioResult[]): string {
  const rows = [['scenario', 'server', ...HEADER]];
  const verdicts: string[] = [];
  const plainRead = results.find((result) => result.scenario.id === 'read')?.service;
  for (const { scenario, baseline, service } of results) {
    if (baseline) rows.push([`(${scenario.id})`, 'baseline', ...cells(baseline)]);
    rows.push([`(${scenario.id})`, 'service', ...cells(service)]);
    const reference = scenario.reference === 'baseline' ? baseline : plainRead;
    if (!reference) {
      verdicts.push(`(${scenario.id}) ${scenario.title}: no ${scenario.reference} run to compare with`);
      continue;
    }
    const against = scenario.reference === 'baseline' ? 'service/baseline' : 'include=idInfo / plain read';
    const checks = scenario
      .checks(service, reference)
      .map((check) => `; ${check.label}: ${check.holds ? 'holds' : 'MISSED'}`)
      .join('');
    const latency =
      scenario.reference === 'read'
        ? `; p99 ${number(service.p99Ms, 1)} ms vs ${number(reference.p99Ms, 1)} ms`
        : '';
    verdicts.push(
      `(${scenario.id}) ${scenario.title}: ${against} ${number(throughputRatio(service, reference), 2)}${latency}${checks}`,
    );
  }
  return `${alignedTable(rows, 2)}\n\n${verdicts.join('\n')}`;
}
