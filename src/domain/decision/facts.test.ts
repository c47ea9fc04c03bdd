import { describe, expect, it } from 'vitest';
import type { HeldResult } from '../evidence.js';
import type { ResultFacet } from '../facets.js';
import { emptyOutcome, type JobOutcome } from '../outcome.js';
import { decisionFacts, withoutClaims } from './facts.js';

const CONTEXT = { idType: 'NIN', country: 'NG', stale: false };

const confirmedResult = (facet: Partial<ResultFacet>): HeldResult => ({
  facet: {
    slot: 'result',
    final: true,
    smileJobId: '1',
    state: 'approved',
    resultCode: '1210',
    resultText: 'Enroll User',
    actions: {},
    confidenceValue: 97.5,
    ...facet,
  },
  rank: { final: true, authority: 'job_status', at: 1, hash: 'h' },
  receivedAt: 2,
});

const STATED_BY_JOB_STATUS = { final: true, authority: 'job_status' as const, at: 1, hash: 'h' };
const STATED_BY_CALLBACK = { ...STATED_BY_JOB_STATUS, authority: 'callback' as const };

const outcome = (overrides: Partial<JobOutcome> = {}): JobOutcome => ({
  ...emptyOutcome('job-1'),
  userId: 'user-1',
  state: 'approved',
  isFinal: true,
  confirmed: true,
  resultCode: '1210',
  evidence: { claims: {}, statusFetches: [2], status: confirmedResult({}) },
  ...overrides,
});

describe('decisionFacts', () => {
  it('reads the outcome shown, the confidence of the result shown, and ID type and country from our registration', () => {
    expect(decisionFacts(outcome(), CONTEXT)).toEqual({
      state: 'approved',
      isFinal: true,
      confirmed: true,
      stale: false,
      resultCode: '1210',
      resultCodeKnown: true,
      actions: {},
      jobType: null,
      idType: 'NIN',
      country: 'NG',
      previouslyRegisteredByOthers: 'unknown',
      otherRegistrantUserIds: [],
      smileSecure: 'none',
      suspectUserIds: [],
      confidenceValue: 97.5,
      claimed: [],
    });
  });

  it('counts a code missing from Smile ID’s table, a Smile Secure code, or no code at all as unknown', () => {
    expect(decisionFacts(outcome({ resultCode: '0899' }), CONTEXT).resultCodeKnown).toBe(false);
    expect(decisionFacts(outcome({ resultCode: '5211' }), CONTEXT).resultCodeKnown).toBe(false);
    expect(decisionFacts(outcome({ resultCode: null }), CONTEXT).resultCodeKnown).toBe(false);
  });

  it('does not count the job’s own user among those who registered its ID number before', () => {
    const again = outcome({ idNumberPreviouslyRegistered: true, previousRegistrantUserIds: ['user-1'] });
    expect(decisionFacts(again, CONTEXT)).toMatchObject({
      previouslyRegisteredByOthers: false,
      otherRegistrantUserIds: [],
    });
    const shared = outcome({
      idNumberPreviouslyRegistered: true,
      previousRegistrantUserIds: ['user-1', 'user-2'],
    });
    expect(decisionFacts(shared, CONTEXT)).toMatchObject({
      previouslyRegisteredByOthers: true,
      otherRegistrantUserIds: ['user-2'],
    });
  });

  it('counts an ID number registered before by nobody named as registered by another, and a known no as no', () => {
    const unnamed = outcome({ idNumberPreviouslyRegistered: true, previousRegistrantUserIds: [] });
    expect(decisionFacts(unnamed, CONTEXT).previouslyRegisteredByOthers).toBe(true);
    const fresh = outcome({ idNumberPreviouslyRegistered: false });
    expect(decisionFacts(fresh, CONTEXT).previouslyRegisteredByOthers).toBe(false);
  });

  it('reads Smile Secure’s meaning and the suspects’ user ids', () => {
    const suspected = outcome({
      smileSecureCode: '5211',
      suspectUsers: [{ userId: 'user-s', reason: 'same face' }],
    });
    expect(decisionFacts(suspected, CONTEXT)).toMatchObject({
      smileSecure: 'suspects_found',
      suspectUserIds: ['user-s'],
    });
    expect(decisionFacts(outcome({ smileSecureCode: '5212' }), CONTEXT).smileSecure).toBe('system_error');
  });

  it('knows no confidence for a job without a result', () => {
    expect(decisionFacts(emptyOutcome('job-2'), { idType: null, country: null, stale: true })).toMatchObject({
      state: 'pending',
      confirmed: false,
      stale: true,
      confidenceValue: null,
      idType: null,
    });
  });

  it('marks as claimed what only callbacks said of earlier registrants and of Smile Secure', () => {
    const claimedByCallbacks = outcome({
      idNumberPreviouslyRegistered: false,
      smileSecureCode: '5211',
      suspectUsers: [{ userId: 'user-s', reason: null }],
      ranks: { smileSecure: STATED_BY_CALLBACK },
    });
    expect(decisionFacts(claimedByCallbacks, CONTEXT).claimed).toEqual([
      'previouslyRegisteredByOthers',
      'smileSecure',
    ]);
    const statedByJobStatus = outcome({
      idNumberPreviouslyRegistered: false,
      smileSecureCode: '5211',
      suspectUsers: [{ userId: 'user-s', reason: null }],
      ranks: { smileSecure: STATED_BY_JOB_STATUS },
      evidence: {
        claims: {},
        statusFetches: [2],
        status: confirmedResult({}),
        idRiskRank: STATED_BY_JOB_STATUS,
      },
    });
    expect(decisionFacts(statedByJobStatus, CONTEXT).claimed).toEqual([]);
    // Nothing said at all is not a claim: unknown and no signal are what the job shows without one.
    expect(decisionFacts(outcome(), CONTEXT).claimed).toEqual([]);
  });

  it('reads the facts without their claims as unknown registrants and no Smile Secure signal', () => {
    const claimed = decisionFacts(
      outcome({
        idNumberPreviouslyRegistered: true,
        previousRegistrantUserIds: ['user-2'],
        smileSecureCode: '5211',
        suspectUsers: [{ userId: 'user-s', reason: null }],
        ranks: { smileSecure: STATED_BY_CALLBACK },
      }),
      CONTEXT,
    );
    expect(withoutClaims(claimed)).toEqual({
      ...claimed,
      previouslyRegisteredByOthers: 'unknown',
      otherRegistrantUserIds: [],
      smileSecure: 'none',
      suspectUserIds: [],
      claimed: [],
    });
    const nothingClaimed = decisionFacts(outcome({ idNumberPreviouslyRegistered: null }), CONTEXT);
    expect(withoutClaims(nothingClaimed)).toEqual(nothingClaimed);
  });
});
