import { errorCount, type LoadFigures, type LoadReport } from './load-protocol.js';
import type { ServerCosts } from './processes.js';
import type { CallbackKind } from './settings.js';

/** One server's figures for one scenario. */
export interface RunFigures extends LoadReport, ServerCosts {}

export interface Check {
  label: string;
  holds: boolean;
}

export interface Scenario {
  id: string;
  title: string;
  kind: CallbackKind;
  connections: number;
  checks(service: RunFigures, baseline: RunFigures): Check[];
}

export function throughputRatio(service: LoadFigures, baseline: LoadFigures): number {
  return baseline.requestsPerSecond === 0 ? 0 : service.requestsPerSecond / baseline.requestsPerSecond;
}

export const ratioAtLeast = (minimum: number) => (service: LoadFigures, baseline: LoadFigures) => ({
  label: `ratio ≥ ${minimum}`,
  holds: throughputRatio(service, baseline) >= minimum,
});

export const p99Below = (ms: number) => (service: LoadFigures) => ({
  label: `p99 < ${ms} ms`,
  holds: service.p99Ms < ms,
});

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'a',
    title: 'small result callbacks, 32 connections',
    kind: 'result',
    connections: 32,
    checks: (service, baseline) => [ratioAtLeast(0.6)(service, baseline), p99Below(50)(service)],
  },
  {
    id: 'b',
    title: '1.4 MB ID callbacks, 4 connections',
    kind: 'id-info',
    connections: 4,
    checks: (service, baseline) => [ratioAtLeast(0.8)(service, baseline), p99Below(250)(service)],
  },
  {
    id: 'c',
    title: '1.4 MB ID callbacks, 32 connections (memory)',
    kind: 'id-info',
    connections: 32,
    checks: (service) => [
      { label: 'peak RSS < 400 MB', holds: service.peakRssMb < 400 },
      { label: 'no errors', holds: errorCount(service) === 0 && service.duplicates === 0 },
    ],
  },
];
