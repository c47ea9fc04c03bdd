import { type Check, p99Below, ratioAtLeast } from '../shared/checks.js';
import type { WindowOptions } from '../shared/load-generator.js';
import type { LoadFigures } from '../shared/load-protocol.js';

export const API_SCENARIO_IDS = ['read', 'list', 'idinfo'] as const;
export type ApiScenarioId = (typeof API_SCENARIO_IDS)[number];

/** Bearer tokens the bench gives the service and sends. */
export const BENCH_TOKENS = { api: 'bench-api-token', pii: 'bench-pii-token' } as const;

/** The filter of the list scenario: the largest state, final, a page of 50. */
export const LIST_QUERY = 'state=approved&isFinal=true&limit=50';

/** How the API load generator draws each request's path. */
export type PathSource =
  | { kind: 'job'; jobs: number; withIdInfo: boolean; query: string }
  | { kind: 'list'; query: string; cursors: string[] };

/** What the orchestrator asks of bench/api/load.ts (passed as JSON in argv[2]). */
export interface ApiLoadRequest extends WindowOptions {
  token: string;
  paths: PathSource;
  /** Text every 2xx body must contain, or it counts as unexpected. */
  expect: string;
}

export interface ApiScenario {
  id: ApiScenarioId;
  title: string;
  connections: number;
  /** Measured against the bare baseline, or against another scenario on the service. */
  reference: 'baseline' | 'read';
  token: keyof typeof BENCH_TOKENS;
  expect: string;
  checks(service: LoadFigures, reference: LoadFigures): Check[];
}

export const API_SCENARIOS: readonly ApiScenario[] = [
  {
    id: 'read',
    title: 'GET /v1/jobs/:jobId, random jobs, 32 connections',
    connections: 32,
    reference: 'baseline',
    token: 'api',
    expect: '"jobId"',
    checks: (service, baseline) => [ratioAtLeast(0.7)(service, baseline), p99Below(20)(service)],
  },
  {
    id: 'list',
    title: `GET /v1/jobs?${LIST_QUERY}, random pages by cursor, 32 connections`,
    connections: 32,
    reference: 'baseline',
    token: 'api',
    expect: '"items"',
    checks: (service, baseline) => [ratioAtLeast(0.5)(service, baseline), p99Below(50)(service)],
  },
  {
    id: 'idinfo',
    title: 'GET /v1/jobs/:jobId?include=idInfo (PII token: audited, opened), 32 connections',
    connections: 32,
    reference: 'read',
    token: 'pii',
    expect: '"idInfo"',
    // No target: the cost of identity data is reported, as a ratio to the plain read.
    checks: () => [],
  },
];
