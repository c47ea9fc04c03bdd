import type { LoadFigures } from './load-protocol.js';

/** One judgement a bench prints beside its figures: what was required, and whether it held. */
export interface Check {
  label: string;
  holds: boolean;
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
