import { describe, expect, it } from 'vitest';
import type { HeldResult } from '../evidence.js';
import { emptyOutcome, type JobOutcome } from '../outcome.js';
import type { DecisionFacts } from './facts.js';
import { decisionChanged, type JobDecision, redecide } from './job-decision.js';
import type { PolicyInUse } from './policy.js';
import {
  afterOperatorDecision,
  inReview,
  operatorDecision,
  reopenedReview,
  reviewReopened,
} from './review.js';

const POLICY: PolicyInUse = {
  version: 'test@000000000001',
  policy: {
    name: 'test',
    rules: [
      {
        id: 'suspects',
        when: { state: ['approved'], smileSecure: ['suspects_found'] },
        decision: 'review',
        reasons: ['smile_secure_suspects'],
      },
      { id: 'approved', when: { state: ['approved'] }, decision: 'approve', reasons: ['approved'] },
      { id: 'rejected', when: { state: ['rejected'] }, decision: 'reject', reasons: ['rejected'] },
    ],
    fallback: { decision: 'review', reasons: ['no_rule_matched'] },
  },
};
const NEXT: PolicyInUse = { ...POLICY, version: 'test@000000000002' };
const T1 = new Date('2026-01-01T00:00:00Z');
const T2 = new Date('2026-01-02T00:00:00Z');
const T3 = new Date('2026-01-03T00:00:00Z');
const CONTEXT = { idType: null, country: null, stale: false };

/** A confirmed, final approval in which Smile Secure found one suspect. */
const facts = (overrides: Partial<DecisionFacts> = {}): DecisionFacts => ({
  state: 'approved',
  isFinal: true,
  confirmed: true,
  stale: false,
  resultCode: '1210',
  resultCodeKnown: true,
  actions: {},
  jobType: 1,
  idType: null,
  country: null,
  previouslyRegisteredByOthers: false,
  otherRegistrantUserIds: [],
  smileSecure: 'suspects_found',
  suspectUserIds: ['user-suspect'],
  confidenceValue: null,
  claimed: [],
  ...overrides,
});

const inReviewForSuspects: JobDecision = {
  value: 'review',
  reasons: ['smile_secure_suspects'],
  details: { suspectUserIds: ['user-suspect'] },
  rule: 'suspects',
  source: 'policy',
  policyVersion: POLICY.version,
  decidedAt: T1,
};

/** A job's outcome as job_status confirmed it: `state`, with Smile Secure's code and suspects. */
function confirmed(state: 'approved' | 'rejected', suspects: string[], confirmedFlag = true): JobOutcome {
  const status: HeldResult = {
    facet: {
      slot: 'result',
      final: true,
      smileJobId: '1',
      state,
      resultCode: state === 'approved' ? '1210' : '1220',
      resultText: null,
      actions: {},
    },
    rank: { final: true, authority: 'job_status', at: 1, hash: 'h' },
    receivedAt: 1,
  };
  return {
    ...emptyOutcome('job-1'),
    userId: 'user-1',
    jobType: 1,
    state,
    isFinal: true,
    confirmed: confirmedFlag,
    resultCode: status.facet.slot === 'result' ? status.facet.resultCode : null,
    smileSecureCode: suspects.length > 0 ? '5211' : '5210',
    suspectUsers: suspects.map((userId) => ({ userId, reason: null })),
    evidence: { claims: {}, statusFetches: [1], status },
  };
}

const approvedByPerson = operatorDecision(
  inReviewForSuspects,
  facts(),
  { decision: 'approve', reason: 'suspect_is_a_relative' },
  T2,
)!;

describe('operatorDecision', () => {
  it('is the person’s decision and reason, keeping the users and rule of the review and the facts seen', () => {
    expect(approvedByPerson).toEqual({
      value: 'approve',
      reasons: ['suspect_is_a_relative'],
      details: { suspectUserIds: ['user-suspect'] },
      rule: 'suspects',
      source: 'operator',
      policyVersion: POLICY.version,
      decidedAt: T2,
      basis: facts(),
    });
    expect(decisionChanged(inReviewForSuspects, approvedByPerson)).toBe(true);
  });

  it('refuses a job that is not in review', () => {
    const approve = { ...inReviewForSuspects, value: 'approve' as const };
    expect(operatorDecision(approve, facts(), { decision: 'reject', reason: 'fraud' }, T2)).toBeNull();
    expect(
      operatorDecision(approvedByPerson, facts(), { decision: 'reject', reason: 'fraud' }, T2),
    ).toBeNull();
    expect(inReview(inReviewForSuspects)).toBe(true);
  });
});

describe('afterOperatorDecision', () => {
  it('lets the person’s decision stand when the policy answers the new facts as it answered the old', () => {
    const sameAnswer = facts({ confidenceValue: 97, suspectUserIds: ['user-suspect'] });
    expect(afterOperatorDecision(approvedByPerson, sameAnswer, NEXT, T3)).toBe(approvedByPerson);
  });

  it('lets it stand when what changed is not confirmed by job_status', () => {
    const claimed = facts({ state: 'rejected', resultCode: '1220', confirmed: false });
    expect(afterOperatorDecision(approvedByPerson, claimed, POLICY, T3)).toBe(approvedByPerson);
  });

  it('lets it stand when the policy’s new answer is the person’s own decision', () => {
    const cleared = facts({ smileSecure: 'no_suspects', suspectUserIds: [] });
    expect(afterOperatorDecision(approvedByPerson, cleared, POLICY, T3)).toBe(approvedByPerson);
  });

  it('sends the job back to review, saying why and what the policy says now, when confirmed evidence changes its answer', () => {
    const rejectedByPerson = operatorDecision(
      inReviewForSuspects,
      facts(),
      { decision: 'reject', reason: 'suspect_confirmed' },
      T2,
    )!;
    const cleared = facts({ smileSecure: 'no_suspects', suspectUserIds: [] });
    const reopened = afterOperatorDecision(rejectedByPerson, cleared, NEXT, T3);
    expect(reopened).toEqual({
      value: 'review',
      reasons: ['evidence_changed_since_review', 'approved'],
      details: {},
      rule: 'evidence_changed_since_review',
      source: 'policy',
      policyVersion: NEXT.version,
      decidedAt: T3,
    });
    expect(reopenedReview(reopened)).toBe(true);
    expect(reviewReopened(rejectedByPerson, reopened)).toBe(true);
    expect(reviewReopened(inReviewForSuspects, reopened)).toBe(false);
    expect(decisionChanged(rejectedByPerson, reopened)).toBe(true);
  });
});

describe('redecide after a person decided', () => {
  const approved = (suspects: string[], confirmedFlag = true) =>
    confirmed('approved', suspects, confirmedFlag);

  it('keeps the person’s decision through an unrelated re-derivation, under any policy version', () => {
    const again = redecide(approved(['user-suspect']), { ...CONTEXT, decision: approvedByPerson }, NEXT, T3);
    expect(again).toBe(approvedByPerson);
  });

  it('reopens the review when Smile ID confirms a rejection, and keeps it reopened whatever comes next', () => {
    const rejected = confirmed('rejected', ['user-suspect']);
    const reopened = redecide(rejected, { ...CONTEXT, decision: approvedByPerson }, POLICY, T3);
    expect(reopened).toMatchObject({
      value: 'review',
      reasons: ['evidence_changed_since_review', 'rejected'],
      source: 'policy',
    });
    const later = new Date('2026-01-04T00:00:00Z');
    const afterwards = redecide(approved([]), { ...CONTEXT, decision: reopened }, NEXT, later);
    expect(afterwards).toEqual({ ...reopened, policyVersion: NEXT.version });
  });

  it('keeps the person’s decision while a rejection is only claimed', () => {
    const claimed = confirmed('rejected', ['user-suspect'], false);
    expect(redecide(claimed, { ...CONTEXT, decision: approvedByPerson }, POLICY, T3)).toBe(approvedByPerson);
  });
});
