import { describe, expect, it } from 'vitest';
import { initialDecision, type JobDecision } from '../domain/decision/job-decision.js';
import type { PolicyInUse } from '../domain/decision/policy.js';
import type { HeldResult } from '../domain/evidence.js';
import type { JobState } from '../domain/facets.js';
import { emptyOutcome } from '../domain/outcome.js';
import { type CheckedJob, createPolicyCheck, formatReport } from './policy-check.js';

const AT = new Date('2026-12-08T00:00:00Z');

const candidate: PolicyInUse = {
  version: 'strict@000000000002',
  policy: {
    name: 'strict',
    rules: [
      {
        id: 'served',
        when: { state: ['approved'], country: ['NG'] },
        decision: 'approve',
        reasons: ['served'],
      },
      { id: 'rejected', when: { state: ['rejected'] }, decision: 'reject', reasons: ['rejected'] },
    ],
    fallback: { decision: 'review', reasons: ['not_clearly_approved'] },
  },
};

const confirmed = (state: Exclude<JobState, 'pending'>): HeldResult => ({
  facet: {
    slot: 'result',
    final: true,
    smileJobId: '1',
    state,
    resultCode: '1210',
    resultText: null,
    actions: {},
  },
  rank: { final: true, authority: 'job_status', at: 1, hash: 'h' },
  receivedAt: 1,
});

const decided = (
  value: JobDecision['value'],
  rule: string,
  source: JobDecision['source'] = 'policy',
): JobDecision => ({
  value,
  reasons: [rule],
  details: {},
  rule,
  source,
  policyVersion: 'default@000000000001',
  decidedAt: AT,
});

const job = (
  state: Exclude<JobState, 'pending'>,
  country: string | null,
  decision: JobDecision,
): CheckedJob => ({
  outcome: {
    ...emptyOutcome(`job-${Math.random()}`),
    state,
    isFinal: true,
    confirmed: true,
    resultCode: '1210',
    evidence: { claims: {}, statusFetches: [1], status: confirmed(state) },
  },
  idType: null,
  country,
  staleAt: null,
  decision,
});

describe('policy check', () => {
  const check = createPolicyCheck(candidate);
  check.add(job('approved', 'NG', decided('approve', 'approved')));
  check.add(job('approved', 'NG', decided('approve', 'approved')));
  check.add(job('approved', 'GH', decided('approve', 'approved')));
  check.add(job('rejected', null, decided('reject', 'rejected')));
  check.add(job('approved', null, decided('reject', 'rejected', 'operator')));
  check.add(job('approved', null, initialDecision({ version: 'default@000000000001' }, AT)));
  const report = check.report();

  it('counts the decisions that would change, from what to what and by which rule, leaving a person’s alone', () => {
    expect(report).toMatchObject({ jobs: 6, byOperator: 1, changed: 4 });
    expect([...report.transitions.values()]).toEqual([
      { from: 'approve', to: 'approve', jobs: 2, byRule: new Map([['served', 2]]) },
      { from: 'approve', to: 'review', jobs: 1, byRule: new Map([['fallback', 1]]) },
      { from: 'pending', to: 'review', jobs: 1, byRule: new Map([['fallback', 1]]) },
    ]);
    expect(report.rules).toEqual(
      new Map([
        ['served', { jobs: 2, changed: 2 }],
        ['rejected', { jobs: 1, changed: 0 }],
        ['fallback', { jobs: 2, changed: 2 }],
      ]),
    );
  });

  it('prints the policy’s version, the counts, each change and each rule', () => {
    const text = formatReport(report, candidate, 'strict.yaml', 'default@000000000001');
    expect(text).toContain('strict.yaml: valid, strict@000000000002 (2 rules and a fallback)');
    expect(text).toContain('Replayed over 6 stored jobs (outcomes only)');
    expect(text).toContain('  1 would keep their decision\n  4 would change\n  1 decided by a person');
    expect(text).toMatch(/ {2}approve → approve +2 {3}by rule: served 2\n/);
    expect(text).toMatch(/ {2}fallback +2 +2\n/);
  });

  it('counts as kept what the replay keeps: a review reopened after a person’s decision, whatever the candidate says', () => {
    const reopened: JobDecision = {
      ...decided('review', 'evidence_changed_since_review'),
      reasons: ['evidence_changed_since_review', 'rejected'],
    };
    const alone = createPolicyCheck(candidate);
    alone.add(job('approved', 'NG', reopened));
    expect(alone.report()).toMatchObject({ jobs: 1, byOperator: 0, changed: 0 });
    expect(alone.report().rules.get('evidence_changed_since_review')).toEqual({ jobs: 1, changed: 0 });
  });
});
