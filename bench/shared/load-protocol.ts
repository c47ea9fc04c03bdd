import type { CallbackKind } from './settings.js';

/** What the orchestrator asks of one load-generator process (passed as JSON in argv[2]). */
export interface LoadRequest {
  url: string;
  kind: CallbackKind;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  partnerId: string;
  apiKey: string;
}

/**
 * What any load generator sends back over IPC (the intake's, the API's). Counts cover the measured
 * window only, unless named.
 */
export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  completed: number;
  non2xx: number;
  /** 2xx whose body was not what the request should have answered. */
  unexpected: number;
  socketErrors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** Responses in warm-up and measured window together, to divide the server's CPU time by. */
  completedWithWarmup: number;
}

/** The intake load generator's report. */
export interface LoadReport extends LoadFigures {
  /** 2xx answered `accepted`: a new callback stored. */
  accepted: number;
  /** 2xx answered `duplicate`: the body was seen before, which is cheaper and must not happen here. */
  duplicates: number;
}

export function errorCount(report: LoadFigures): number {
  return report.non2xx + report.unexpected + report.socketErrors + report.timeouts;
}
