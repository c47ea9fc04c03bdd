import { describe, expect, it } from 'vitest';
import type { HeldResult } from '../evidence.js';
import { emptyOutcome, type JobOutcome } from '../outcome.js';
import { decisionChanged, initialDecision, type JobDecision, redecide } from './job-decision.js';
import type { PolicyInUse } from './policy.js';

const POLICY: PolicyInUse = {
  version: 'test@000000000001',
  policy: {
    name: 'test',
    rules: [{ id: 'approved', when: { state: ['approved'] }, decision: 'approve', reasons: ['approved'] }],
    fallback: { decision: 'review', reasons: ['no_rule_matched'] },
  },
};
const NEXT: PolicyInUse = { ...POLICY, version: 'test@000000000002' };
const T1 = new Date('2026-01-01T00:00:00Z');
const T2 = new Date('2026-01-02T00:00:00Z');
const CONTEXT = { idType: null, country: null, stale: false };

const status: HeldResult = {
  facet: {
    slot: 'result',
    final: true,
    smileJobId: '1',
    state: 'approved',
    resultCode: '1210',
    resultText: null,
    actions: {},
  },
  rank: { final: true, authority: 'job_status', at: 1, hash: 'h' },
  receivedAt: 1,
};
const approved: JobOutcome = {
  ...emptyOutcome('job-1'),
  state: 'approved',
  isFinal: true,
  confirmed: true,
  resultCode: '1210',
  evidence: { claims: {}, statusFetches: [1], status },
};

describe('redecide', () => {
  it('decides afresh from the outcome, as the policy’s decision, at the time given', () => {
    expect(redecide(approved, { ...CONTEXT, decision: initialDecision(POLICY, T1) }, POLICY, T2)).toEqual({
      value: 'approve',
      reasons: ['approved'],
      details: {},
      rule: 'approved',
      source: 'policy',
      policyVersion: POLICY.version,
      decidedAt: T2,
    });
  });

  it('keeps when the decision was made when the answer is the same, taking the new policy version', () => {
    const first = redecide(approved, { ...CONTEXT, decision: null }, POLICY, T1);
    const again = redecide(approved, { ...CONTEXT, decision: first }, NEXT, T2);
    expect(again).toEqual({ ...first, policyVersion: NEXT.version });
    expect(decisionChanged(first, again)).toBe(false);
  });
});

describe('decisionChanged', () => {
  const pending = initialDecision(POLICY, T1);
  const decision = (overrides: Partial<JobDecision>): JobDecision => ({ ...pending, ...overrides });

  it('sees a change of value, reasons, rule or source', () => {
    const approve = decision({ value: 'approve', reasons: ['approved'], rule: 'approved' });
    expect(decisionChanged(pending, approve)).toBe(true);
    expect(decisionChanged(approve, { ...approve, reasons: ['other'] })).toBe(true);
    expect(decisionChanged(approve, { ...approve, source: 'operator' })).toBe(true);
    const later: JobDecision = { ...approve, decidedAt: T2, policyVersion: NEXT.version };
    expect(decisionChanged(approve, later)).toBe(false);
  });

  it('sees nothing to act on between two pending decisions, nor in a new job’s pending one', () => {
    expect(
      decisionChanged(
        pending,
        decision({ reasons: ['awaiting_confirmation'], rule: 'awaiting_confirmation' }),
      ),
    ).toBe(false);
    expect(decisionChanged(null, pending)).toBe(false);
    expect(decisionChanged(null, decision({ value: 'review' }))).toBe(true);
  });
});
