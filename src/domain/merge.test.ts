import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../decide/policy-file.js';
import {
  idInfoCallback,
  idNotFoundCallback,
  resultCallback,
  simulatedJob,
  smileSecureCallback,
} from '../simulator/callbacks.js';
import { classifyBody } from '../smileid/classify.js';
import { type JobDecision, redecide } from './decision/job-decision.js';
import type { PolicyInUse } from './decision/policy.js';
import { claimStanding } from './evidence.js';
import type { Authority } from './facets.js';
import { mergeObservation, transitionBetween } from './merge.js';
import { emptyOutcome, type JobOutcome, type Observation } from './outcome.js';

const job = simulatedJob({ jobId: 'job-merge' });
const T0 = Date.UTC(2024, 0, 1, 12);
const MINUTE = 60_000;

interface ObserveOptions {
  authority?: Authority;
  /** The body's own timestamp. */
  at?: number;
  receivedAt?: Date;
  trusted?: boolean;
}

/** An observation exactly as intake builds one: timestamp in the body, classified, hashed. */
function observe(body: Record<string, unknown>, options: ObserveOptions = {}): Observation {
  const { authority = 'callback', at = T0, receivedAt = new Date(at + 1_000), trusted = true } = options;
  const signed = { ...body, timestamp: new Date(at).toISOString(), signature: 'not checked here' };
  const classified = classifyBody(signed);
  return {
    jobId: job.jobId,
    userId: classified.userId,
    jobType: classified.jobType,
    smileJobIds: classified.smileJobIds,
    facets: classified.facets,
    authority,
    at,
    hash: createHash('sha256').update(authority).update(JSON.stringify(signed)).digest('hex'),
    receivedAt,
    trusted,
  };
}

/** What an outcome says of the job, without who it is for or what is pending about it. */
const outcomeFacts = (outcome: JobOutcome) => {
  const {
    userId: _u,
    jobType: _t,
    identity: _i,
    identityAt: _a,
    identityConflictAt: _c,
    untrustedAt: _ua,
    needsConfirmation: _n,
    ...facts
  } = outcome;
  return facts;
};

const lastLook = (outcome: JobOutcome) => outcome.evidence.statusFetches[0] ?? Number.NEGATIVE_INFINITY;

const fold = (observations: readonly Observation[], start?: JobOutcome): JobOutcome | undefined =>
  observations.reduce<JobOutcome | undefined>((outcome, next) => mergeObservation(outcome, next), start);

const foldAll = (observations: readonly Observation[]): JobOutcome => {
  const outcome = fold(observations);
  if (!outcome) throw new Error('fold of nothing');
  return outcome;
};

const jobStatus = (
  result: Record<string, unknown> | string,
  complete: boolean,
  history: unknown[] = [],
  success = complete && typeof result !== 'string' && result.ResultCode !== '0907',
) => ({
  job_complete: complete,
  job_success: success,
  code: '2302',
  result,
  history,
});

// ---- generators: realistic bodies for one job, with Smile ID's loose typing ----

const resultBody = fc
  .record({
    scenario: fc.constantFrom('approved', 'provisional', 'rejected') as fc.Arbitrary<
      'approved' | 'provisional' | 'rejected'
    >,
    code: fc.constantFrom(undefined, '1210', '0810', '0814', '0907', '0001', '1299'),
    final: fc.constantFrom(undefined, 'true', 'false', true, 'Not Available'),
    smileJobId: fc.constantFrom(job.smileJobId, '0000000002'),
  })
  .map(({ scenario, code, final, smileJobId }) => {
    const body: Record<string, unknown> = { ...resultCallback(job, scenario), SmileJobID: smileJobId };
    if (code !== undefined) body.ResultCode = code;
    if (final === undefined) delete body.IsFinalResult;
    else body.IsFinalResult = final;
    return body;
  });

const idBody = fc
  .record({
    previous: fc.subarray(['user-a', 'user-b', 'user-c']),
    fullName: fc.constantFrom(job.fullName, 'Ada Obi'),
  })
  .map(({ previous, fullName }) => ({
    ...idInfoCallback(job, { photoBytes: 64, previousRegistrants: previous }),
    FullName: fullName,
  }));

const secureBody = fc
  .subarray([
    { user_id: 'suspect-1', reason: 'same face' },
    { user_id: 'suspect-2', reason: 'same ID' },
  ])
  .map((suspects) => smileSecureCallback(job, suspects));

const combinedBody = fc
  .tuple(resultBody, idBody)
  .map(([result, id]) => ({ ...id, ...result, Actions: result.Actions }));

const jobStatusBody = fc
  .record({
    complete: fc.boolean(),
    result: fc.oneof(resultBody, fc.constant('No zip uploaded yet')),
    history: fc.array(fc.oneof(resultBody, idBody, secureBody), { maxLength: 2 }),
  })
  .map(({ complete, result, history }) => jobStatus(result, complete, history));

const callbackBody = fc.oneof(
  { weight: 4, arbitrary: resultBody },
  { weight: 2, arbitrary: idBody },
  { weight: 2, arbitrary: secureBody },
  { weight: 1, arbitrary: combinedBody },
  { weight: 1, arbitrary: fc.constant(idNotFoundCallback(job)) },
  { weight: 1, arbitrary: fc.constant({ PartnerParams: { job_id: job.jobId }, Something: 'new' }) },
);

const observation: fc.Arbitrary<Observation> = fc
  .record({
    source: fc.oneof(
      { weight: 4, arbitrary: callbackBody.map((body) => ({ body, authority: 'callback' as Authority })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(jobStatusBody, fc.constantFrom<Authority>('job_status', 'callback'))
          .map(([body, authority]) => ({ body, authority })),
      },
    ),
    // Few distinct timestamps, so equal times (and the hash tiebreak) happen often.
    minute: fc.integer({ min: 0, max: 4 }),
    delaySeconds: fc.integer({ min: 0, max: 600 }),
    trusted: fc.constantFrom(true, true, true, true, false),
  })
  .map(({ source, minute, delaySeconds, trusted }) =>
    observe(source.body, {
      authority: source.authority,
      at: T0 + minute * MINUTE,
      receivedAt: new Date(T0 + minute * MINUTE + delaySeconds * 1_000),
      trusted,
    }),
  );

const observations = fc.array(observation, { minLength: 1, maxLength: 8 });

/** The same observations in another order, some of them delivered again. */
const reorderedWithDuplicates = observations.chain((original) =>
  fc
    .array(fc.nat({ max: original.length - 1 }), { maxLength: 4 })
    .chain((again) => {
      const all = [...original, ...again.map((index) => original[index]!)];
      return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
    })
    .map((variant) => ({ original, variant })),
);

const RUNS = { numRuns: 300 };

const DEFAULT_POLICY = loadPolicyFile();
const APPROVE_EVERYTHING: PolicyInUse = {
  version: 'approve-everything@000000000000',
  policy: {
    name: 'approve-everything',
    rules: [{ id: 'everything', when: {}, decision: 'approve', reasons: ['everything'] }],
    fallback: { decision: 'approve', reasons: ['everything'] },
  },
};

/**
 * The observations folded in as the stores write them: the decision derived again after each one, from
 * the outcome and the decision before it, for a job registered with an ID type and country.
 */
function decideAll(list: readonly Observation[], policy: PolicyInUse): JobDecision {
  let outcome: JobOutcome | undefined;
  let decision: JobDecision | null = null;
  for (const next of list) {
    outcome = mergeObservation(outcome, next);
    const context = { idType: 'NIN', country: 'NG', stale: false, decision };
    decision = redecide(outcome, context, policy, next.receivedAt);
  }
  if (decision === null) throw new Error('decided nothing');
  return decision;
}

// ---- properties ----

describe('mergeObservation: order and repetition do not matter', () => {
  it('gives the same outcome for every permutation and duplication of the same observations', () => {
    fc.assert(
      fc.property(reorderedWithDuplicates, ({ original, variant }) => {
        expect(foldAll(variant)).toEqual(foldAll(original));
      }),
      RUNS,
    );
  });

  it('gives the same decision for every permutation and duplication of the same observations', () => {
    fc.assert(
      fc.property(reorderedWithDuplicates, ({ original, variant }) => {
        const { decidedAt: _o, ...decided } = decideAll(original, DEFAULT_POLICY);
        const { decidedAt: _v, ...again } = decideAll(variant, DEFAULT_POLICY);
        expect(again).toEqual(decided);
      }),
      RUNS,
    );
  });

  it('decides nothing but pending on a result job_status has not confirmed, even under a policy that approves everything', () => {
    fc.assert(
      fc.property(observations, (list) => {
        const outcome = foldAll(list);
        for (const policy of [DEFAULT_POLICY, APPROVE_EVERYTHING]) {
          const decision = decideAll(list, policy);
          if (!outcome.confirmed) expect(decision.value).toBe('pending');
          if (decision.value !== 'pending') expect(outcome).toMatchObject({ confirmed: true });
        }
      }),
      RUNS,
    );
  });

  it('changes nothing when an observation already folded in is folded in again', () => {
    fc.assert(
      fc.property(observations, fc.nat(), (list, pick) => {
        const outcome = foldAll(list);
        const again = list[pick % list.length]!;
        expect(mergeObservation(outcome, again)).toEqual(outcome);
      }),
      RUNS,
    );
  });

  it('does not mutate the outcome it is given', () => {
    fc.assert(
      fc.property(observations, observation, (list, next) => {
        const outcome = foldAll(list);
        const snapshot = structuredClone(outcome);
        mergeObservation(outcome, next);
        expect(outcome).toEqual(snapshot);
      }),
      { numRuns: 200 },
    );
  });
});

describe('mergeObservation: finality only moves forward', () => {
  it('never lets a callback move an outcome job_status confirmed final, whatever it claims', () => {
    fc.assert(
      fc.property(observations, fc.array(observation, { maxLength: 4 }), (list, later) => {
        const outcome = foldAll(list);
        fc.pre(outcome.isFinal && outcome.confirmed);
        let after = outcome;
        for (const next of later.filter((item) => item.authority === 'callback')) {
          after = mergeObservation(after, next);
          expect(after).toMatchObject({ state: outcome.state, isFinal: true, confirmed: true });
          expect(after.needsConfirmation).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('keeps Smile ID’s own final result final, whatever job_status answer comes after', () => {
    fc.assert(
      fc.property(observations, observation, (list, next) => {
        const outcome = foldAll(list);
        fc.pre(outcome.isFinal && outcome.confirmed);
        expect(mergeObservation(outcome, next)).toMatchObject({ isFinal: true, confirmed: true });
      }),
      RUNS,
    );
  });

  it('has a finalisation time exactly when the outcome is final', () => {
    fc.assert(
      fc.property(observations, (list) => {
        const outcome = foldAll(list);
        expect(outcome.finalizedAt !== null).toBe(outcome.isFinal);
      }),
      RUNS,
    );
  });

  it('lets a final callback beat a provisional one in either order, whatever their times', () => {
    const finalBody = fc.constantFrom(resultCallback(job, 'approved'), resultCallback(job, 'rejected'));
    fc.assert(
      fc.property(finalBody, fc.integer({ min: -10, max: 10 }), (body, provisionalMinutes) => {
        const final = observe(body);
        const provisional = observe(resultCallback(job, 'provisional'), {
          at: T0 + provisionalMinutes * MINUTE,
        });
        const expected = body.ResultCode === '1210' ? 'approved' : 'rejected';
        for (const order of [
          [final, provisional],
          [provisional, final],
        ]) {
          expect(foldAll(order)).toMatchObject({ state: expected, isFinal: true, confirmed: false });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('lets a newer final result supersede an older final one in either order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.boolean(),
        (olderMinute, gap, rejectedLast) => {
          const [olderBody, newerBody] = rejectedLast
            ? [resultCallback(job, 'approved'), resultCallback(job, 'rejected')]
            : [resultCallback(job, 'rejected'), resultCallback(job, 'approved')];
          const older = observe(olderBody, { at: T0 + olderMinute * MINUTE });
          const newer = observe(newerBody, { at: T0 + (olderMinute + gap) * MINUTE });
          const expected = rejectedLast ? 'rejected' : 'approved';
          expect(foldAll([older, newer]).state).toBe(expected);
          expect(foldAll([newer, older]).state).toBe(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('mergeObservation: job_status is the authority', () => {
  it('lets a final job_status result beat a newer final callback, and marks the job confirmed', () => {
    const status = observe(jobStatus(resultCallback(job, 'rejected'), true), {
      authority: 'job_status',
      at: T0,
    });
    const callback = observe(resultCallback(job, 'approved'), { at: T0 + 60 * MINUTE });
    for (const order of [
      [status, callback],
      [callback, status],
    ]) {
      expect(foldAll(order)).toMatchObject({ state: 'rejected', isFinal: true, confirmed: true });
    }
  });

  it('lets a provisional job_status answer fetched after a provisional callback beat it', () => {
    const callback = observe(resultCallback(job, 'provisional'), { at: T0 });
    const status = observe(
      jobStatus({ ...resultCallback(job, 'provisional'), ResultText: 'from job_status' }, false),
      { authority: 'job_status', at: T0 + MINUTE },
    );
    for (const order of [
      [status, callback],
      [callback, status],
    ]) {
      expect(foldAll(order)).toMatchObject({
        state: 'provisional',
        isFinal: false,
        confirmed: true,
        resultText: 'from job_status',
      });
    }
  });

  it('marks a job confirmed only when the state it shows is job_status’s own', () => {
    fc.assert(
      fc.property(observations, (list) => {
        const outcome = foldAll(list);
        if (outcome.confirmed) expect(outcome.state).toBe(outcome.evidence.status?.facet.state);
        else expect(outcome.evidence.status?.facet.final ?? false).toBe(false);
      }),
      RUNS,
    );
  });

  it('drops confirmation when a final callback beats a provisional job_status result', () => {
    const status = observe(jobStatus(resultCallback(job, 'provisional'), false), { authority: 'job_status' });
    const confirmedProvisional = foldAll([status]);
    expect(confirmedProvisional.confirmed).toBe(true);
    const after = mergeObservation(
      confirmedProvisional,
      observe(resultCallback(job, 'approved'), { at: T0 + MINUTE }),
    );
    expect(after).toMatchObject({ state: 'approved', isFinal: true, confirmed: false });
  });

  it('settles an ID-not-found job from its single callback', () => {
    expect(foldAll([observe(idNotFoundCallback(job))])).toMatchObject({
      state: 'rejected',
      isFinal: true,
      resultCode: '1013',
    });
  });

  it('changes no result when job_status says the job has not started', () => {
    const outcome = foldAll([observe(jobStatus('No zip uploaded yet', false), { authority: 'job_status' })]);
    expect(outcome).toMatchObject({ state: 'pending', isFinal: false, confirmed: false, ranks: {} });
  });

  it('takes the ID record from a job_status history', () => {
    const status = observe(jobStatus(resultCallback(job, 'approved'), true, [idInfoCallback(job)]), {
      authority: 'job_status',
    });
    expect(foldAll([status]).idInfo).toMatchObject({ idNumber: job.idNumber, fullName: job.fullName });
    expect(foldAll([status]).ranks.idInfo?.authority).toBe('job_status');
  });
});

describe('mergeObservation: untrusted observations', () => {
  const trustedOnly = observation.map((item) => ({ ...item, trusted: true }));
  const untrustedOnly = observation.map((item) => ({ ...item, trusted: false }));

  it('applies none of an untrusted observation’s facets: it only buys a look from job_status', () => {
    fc.assert(
      fc.property(fc.array(trustedOnly, { minLength: 1, maxLength: 6 }), untrustedOnly, (list, untrusted) => {
        const identified = foldAll([observe(resultCallback(job, 'provisional')), ...list]);
        const after = mergeObservation(identified, untrusted);
        expect(outcomeFacts(after)).toEqual(outcomeFacts(identified));
        expect(after.untrustedAt).not.toBeNull();
        if (!(after.isFinal && after.confirmed) && untrusted.receivedAt.getTime() > lastLook(identified)) {
          expect(after.needsConfirmation).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('gives the outcome of the trusted observations alone, flagged for confirmation', () => {
    fc.assert(
      fc.property(observations, (list) => {
        const trusted = list.filter((item) => item.trusted);
        fc.pre(trusted.length > 0 && trusted.length < list.length);
        const alone = foldAll(trusted);
        // An untrusted body may give the user no trusted observation established (so that job_status can
        // be asked); whether the job stays tracked then depends on that look, which its own tests cover.
        fc.pre(alone.userId !== null || list.every((item) => item.trusted || item.userId === null));
        expect(outcomeFacts(foldAll(list))).toEqual(outcomeFacts(alone));
      }),
      RUNS,
    );
  });

  it('leaves a job pending when its only callback is untrusted, and asks for confirmation', () => {
    const outcome = foldAll([observe(resultCallback(job, 'approved'), { trusted: false })]);
    expect(outcome).toMatchObject({
      state: 'pending',
      isFinal: false,
      needsConfirmation: true,
      smileJobIds: [],
      finalizedAt: null,
      ranks: {},
    });
  });

  it('still records the job’s user id and type from an untrusted first callback', () => {
    const outcome = foldAll([observe(resultCallback(job, 'approved'), { trusted: false })]);
    expect(outcome).toMatchObject({ userId: job.userId, jobType: 1 });
  });

  it('lets the first trusted callback replace a user id learnt only from an untrusted one, and flags it', () => {
    const forged = {
      ...resultCallback(job, 'approved'),
      PartnerParams: { job_id: job.jobId, user_id: 'someone-else' },
    };
    const outcome = foldAll([
      observe(forged, { trusted: false }),
      observe(resultCallback(job, 'rejected'), { at: T0 + 1 }),
    ]);
    expect(outcome).toMatchObject({ userId: job.userId, state: 'rejected', needsConfirmation: true });
  });

  it('keeps a user id that a trusted callback gave, whatever an untrusted one claims later', () => {
    const forged = {
      ...resultCallback(job, 'approved'),
      PartnerParams: { job_id: job.jobId, user_id: 'someone-else' },
    };
    const outcome = foldAll([
      observe(resultCallback(job, 'rejected')),
      observe(forged, { trusted: false, at: T0 + 1 }),
    ]);
    expect(outcome).toMatchObject({ userId: job.userId, state: 'rejected', needsConfirmation: true });
  });
});

describe('mergeObservation: what each slot holds', () => {
  it('starts from an empty outcome for the observation’s job', () => {
    const outcome = foldAll([observe({ PartnerParams: { job_id: job.jobId, user_id: 'u', job_type: '1' } })]);
    expect(outcome).toEqual({
      ...emptyOutcome(job.jobId),
      userId: 'u',
      jobType: 1,
      identity: 'callback',
      identityAt: T0 + 1_000,
      tracked: true,
      needsConfirmation: true,
    });
  });

  it('fills the result, the ID record and the Smile Secure signal from their callbacks', () => {
    const outcome = foldAll([
      observe(resultCallback(job, 'approved'), { at: T0 }),
      observe(idInfoCallback(job, { previousRegistrants: ['user-b', 'user-a'] }), { at: T0 + 1 }),
      observe(smileSecureCallback(job, [{ user_id: 'suspect-1', reason: 'same face' }]), { at: T0 + 2 }),
    ]);
    expect(outcome).toMatchObject({
      jobId: job.jobId,
      userId: job.userId,
      jobType: 1,
      smileJobId: job.smileJobId,
      smileJobIds: [job.smileJobId],
      state: 'approved',
      isFinal: true,
      confirmed: false,
      resultCode: '1210',
      resultText: 'Enroll User',
      actions: resultCallback(job).Actions,
      idInfo: expect.objectContaining({ idNumber: job.idNumber, dob: job.dob }),
      idNumberPreviouslyRegistered: true,
      previousRegistrantUserIds: ['user-a', 'user-b'],
      suspectUsers: [{ userId: 'suspect-1', reason: 'same face' }],
      smileSecureCode: '5211',
      needsConfirmation: true,
    });
    expect(Object.keys(outcome.ranks).sort()).toEqual(['idInfo', 'smileSecure']);
    expect(outcome.evidence.claims.final?.facet.state).toBe('approved');
  });

  it('replaces an ID record with a newer one', () => {
    const older = observe({ ...idInfoCallback(job), FullName: 'Older Name' }, { at: T0 });
    const newer = observe({ ...idInfoCallback(job), FullName: 'Newer Name' }, { at: T0 + MINUTE });
    expect(foldAll([newer, older]).idInfo?.fullName).toBe('Newer Name');
  });

  it('keeps the ID record when a newer result carries only "Not Available" ID keys', () => {
    const record = observe(idInfoCallback(job), { at: T0 });
    const result = observe(
      { ...resultCallback(job), FullName: 'Not Available', IDNumber: 'Not Available' },
      { at: T0 + MINUTE },
    );
    expect(foldAll([record, result]).idInfo?.fullName).toBe(job.fullName);
  });

  it('collects every Smile job id, sorted and without repeats', () => {
    const outcome = foldAll([
      observe({ ...resultCallback(job, 'provisional'), SmileJobID: '0000000009' }),
      observe(resultCallback(job, 'provisional'), { at: T0 + 1 }),
      observe(idInfoCallback(job), { at: T0 + 2 }),
    ]);
    expect(outcome.smileJobIds).toEqual(['0000000009', job.smileJobId].sort());
    expect(outcome.smileJobId).toBe(job.smileJobId);
  });

  it('dates finalisation from the final callback that job_status then confirmed', () => {
    const arrived = new Date(T0 + 5_000);
    const callback = observe(resultCallback(job, 'approved'), { at: T0, receivedAt: arrived });
    const status = observe(jobStatus(resultCallback(job, 'approved'), true), {
      authority: 'job_status',
      at: T0 + MINUTE,
      receivedAt: new Date(T0 + 10 * MINUTE),
    });
    expect(foldAll([status, callback])).toMatchObject({
      state: 'approved',
      confirmed: true,
      finalizedAt: arrived,
    });
  });

  it('does not date finalisation from a provisional result or an untrusted final one', () => {
    expect(foldAll([observe(resultCallback(job, 'provisional'))]).finalizedAt).toBeNull();
    expect(foldAll([observe(resultCallback(job, 'approved'), { trusted: false })]).finalizedAt).toBeNull();
  });

  it('keeps the first user id and asks for confirmation when another callback names a different one', () => {
    const other = { ...resultCallback(job), PartnerParams: { job_id: job.jobId, user_id: 'someone-else' } };
    const outcome = foldAll([observe(resultCallback(job, 'provisional')), observe(other, { at: T0 + 1 })]);
    expect(outcome).toMatchObject({ userId: job.userId, needsConfirmation: true, state: 'approved' });
  });

  it('sees no identity conflict when a later callback names no user id', () => {
    const anonymous = { ...resultCallback(job), PartnerParams: { job_id: job.jobId } };
    const outcome = foldAll([
      observe(resultCallback(job, 'provisional')),
      observe(anonymous, { at: T0 + 1 }),
    ]);
    expect(outcome).toMatchObject({ userId: job.userId, identityConflictAt: null });
  });
});

describe('transitionBetween', () => {
  const provisional = foldAll([observe(resultCallback(job, 'provisional'))]);
  const approved = mergeObservation(provisional, observe(resultCallback(job, 'approved')));

  it('reports the first state of a new job as a transition from nothing', () => {
    expect(transitionBetween(undefined, provisional)).toEqual({
      fromState: null,
      toState: 'provisional',
      fromFinal: null,
      toFinal: false,
    });
  });

  it('reports a new job that is still pending as a transition from nothing to pending', () => {
    expect(transitionBetween(undefined, emptyOutcome('j'))).toEqual({
      fromState: null,
      toState: 'pending',
      fromFinal: null,
      toFinal: false,
    });
  });

  it('reports a change of state and finality', () => {
    expect(transitionBetween(provisional, approved)).toEqual({
      fromState: 'provisional',
      toState: 'approved',
      fromFinal: false,
      toFinal: true,
    });
  });

  it('reports a change of finality alone', () => {
    const finalProvisional = { ...provisional, isFinal: true };
    expect(transitionBetween(provisional, finalProvisional)).toEqual({
      fromState: 'provisional',
      toState: 'provisional',
      fromFinal: false,
      toFinal: true,
    });
  });

  it('reports nothing when other fields change but state and finality do not', () => {
    const withId = mergeObservation(approved, observe(idInfoCallback(job), { at: T0 + MINUTE }));
    expect(withId.idInfo).not.toBeNull();
    expect(transitionBetween(approved, withId)).toBeUndefined();
    const newerApproval = mergeObservation(
      approved,
      observe({ ...resultCallback(job), ResultCode: '0810' }, { at: T0 + MINUTE }),
    );
    expect(newerApproval.resultCode).toBe('0810');
    expect(transitionBetween(approved, newerApproval)).toBeUndefined();
  });

  it('reports a change exactly when (state, isFinal) differs', () => {
    fc.assert(
      fc.property(observations, observation, (list, next) => {
        const before = foldAll(list);
        const after = mergeObservation(before, next);
        const transition = transitionBetween(before, after);
        const changed = before.state !== after.state || before.isFinal !== after.isFinal;
        expect(transition === undefined).toBe(!changed);
        if (transition) {
          expect(transition).toEqual({
            fromState: before.state,
            toState: after.state,
            fromFinal: before.isFinal,
            toFinal: after.isFinal,
          });
        }
      }),
      RUNS,
    );
  });
});

describe('mergeObservation: evidence, not claims, decides', () => {
  const forged = observe(resultCallback(job, 'approved'), { at: T0, receivedAt: new Date(T0 + MINUTE) });
  const inReview = (minutes: number) =>
    observe(jobStatus(resultCallback(job, 'provisional'), false), {
      authority: 'job_status',
      at: T0 + minutes * MINUTE,
      receivedAt: new Date(T0 + minutes * MINUTE),
    });

  it('shows a final callback no job_status answer has looked at yet, unconfirmed and flagged', () => {
    expect(foldAll([inReview(0), forged])).toMatchObject({
      state: 'approved',
      isFinal: true,
      confirmed: false,
      needsConfirmation: true,
    });
  });

  it('demotes a final callback once an answer fetched after it is not final, back to what job_status said', () => {
    const outcome = foldAll([inReview(0), forged, inReview(2)]);
    expect(outcome).toMatchObject({
      state: 'provisional',
      isFinal: false,
      confirmed: true,
      needsConfirmation: true,
    });
    expect(claimStanding(outcome.evidence)).toBe('demoted');
  });

  it('calls a final callback contradicted when a second answer still is not final', () => {
    const outcome = foldAll([forged, inReview(2), inReview(3)]);
    expect(claimStanding(outcome.evidence)).toBe('contradicted');
    expect(outcome).toMatchObject({ state: 'provisional', isFinal: false, needsConfirmation: true });
  });

  it('calls a final callback contradicted when job_status’s final result is in another state', () => {
    const rejected = observe(jobStatus(resultCallback(job, 'rejected'), true), {
      authority: 'job_status',
      receivedAt: new Date(T0 + 2 * MINUTE),
    });
    const outcome = foldAll([forged, rejected]);
    expect(claimStanding(outcome.evidence)).toBe('contradicted');
    expect(outcome).toMatchObject({
      state: 'rejected',
      isFinal: true,
      confirmed: true,
      needsConfirmation: false,
    });
  });

  it('confirms a final callback that job_status’s final result agrees with', () => {
    const approved = observe(jobStatus(resultCallback(job, 'approved'), true), {
      authority: 'job_status',
      receivedAt: new Date(T0 + 2 * MINUTE),
    });
    const outcome = foldAll([forged, approved]);
    expect(claimStanding(outcome.evidence)).toBe('confirmed');
    expect(outcome).toMatchObject({ state: 'approved', confirmed: true, needsConfirmation: false });
  });

  it('asks for confirmation while the result code shown is unknown', () => {
    const unknown = observe({ ...resultCallback(job, 'provisional'), ResultCode: '0899' });
    const status = observe(jobStatus({ ...resultCallback(job, 'provisional'), ResultCode: '0899' }, false), {
      authority: 'job_status',
      at: T0 + MINUTE,
      receivedAt: new Date(T0 + 2 * MINUTE),
    });
    expect(foldAll([unknown, status])).toMatchObject({ confirmed: true, needsConfirmation: true });
  });
});

describe('mergeObservation: Smile Secure claims only add risk', () => {
  const suspects = observe(smileSecureCallback(job, [{ user_id: 'suspect-1', reason: 'same face' }]), {
    at: T0,
  });
  const noSuspects = observe(smileSecureCallback(job, []), { at: T0 + MINUTE });

  it('lets no callback clear suspects another callback reported, in either order', () => {
    for (const order of [
      [suspects, noSuspects],
      [noSuspects, suspects],
    ]) {
      expect(foldAll(order)).toMatchObject({
        suspectUsers: [{ userId: 'suspect-1', reason: 'same face' }],
        smileSecureCode: '5211',
      });
    }
  });

  it('lets job_status’s own Smile Secure answer decide', () => {
    const status = observe(jobStatus(resultCallback(job, 'approved'), true, [smileSecureCallback(job, [])]), {
      authority: 'job_status',
      at: T0 + 2 * MINUTE,
    });
    expect(foldAll([suspects, status]).suspectUsers).toEqual([]);
  });
});

describe('mergeObservation: identity comes from us', () => {
  const registered = {
    ...emptyOutcome(job.jobId),
    userId: job.userId,
    jobType: 1,
    identity: 'registration' as const,
    tracked: true,
  };
  const naming = (userId: string, options: ObserveOptions = {}) =>
    observe(
      {
        ...resultCallback(job, 'provisional'),
        PartnerParams: { job_id: job.jobId, user_id: userId, job_type: 4 },
      },
      options,
    );

  it('keeps a registered user and job type whatever a trusted body names, and flags it until job_status looks', () => {
    const after = mergeObservation(registered, naming('someone-else'));
    expect(after).toMatchObject({
      userId: job.userId,
      jobType: 1,
      identity: 'registration',
      needsConfirmation: true,
    });
    expect(after.identityConflictAt).toBe(T0 + 1_000);
    const looked = mergeObservation(
      after,
      observe(jobStatus(resultCallback(job, 'provisional'), false), {
        authority: 'job_status',
        receivedAt: new Date(T0 + MINUTE),
      }),
    );
    expect(looked.needsConfirmation).toBe(false);
  });

  it('shows the user a body names for a job never registered, until job_status returns the job for that user', () => {
    const claimed = foldAll([naming('claimed-user')]);
    expect(claimed).toMatchObject({ userId: 'claimed-user', identity: 'callback', needsConfirmation: true });
    const notFound = mergeObservation(claimed, {
      ...observe(jobStatus('No zip uploaded yet', false), {
        authority: 'job_status',
        receivedAt: new Date(T0 + MINUTE),
      }),
      returnsJob: false,
    });
    expect(notFound.identity).toBe('callback');
    const found = mergeObservation(claimed, {
      ...observe(jobStatus(resultCallback(job, 'approved'), true), {
        authority: 'job_status',
        receivedAt: new Date(T0 + MINUTE),
      }),
      returnsJob: true,
    });
    expect(found).toMatchObject({ userId: 'claimed-user', identity: 'job_status', needsConfirmation: false });
  });

  it('picks the same claimed user whatever order two trusted bodies arrive in: the earlier received', () => {
    const first = naming('first-user', { receivedAt: new Date(T0 + 1_000) });
    const second = naming('second-user', { at: T0 + 1, receivedAt: new Date(T0 + 2_000) });
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      expect(foldAll(order)).toMatchObject({ userId: 'first-user', identityConflictAt: T0 + 2_000 });
    }
  });

  it('does not track a job that only untrusted bodies named', () => {
    expect(foldAll([naming('someone', { trusted: false })])).toMatchObject({
      tracked: false,
      identity: 'untrusted',
    });
  });
});

describe('mergeObservation: what a captured pair cannot buy', () => {
  const claimed = observe({
    ...resultCallback(job, 'approved'),
    PartnerParams: { job_id: job.jobId, user_id: 'made-up' },
  });
  const notFound = (minutes: number) => ({
    ...observe(jobStatus('No zip uploaded yet', false), {
      authority: 'job_status',
      receivedAt: new Date(T0 + minutes * MINUTE),
    }),
    returnsJob: false,
  });

  it('stops polling a job only bodies named once job_status has not found it three times', () => {
    expect(foldAll([claimed, notFound(1), notFound(2)]).tracked).toBe(true);
    expect(foldAll([claimed, notFound(1), notFound(2), notFound(3)]).tracked).toBe(false);
    expect(foldAll([notFound(3), notFound(1), claimed, notFound(2)]).tracked).toBe(false);
  });

  it('keeps polling a registered job however often job_status has not found it yet', () => {
    const registered = {
      ...emptyOutcome(job.jobId),
      userId: job.userId,
      identity: 'registration' as const,
      tracked: true,
    };
    expect(fold([notFound(1), notFound(2), notFound(3), notFound(4)], registered)?.tracked).toBe(true);
  });

  it('calls a final claim contradicted only on a second look seconds after the first', () => {
    const forged = observe(resultCallback(job, 'approved'), { at: T0, receivedAt: new Date(T0 + 1_000) });
    const look = (ms: number) =>
      observe(jobStatus(resultCallback(job, 'provisional'), false), {
        authority: 'job_status',
        receivedAt: new Date(T0 + ms),
      });
    expect(claimStanding(foldAll([forged, look(2_000), look(2_500)]).evidence)).toBe('demoted');
    expect(claimStanding(foldAll([forged, look(2_000), look(7_000)]).evidence)).toBe('contradicted');
  });
});
