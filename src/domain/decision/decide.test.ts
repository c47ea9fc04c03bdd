import { describe, expect, it } from 'vitest';
import { decide, sameAnswer } from './decide.js';
import type { DecisionFacts } from './facts.js';
import type { Policy } from './policy.js';

/** A confirmed, final approval with nothing else known: what most rules are written against. */
const facts = (overrides: Partial<DecisionFacts> = {}): DecisionFacts => ({
  state: 'approved',
  isFinal: true,
  confirmed: true,
  stale: false,
  resultCode: '1210',
  resultCodeKnown: true,
  actions: { Liveness_Check: 'Passed' },
  jobType: 1,
  idType: 'NIN',
  country: 'NG',
  previouslyRegisteredByOthers: false,
  otherRegistrantUserIds: [],
  smileSecure: 'none',
  suspectUserIds: [],
  confidenceValue: 99,
  claimed: [],
  ...overrides,
});

const policy = (rules: Policy['rules']): Policy => ({
  name: 'test',
  rules,
  fallback: { decision: 'review', reasons: ['no_rule_matched'] },
});

const rule = (
  id: string,
  when: Policy['rules'][number]['when'],
  decision: Policy['rules'][number]['decision'],
) => ({
  id,
  when,
  decision,
  reasons: [id],
});

describe('decide', () => {
  it('lets the first rule whose conditions all hold decide, in the order written', () => {
    const rules = policy([
      rule('approved_in_ghana', { state: ['approved'], country: ['GH'] }, 'approve'),
      rule('approved', { state: ['approved'] }, 'review'),
      rule('approved_too', { state: ['approved'] }, 'approve'),
    ]);
    expect(decide(rules, facts())).toEqual({
      value: 'review',
      reasons: ['approved'],
      details: {},
      rule: 'approved',
    });
    expect(decide(rules, facts({ country: 'GH' })).rule).toBe('approved_in_ghana');
  });

  it('falls back when no rule holds', () => {
    expect(decide(policy([rule('rejected', { state: ['rejected'] }, 'reject')]), facts())).toEqual({
      value: 'review',
      reasons: ['no_rule_matched'],
      details: {},
      rule: 'fallback',
    });
  });

  it('decides pending for a result job_status has not confirmed, whatever the rules say', () => {
    const approveAll = policy([rule('everything', {}, 'approve')]);
    expect(decide(approveAll, facts({ confirmed: false }))).toEqual({
      value: 'pending',
      reasons: ['awaiting_confirmation'],
      details: {},
      rule: 'awaiting_confirmation',
    });
    expect(decide(approveAll, facts({ state: 'rejected', confirmed: false })).value).toBe('pending');
  });

  it('decides pending with no result yet, and says when the job went stale without one', () => {
    const approveAll = policy([rule('everything', {}, 'approve')]);
    expect(decide(approveAll, facts({ state: 'pending', isFinal: false, confirmed: false })).rule).toBe(
      'no_result',
    );
    expect(
      decide(approveAll, facts({ state: 'pending', isFinal: false, confirmed: false, stale: true })).reasons,
    ).toEqual(['no_result', 'stale']);
  });

  it('names the other registrants when a rule read whether others registered the ID number', () => {
    const rules = policy([
      rule('shared_id', { previouslyRegisteredByOthers: [true] }, 'review'),
      rule('approved', { state: ['approved'] }, 'approve'),
    ]);
    const shared = facts({
      previouslyRegisteredByOthers: true,
      otherRegistrantUserIds: ['user-a', 'user-b'],
    });
    expect(decide(rules, shared)).toMatchObject({
      value: 'review',
      details: { previousRegistrantUserIds: ['user-a', 'user-b'] },
    });
    // A rule that did not look at them does not name them.
    expect(decide(policy([rule('approved', { state: ['approved'] }, 'approve')]), shared).details).toEqual(
      {},
    );
  });

  it('names the suspects when a rule read Smile Secure', () => {
    const rules = policy([rule('suspects', { smileSecure: ['suspects_found'] }, 'review')]);
    const suspected = facts({ smileSecure: 'suspects_found', suspectUserIds: ['user-s'] });
    expect(decide(rules, suspected).details).toEqual({ suspectUserIds: ['user-s'] });
    const counted = policy([rule('many', { suspectUsers: { atLeast: 1 } }, 'review')]);
    expect(decide(counted, suspected).details).toEqual({ suspectUserIds: ['user-s'] });
  });
});

describe('decide on claims job_status has not confirmed', () => {
  /** policies/examples/strict.yaml in short: a shared or unknown ID number is reviewed, else approved. */
  const strict = policy([
    rule(
      'id_number_shared',
      { state: ['approved'], previouslyRegisteredByOthers: [true, 'unknown'] },
      'review',
    ),
    rule('clear_exact_match', { state: ['approved'], resultCode: ['1210'] }, 'approve'),
  ]);
  const rejectsSuspects = policy([
    rule('suspects', { smileSecure: ['suspects_found'] }, 'reject'),
    rule('approved', { state: ['approved'] }, 'approve'),
  ]);

  it('sends to review an approval that only a claim job_status has not confirmed gives, even through a rule that does not read it', () => {
    const claimedFresh = facts({ claimed: ['previouslyRegisteredByOthers'] });
    expect(decide(strict, claimedFresh)).toEqual({
      value: 'review',
      reasons: ['unconfirmed_claim', 'clear_exact_match'],
      details: {},
      rule: 'unconfirmed_claim',
    });
    // Confirmed by job_status, the same fact approves.
    expect(decide(strict, facts()).value).toBe('approve');
  });

  it('sends to review a rejection that only claimed suspects give, naming them', () => {
    const claimedSuspects = facts({
      smileSecure: 'suspects_found',
      suspectUserIds: ['user-s'],
      claimed: ['smileSecure'],
    });
    expect(decide(rejectsSuspects, claimedSuspects)).toEqual({
      value: 'review',
      reasons: ['unconfirmed_claim', 'suspects'],
      details: { suspectUserIds: ['user-s'] },
      rule: 'unconfirmed_claim',
    });
    expect(decide(rejectsSuspects, { ...claimedSuspects, claimed: [] }).value).toBe('reject');
  });

  it('lets a claim send a job to review or keep it pending as the policy says', () => {
    const reviewsSuspects = policy([
      rule('suspects', { smileSecure: ['suspects_found'] }, 'review'),
      rule('approved', { state: ['approved'] }, 'approve'),
    ]);
    const claimedSuspects = facts({
      smileSecure: 'suspects_found',
      suspectUserIds: ['user-s'],
      claimed: ['smileSecure'],
    });
    expect(decide(reviewsSuspects, claimedSuspects)).toEqual({
      value: 'review',
      reasons: ['suspects'],
      details: { suspectUserIds: ['user-s'] },
      rule: 'suspects',
    });
    const waits = policy([rule('wait', { smileSecure: ['system_error'] }, 'pending')]);
    expect(decide(waits, facts({ smileSecure: 'system_error', claimed: ['smileSecure'] })).value).toBe(
      'pending',
    );
  });

  it('keeps the policy’s answer when the claims do not change the decision', () => {
    const claimedNoSuspects = facts({ smileSecure: 'no_suspects', claimed: ['smileSecure'] });
    expect(decide(rejectsSuspects, claimedNoSuspects)).toMatchObject({ value: 'approve', rule: 'approved' });
    const registeredBefore = facts({
      previouslyRegisteredByOthers: true,
      otherRegistrantUserIds: ['user-a'],
      claimed: ['previouslyRegisteredByOthers'],
    });
    expect(decide(strict, registeredBefore)).toMatchObject({ value: 'review', rule: 'id_number_shared' });
  });
});

describe('conditions', () => {
  const holds = (when: Policy['rules'][number]['when'], overrides: Partial<DecisionFacts> = {}) =>
    decide(policy([rule('r', when, 'approve')]), facts(overrides)).rule === 'r';

  it('matches result codes exactly or by a prefix ending in *', () => {
    expect(holds({ resultCode: ['1210'] })).toBe(true);
    expect(holds({ resultCode: ['12*'] })).toBe(true);
    expect(holds({ resultCode: ['121'] })).toBe(false);
    expect(holds({ resultCode: ['08*', '1015'] })).toBe(false);
    expect(holds({ resultCode: ['*'] }, { resultCode: null })).toBe(false);
  });

  it('reads an action by name, or any action with the name *', () => {
    expect(holds({ actions: { Liveness_Check: ['Passed', 'Completed'] } })).toBe(true);
    expect(holds({ actions: { Liveness_Check: ['Failed'] } })).toBe(false);
    expect(holds({ actions: { Verify_ID_Number: ['Verified'] } })).toBe(false);
    expect(holds({ actions: { '*': ['Passed'] } })).toBe(true);
    expect(holds({ actions: { '*': ['Under Review'] } })).toBe(false);
  });

  it('compares confidence and suspect counts with their bounds, and no bound holds for an absent confidence', () => {
    expect(holds({ confidenceValue: { atLeast: 99 } })).toBe(true);
    expect(holds({ confidenceValue: { above: 99 } })).toBe(false);
    expect(holds({ confidenceValue: { below: 99.5, atLeast: 90 } })).toBe(true);
    expect(holds({ confidenceValue: { below: 100 } }, { confidenceValue: null })).toBe(false);
    expect(holds({ suspectUsers: { atMost: 0 } })).toBe(true);
    expect(holds({ suspectUsers: { atLeast: 2 } }, { suspectUserIds: ['a', 'b'] })).toBe(true);
  });

  it('reads job type, ID type and country as our registration gave them, and absent as matching none', () => {
    expect(holds({ jobType: [1, 4], idType: ['NIN'], country: ['NG'] })).toBe(true);
    expect(holds({ country: ['NG'] }, { country: null })).toBe(false);
    expect(holds({ jobType: [4] })).toBe(false);
  });

  it('tells a known answer from an unknown one about previously registered ID numbers', () => {
    expect(
      holds({ previouslyRegisteredByOthers: ['unknown'] }, { previouslyRegisteredByOthers: 'unknown' }),
    ).toBe(true);
    expect(holds({ previouslyRegisteredByOthers: [true, 'unknown'] })).toBe(false);
  });

  it('requires every condition of a rule', () => {
    expect(holds({ state: ['approved'], isFinal: true, stale: false, resultCodeKnown: true })).toBe(true);
    expect(holds({ state: ['approved'], isFinal: false })).toBe(false);
  });
});

describe('sameAnswer', () => {
  const answer = { value: 'review' as const, reasons: ['shared_id'], details: {}, rule: 'shared_id' };

  it('tells answers apart by value, reasons, rule and the users they name', () => {
    expect(sameAnswer(answer, { ...answer })).toBe(true);
    expect(sameAnswer(answer, { ...answer, value: 'approve' })).toBe(false);
    expect(sameAnswer(answer, { ...answer, rule: 'other' })).toBe(false);
    expect(sameAnswer(answer, { ...answer, reasons: ['other'] })).toBe(false);
    expect(sameAnswer(answer, { ...answer, details: { previousRegistrantUserIds: ['user-a'] } })).toBe(false);
  });
});
