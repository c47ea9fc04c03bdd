import type { DecisionDetails } from '../../domain/decision/decide.js';
import type { DecisionFacts } from '../../domain/decision/facts.js';
import type { JobDecision } from '../../domain/decision/job-decision.js';
import type { DecisionSource, DecisionValue } from '../../domain/decision/policy.js';
import { type Columns, columnList, keysOf, parameterList, selectList } from '../sql.js';

/**
 * The columns of `jobs` that hold its decision, defined once; the fields are Prisma's names for them, so a
 * row read by SQL or by Prisma decodes alike.
 */
export const DECISION_COLUMNS = {
  decision: { name: 'decision', type: 'job_decision' },
  decisionReasons: { name: 'decision_reasons', type: 'text[]' },
  decisionDetails: { name: 'decision_details', type: 'jsonb' },
  decisionSource: { name: 'decision_source', type: 'text' },
  decisionRule: { name: 'decision_rule', type: 'text' },
  decisionPolicyVersion: { name: 'decision_policy_version', type: 'text' },
  decidedAt: { name: 'decided_at', type: 'timestamptz' },
  decisionBasis: { name: 'decision_basis', type: 'jsonb' },
} as const satisfies Columns<string>;

export type DecisionField = keyof typeof DECISION_COLUMNS;

export const DECISION_FIELDS = keysOf(DECISION_COLUMNS);
export const DECISION_COLUMN_LIST = columnList(DECISION_COLUMNS);
export const DECISION_PARAMETERS = parameterList(DECISION_COLUMNS);

/** `j.decision AS "decision", …`. */
export const decisionSelectList = (alias: string) => selectList(DECISION_COLUMNS, alias);

export function decodeDecision(row: Readonly<Record<string, unknown>>): JobDecision {
  return {
    value: row.decision as DecisionValue,
    reasons: (row.decisionReasons as string[] | null) ?? [],
    details: (row.decisionDetails as DecisionDetails | null) ?? {},
    source: row.decisionSource as DecisionSource,
    rule: row.decisionRule as string,
    policyVersion: (row.decisionPolicyVersion as string | null) ?? null,
    decidedAt: row.decidedAt as Date,
    ...(row.decisionBasis ? { basis: basisOf(row.decisionBasis) } : {}),
  };
}

/** A basis kept before facts said which were claimed reads as the facts the person saw, none claimed. */
function basisOf(stored: unknown): DecisionFacts {
  const basis = stored as Partial<DecisionFacts> & Omit<DecisionFacts, 'claimed'>;
  return { ...basis, claimed: basis.claimed ?? [] };
}

/** The decision as parameter values keyed by field, JSON as text. */
export function encodeDecision(decision: JobDecision): Record<DecisionField, unknown> {
  return {
    decision: decision.value,
    decisionReasons: decision.reasons,
    decisionDetails: JSON.stringify(decision.details),
    decisionSource: decision.source,
    decisionRule: decision.rule,
    decisionPolicyVersion: decision.policyVersion,
    decidedAt: decision.decidedAt,
    decisionBasis: decision.basis === undefined ? null : JSON.stringify(decision.basis),
  };
}
