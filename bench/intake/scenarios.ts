import { type Check, p99Below, ratioAtLeast } from '../shared/checks.js';
import { errorCount, type LoadReport } from '../shared/load-protocol.js';
import type { ServerCosts } from '../shared/processes.js';
import type { CallbackKind } from '../shared/settings.js';

/** One server's figures for one scenario. */
export interface RunFigures extends LoadReport, ServerCosts {}

export interface Scenario {
  id: string;
  title: string;
  kind: CallbackKind;
  connections: number;
  checks(service: RunFigures, baseline: RunFigures): Check[];
}

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
