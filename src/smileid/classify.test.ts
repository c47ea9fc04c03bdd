import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Facet } from '../domain/facets.js';
import {
  idInfoCallback,
  idNotFoundCallback,
  resultCallback,
  simulatedJob,
  smileSecureCallback,
} from '../simulator/callbacks.js';
import { classifyBody, classifyJobStatusShape } from './classify.js';
import {
  MAX_ACTIONS,
  MAX_HISTORY_ENTRIES,
  MAX_KEPT_TEXT_LENGTH,
  MAX_PREVIOUS_REGISTRANTS,
  MAX_SUSPECT_USERS,
} from './payload.js';

const job = simulatedJob({ jobId: 'job-classify' });

function facet<S extends Facet['slot']>(facets: Facet[], slot: S): Extract<Facet, { slot: S }> {
  const found = facets.find((candidate) => candidate.slot === slot);
  if (!found) throw new Error(`no ${slot} facet`);
  return found as Extract<Facet, { slot: S }>;
}

function withoutKeys(body: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !keys.includes(key)));
}

describe('classifyBody: the result callback', () => {
  it('reads an approved result as a final approved result facet, with the job’s identity', () => {
    const classified = classifyBody(resultCallback(job, 'approved'));
    expect(classified).toMatchObject({
      jobId: 'job-classify',
      userId: job.userId,
      jobType: 1,
      smileJobIds: [job.smileJobId],
      kinds: ['result'],
    });
    expect(classified.facets).toEqual([
      {
        slot: 'result',
        final: true,
        smileJobId: job.smileJobId,
        state: 'approved',
        resultCode: '1210',
        resultText: 'Enroll User',
        actions: resultCallback(job).Actions,
        resultType: 'SAIA',
        confidenceValue: 99,
        isMachineResult: true,
        partnerParams: {},
      },
    ]);
  });

  it('reads a result under human review as provisional and not final', () => {
    const classified = classifyBody(resultCallback(job, 'provisional'));
    expect(classified.kinds).toEqual(['result']);
    expect(facet(classified.facets, 'result')).toMatchObject({
      final: false,
      state: 'provisional',
      resultCode: '0814',
    });
  });

  it('reads a failed liveness check as a final rejection', () => {
    expect(facet(classifyBody(resultCallback(job, 'rejected')).facets, 'result')).toMatchObject({
      final: true,
      state: 'rejected',
      resultCode: '0907',
    });
  });

  it('keeps an approving code provisional while IsFinalResult is "false"', () => {
    const body = { ...resultCallback(job, 'approved'), IsFinalResult: 'false' };
    expect(facet(classifyBody(body).facets, 'result')).toMatchObject({
      final: false,
      state: 'provisional',
      resultCode: '1210',
    });
  });

  it('takes a definite result as final when IsFinalResult is missing or "Not Available"', () => {
    for (const body of [
      withoutKeys(resultCallback(job, 'rejected'), 'IsFinalResult'),
      { ...resultCallback(job, 'rejected'), IsFinalResult: 'Not Available' },
    ]) {
      expect(facet(classifyBody(body).facets, 'result')).toMatchObject({ final: true, state: 'rejected' });
    }
  });

  it('never takes a provisional result as final when IsFinalResult is missing', () => {
    const body = withoutKeys(resultCallback(job, 'provisional'), 'IsFinalResult');
    expect(facet(classifyBody(body).facets, 'result')).toMatchObject({ final: false, state: 'provisional' });
  });

  it('accepts IsFinalResult as a real boolean', () => {
    const body = { ...resultCallback(job, 'approved'), IsFinalResult: true };
    expect(facet(classifyBody(body).facets, 'result').final).toBe(true);
  });

  it('reads a numeric job_type and a numeric result code', () => {
    const body = {
      ...resultCallback(job, 'approved'),
      ResultCode: 810,
      PartnerParams: { job_id: job.jobId, user_id: job.userId, job_type: 1 },
    };
    const classified = classifyBody(body);
    expect(classified.jobType).toBe(1);
    expect(facet(classified.facets, 'result')).toMatchObject({ resultCode: '0810', state: 'approved' });
  });

  it('recognises a result by its ResultType alone, leaving it provisional without actions', () => {
    const classified = classifyBody({
      ResultType: 'DIVA',
      ResultCode: '1299',
      PartnerParams: { job_id: 'j' },
    });
    expect(classified.kinds).toEqual(['result']);
    expect(facet(classified.facets, 'result')).toMatchObject({
      final: false,
      state: 'provisional',
      resultText: null,
      actions: {},
    });
  });

  it('fills a missing ResultText from the code table', () => {
    const body = withoutKeys(resultCallback(job, 'provisional'), 'ResultText');
    expect(facet(classifyBody(body).facets, 'result').resultText).toBe('Provisional Enroll - Under Review');
  });

  it('drops actions with non-string values but keeps the rest', () => {
    const body = { ...resultCallback(job), Actions: { Liveness_Check: 'Passed', Score: 97, Nested: {} } };
    expect(facet(classifyBody(body).facets, 'result').actions).toEqual({ Liveness_Check: 'Passed' });
  });
});

describe('classifyBody: unknown result codes are categorised from their Actions', () => {
  const unknownCode = (actions: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    ...resultCallback(job),
    ResultCode: '1299',
    ResultText: 'Something New',
    Actions: actions,
    ...extra,
  });

  it('rejects an unknown code whose liveness check failed', () => {
    const body = withoutKeys(
      unknownCode({ Liveness_Check: 'Failed', Selfie_Provided: 'Passed' }),
      'IsFinalResult',
    );
    expect(facet(classifyBody(body).facets, 'result')).toMatchObject({
      final: true,
      state: 'rejected',
      resultCode: '1299',
      resultText: 'Something New',
    });
  });

  it('keeps an unknown code sent to human review provisional and not final', () => {
    const body = withoutKeys(
      unknownCode({ Liveness_Check: 'Passed', Human_Review_Compare: 'Sent to Human Review' }),
      'IsFinalResult',
    );
    expect(facet(classifyBody(body).facets, 'result')).toMatchObject({ final: false, state: 'provisional' });
  });

  it('approves an unknown code whose actions all passed', () => {
    const body = unknownCode({ Liveness_Check: 'Passed', Selfie_To_ID_Authority_Compare: 'Completed' });
    expect(facet(classifyBody(body).facets, 'result')).toMatchObject({ final: true, state: 'approved' });
  });

  it('leaves the text null for an unknown code sent without one', () => {
    const body = withoutKeys(unknownCode({ Liveness_Check: 'Passed' }), 'ResultText');
    expect(facet(classifyBody(body).facets, 'result').resultText).toBeNull();
  });
});

describe('classifyBody: the ID information callback', () => {
  it('reads the ID authority’s record into a final ID facet', () => {
    const classified = classifyBody(
      idInfoCallback(job, { previousRegistrants: ['user-b', 'user-a', 'user-b'] }),
    );
    expect(classified).toMatchObject({ jobId: job.jobId, userId: job.userId, kinds: ['id_info'] });
    expect(classified.facets).toEqual([
      {
        slot: 'idInfo',
        final: true,
        idInfo: {
          country: job.country,
          idType: job.idType,
          idNumber: job.idNumber,
          fullName: job.fullName,
          dob: job.dob,
          gender: 'F',
          phoneNumber: job.phoneNumber,
          fullData: {
            firstname: job.fullName.split(' ')[0],
            surname: job.fullName.split(' ')[1],
            birthdate: job.dob,
            nin: job.idNumber,
          },
          photoProvided: true,
          documentProvided: false,
        },
        previouslyRegistered: true,
        previousRegistrantUserIds: ['user-a', 'user-b'],
      },
    ]);
  });

  it('does not copy the photo into the facet', () => {
    const idInfo = facet(classifyBody(idInfoCallback(job)).facets, 'idInfo').idInfo;
    expect(JSON.stringify(idInfo)).not.toContain(String(idInfoCallback(job).Photo).slice(0, 40));
  });

  it('reads a first-time ID number as not previously registered', () => {
    expect(facet(classifyBody(idInfoCallback(job)).facets, 'idInfo')).toMatchObject({
      previouslyRegistered: false,
      previousRegistrantUserIds: [],
    });
  });

  it('reads IDNumberPreviouslyRegistered given as a real boolean', () => {
    const body = { ...idInfoCallback(job), IDNumberPreviouslyRegistered: true };
    expect(facet(classifyBody(body).facets, 'idInfo').previouslyRegistered).toBe(true);
  });

  it('leaves previouslyRegistered null when Smile ID does not say', () => {
    const body = { ...idInfoCallback(job), IDNumberPreviouslyRegistered: 'Not Available' };
    expect(facet(classifyBody(body).facets, 'idInfo').previouslyRegistered).toBeNull();
  });

  it.each([
    ['Secondary_ID_Number', 'S-1'],
    ['SecondaryIDNumber', 'S-2'],
  ])('reads the secondary ID number spelt %s', (key, value) => {
    const body = { ...idInfoCallback(job), [key]: value };
    expect(facet(classifyBody(body).facets, 'idInfo').idInfo.secondaryIdNumber).toBe(value);
  });

  it.each([
    ['"Not Available"', 'Not Available'],
    ['null', null],
  ])('leaves out FullData given as %s', (_, value) => {
    const body = { ...idInfoCallback(job), FullData: value };
    expect(facet(classifyBody(body).facets, 'idInfo').idInfo).not.toHaveProperty('fullData');
  });

  it('notes a Document without copying it', () => {
    const body = { ...idInfoCallback(job), Document: 'ZG9jdW1lbnQ=' };
    expect(facet(classifyBody(body).facets, 'idInfo').idInfo.documentProvided).toBe(true);
  });

  it.each([
    ['ResultType "ID Verification"', { ResultType: 'ID Verification' }],
    ['IDNumber', { IDNumber: '12345678901' }],
    ['IDType', { IDType: 'NIN' }],
    ['FullName', { FullName: 'Ada Obi' }],
    ['DOB', { DOB: '1990-01-01' }],
    ['Photo', { Photo: '/9j/4AAQ' }],
    ['FullData', { FullData: { nin: '1' } }],
    ['only Verify_ID_Number in Actions', { Actions: { Verify_ID_Number: 'Verified' } }],
    ['only Return_Personal_Info in Actions', { Actions: { Return_Personal_Info: 'Not Returned' } }],
    ['a 10xx code', { ResultCode: '1013' }],
    ['an unknown 10xx code', { ResultCode: '1099' }],
  ])('recognises the ID facet by %s alone', (_, body) => {
    const classified = classifyBody({ PartnerParams: { job_id: 'j' }, ...body });
    expect(classified.kinds).toEqual(['id_info']);
    expect(classified.facets).toHaveLength(1);
    expect(facet(classified.facets, 'idInfo').final).toBe(true);
  });

  it('does not take an ID callback with a biometric ResultType but no biometric actions as a result', () => {
    const body = { ...idInfoCallback(job), ResultType: 'SAIA' };
    expect(classifyBody(body).kinds).toEqual(['id_info']);
  });

  it('reads an ID-not-found callback with biometric actions as a final rejection and an ID facet', () => {
    const classified = classifyBody(idNotFoundCallback(job));
    expect(classified.kinds).toEqual(['result', 'id_info']);
    expect(facet(classified.facets, 'result')).toMatchObject({
      final: true,
      state: 'rejected',
      resultCode: '1013',
    });
    expect(facet(classified.facets, 'idInfo')).toMatchObject({
      idInfo: { country: job.country, idType: job.idType, idNumber: job.idNumber },
    });
    expect(facet(classified.facets, 'idInfo').idInfo).not.toHaveProperty('fullName');
    expect(facet(classified.facets, 'idInfo').idInfo.photoProvided).toBe(false);
  });

  it('does not let an approving ID code approve a result whose liveness check failed', () => {
    const body = {
      ...resultCallback(job, 'rejected'),
      ResultCode: '1012',
      ResultText: 'ID Number Validated',
    };
    expect(classifyBody(body).kinds).toEqual(['result', 'id_info']);
    expect(facet(classifyBody(body).facets, 'result')).toMatchObject({ final: true, state: 'rejected' });
  });

  it('does not take ID keys holding "Not Available" as an ID facet', () => {
    const body = {
      ...resultCallback(job),
      FullName: 'Not Available',
      DOB: 'Not Available',
      IDNumber: 'Not Available',
      IDType: 'Not Available',
      Photo: 'Not Available',
      FullData: 'Not Available',
    };
    expect(classifyBody(body).kinds).toEqual(['result']);
  });

  it('takes every spelling of absent the schemas know ("N/A", "not available", empty) as no ID data', () => {
    const body = {
      ...resultCallback(job),
      FullName: 'N/A',
      DOB: ' not available ',
      IDNumber: '',
      IDType: null,
      FullData: 'n/a',
    };
    expect(classifyBody(body).kinds).toEqual(['result']);
  });
});

describe('classifyBody: Smile Secure', () => {
  it('reads suspects found as code 5211 with the suspects sorted and de-duplicated', () => {
    const classified = classifyBody(
      smileSecureCallback(job, [
        { user_id: 'user-z', reason: 'same face' },
        { user_id: 'user-a', reason: 'same ID' },
        { user_id: 'user-z', reason: 'same face' },
      ]),
    );
    expect(classified).toMatchObject({ jobId: job.jobId, kinds: ['smile_secure'] });
    expect(classified.facets).toEqual([
      {
        slot: 'smileSecure',
        final: true,
        code: '5211',
        suspectUsers: [
          { userId: 'user-a', reason: 'same ID' },
          { userId: 'user-z', reason: 'same face' },
        ],
      },
    ]);
  });

  it('reads no suspects as code 5210 with an empty list', () => {
    expect(facet(classifyBody(smileSecureCallback(job)).facets, 'smileSecure')).toEqual({
      slot: 'smileSecure',
      final: true,
      code: '5210',
      suspectUsers: [],
    });
  });

  it('recognises a Smile Secure system error by its code alone', () => {
    const classified = classifyBody({ PartnerParams: { job_id: 'j' }, ResultCode: '5212' });
    expect(classified.kinds).toEqual(['smile_secure']);
    expect(facet(classified.facets, 'smileSecure')).toMatchObject({ code: '5212', suspectUsers: [] });
  });

  it('recognises an Antifraud key without a Smile Secure code, with a null code', () => {
    const body = { Antifraud: { SuspectUsers: [{ user_id: 'u', reason: 'r' }] }, ResultCode: '1210' };
    expect(facet(classifyBody(body).facets, 'smileSecure')).toMatchObject({
      code: null,
      suspectUsers: [{ userId: 'u', reason: 'r' }],
    });
  });

  it('does not take a Smile Secure body with biometric actions as a result', () => {
    const body = { ...smileSecureCallback(job), Actions: { Liveness_Check: 'Passed' }, ResultType: 'SAIA' };
    expect(classifyBody(body).kinds).toEqual(['smile_secure']);
  });
});

describe('classifyBody: several facets in one body', () => {
  it('reads a body carrying the result and the ID record together as both facets', () => {
    const body = {
      ...idInfoCallback(job),
      ...resultCallback(job, 'approved'),
      Actions: resultCallback(job).Actions,
    };
    const classified = classifyBody(body);
    expect(classified.kinds).toEqual(['result', 'id_info']);
    expect(facet(classified.facets, 'result')).toMatchObject({ state: 'approved', final: true });
    expect(facet(classified.facets, 'idInfo').idInfo).toMatchObject({
      idNumber: job.idNumber,
      fullName: job.fullName,
    });
  });

  it('reads a result with Antifraud attached as a result and a Smile Secure facet', () => {
    const body = { ...resultCallback(job, 'rejected'), Antifraud: { SuspectUsers: [{ user_id: 'u' }] } };
    expect(classifyBody(body).kinds).toEqual(['result', 'smile_secure']);
  });

  it('produces at most one facet per slot', () => {
    const body = {
      ...idInfoCallback(job),
      ...resultCallback(job),
      ...smileSecureCallback(job, [{ user_id: 'u', reason: 'r' }]),
      ResultCode: '1210',
      Actions: resultCallback(job).Actions,
    };
    const slots = classifyBody(body).facets.map((item) => item.slot);
    expect(slots).toEqual(['result', 'idInfo', 'smileSecure']);
  });
});

describe('classifyBody: unknown shapes', () => {
  it.each([
    ['an empty body', {}],
    ['a body of new keys', { Something: 'new', ResultCode: '9999' }],
    ['empty actions', { Actions: {}, ResultCode: '1210' }],
    ['actions that are not an object', { Actions: 'Passed' }],
    [
      'ID keys that are undefined, null or "Not Available"',
      { IDNumber: undefined, DOB: null, FullName: 'N/A' },
    ],
    ['a sec_key body', { sec_key: 'abc|def', timestamp: 1676333269924 }],
  ])('classifies %s as unknown with no facets', (_, body) => {
    const classified = classifyBody(body);
    expect(classified.kinds).toEqual(['unknown']);
    expect(classified.facets).toEqual([]);
  });

  it('still reads the job’s identity from an unknown body', () => {
    const classified = classifyBody({ PartnerParams: { job_id: 'job-x', user_id: 'u', job_type: '1' } });
    expect(classified).toEqual({
      jobId: 'job-x',
      userId: 'u',
      jobType: 1,
      smileJobIds: [],
      kinds: ['unknown'],
      facets: [],
      overflow: [],
    });
  });

  it('reads a body without PartnerParams as naming no job', () => {
    expect(classifyBody({ ResultCode: '1210' })).toMatchObject({ jobId: null, userId: null, jobType: null });
  });

  it('never throws and always gives consistent kinds, whatever the body holds', () => {
    const keys = [
      'PartnerParams',
      'SmileJobID',
      'ResultCode',
      'ResultType',
      'IsFinalResult',
      'Actions',
      'Antifraud',
      'IDNumber',
      'FullData',
      'job_complete',
      'result',
      'history',
    ] as const;
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...keys), fc.anything(), { maxKeys: keys.length }),
        (body) => {
          const classified = classifyBody(body);
          const slots = classified.facets.map((item) => item.slot);
          expect(new Set(slots).size).toBe(slots.length);
          if (classified.kinds[0] !== 'job_status') {
            expect(classified.kinds).toEqual(
              slots.length === 0
                ? ['unknown']
                : slots.map(
                    (slot) => ({ result: 'result', idInfo: 'id_info', smileSecure: 'smile_secure' })[slot],
                  ),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('classifyBody: job_status-shaped bodies', () => {
  const status = (overrides: Record<string, unknown>) => ({
    timestamp: '2023-02-14T00:07:49.924Z',
    signature: 'x',
    job_complete: true,
    job_success: true,
    code: '2302',
    result: resultCallback(job, 'approved'),
    history: [],
    ...overrides,
  });

  it('reads a plain-string result as a job_status body with no facets and no job', () => {
    const classified = classifyBody(
      status({ job_complete: false, job_success: false, result: 'No zip uploaded yet' }),
    );
    expect(classified).toEqual({
      jobId: null,
      userId: null,
      jobType: null,
      smileJobIds: [],
      kinds: ['job_status'],
      facets: [],
      overflow: [],
    });
  });

  it('reads a complete job’s result as a final result facet', () => {
    const classified = classifyBody(status({}));
    expect(classified).toMatchObject({ jobId: job.jobId, userId: job.userId, jobType: 1 });
    expect(classified.kinds).toEqual(['job_status', 'result']);
    expect(facet(classified.facets, 'result')).toMatchObject({ final: true, state: 'approved' });
  });

  it('lets job_complete false override an IsFinalResult "true" in the result', () => {
    const classified = classifyBody(status({ job_complete: false, job_success: false }));
    expect(facet(classified.facets, 'result')).toMatchObject({ final: false, state: 'provisional' });
  });

  it('lets job_complete "true" settle a result still marked provisional', () => {
    const classified = classifyBody(
      status({
        job_complete: 'true',
        job_success: 'false',
        result: { ...resultCallback(job, 'rejected'), IsFinalResult: 'false' },
      }),
    );
    expect(facet(classified.facets, 'result')).toMatchObject({ final: true, state: 'rejected' });
  });

  it('takes a complete job’s state from its known final code, and from job_success where the code is unknown', () => {
    const rejectedCode = { ...resultCallback(job, 'approved'), ResultCode: '0907' };
    const rejected = classifyBody(status({ job_success: true, result: rejectedCode }));
    expect(facet(rejected.facets, 'result')).toMatchObject({ final: true, state: 'rejected' });
    const unknownFailed = { ...resultCallback(job, 'approved'), ResultCode: '9998' };
    const failed = classifyBody(status({ job_success: false, result: unknownFailed }));
    expect(facet(failed.facets, 'result')).toMatchObject({ final: true, state: 'rejected' });
    const unknownCode = { ...resultCallback(job, 'provisional'), ResultCode: '9999' };
    const succeeded = classifyBody(status({ job_success: true, result: unknownCode }));
    expect(facet(succeeded.facets, 'result')).toMatchObject({ final: true, state: 'approved' });
  });

  it('falls back to IsFinalResult when job_complete is absent', () => {
    const body = withoutKeys(status({ result: resultCallback(job, 'provisional') }), 'job_complete');
    expect(classifyBody(body).kinds[0]).toBe('job_status');
    expect(facet(classifyBody(body).facets, 'result').final).toBe(false);
  });

  it('takes the ID facet from the history when the result lacks it', () => {
    const classified = classifyBody(
      status({
        history: [resultCallback(job, 'provisional'), idInfoCallback(job, { previousRegistrants: ['u-1'] })],
      }),
    );
    expect(classified.kinds).toEqual(['job_status', 'result', 'id_info']);
    expect(facet(classified.facets, 'result')).toMatchObject({ final: true, state: 'approved' });
    expect(facet(classified.facets, 'idInfo')).toMatchObject({
      idInfo: expect.objectContaining({ idNumber: job.idNumber }),
      previouslyRegistered: true,
      previousRegistrantUserIds: ['u-1'],
    });
  });

  it('prefers the latest history entry when several fill the same slot', () => {
    const older = { ...idInfoCallback(job), FullName: 'Older Name' };
    const newer = { ...idInfoCallback(job), FullName: 'Newer Name' };
    const classified = classifyBody(status({ history: [older, newer] }));
    expect(facet(classified.facets, 'idInfo').idInfo.fullName).toBe('Newer Name');
  });

  it('takes the job’s identity and Smile job ids from the history when the result is a string', () => {
    const classified = classifyBody(
      status({ job_complete: false, result: 'No zip uploaded yet', history: [idInfoCallback(job)] }),
    );
    expect(classified).toMatchObject({
      jobId: job.jobId,
      userId: job.userId,
      smileJobIds: [job.smileJobId],
      kinds: ['job_status', 'id_info'],
    });
  });

  it('lists each Smile job id once, current run first', () => {
    const retried = { ...resultCallback(job, 'provisional'), SmileJobID: '0000000001' };
    const classified = classifyBody(status({ history: [retried, resultCallback(job, 'approved')] }));
    expect(classified.smileJobIds).toEqual([job.smileJobId, '0000000001']);
  });

  it('ignores history entries that are not objects', () => {
    const classified = classifyBody(status({ history: ['x', 1, null, [idInfoCallback(job)]] }));
    expect(classified.kinds).toEqual(['job_status', 'result']);
  });

  it('recognises the shape by job_success alone', () => {
    expect(classifyBody({ job_success: false }).kinds).toEqual(['job_status']);
  });

  it('is what classifyJobStatusShape returns for the same body', () => {
    const body = status({ history: [idInfoCallback(job)] });
    expect(classifyBody(body)).toEqual(classifyJobStatusShape(body));
  });
});

describe('classifyBody: capped lists', () => {
  const suspects = (count: number) =>
    Array.from({ length: count }, (_, index) => ({ user_id: `suspect-${String(index).padStart(6, '0')}` }));
  const users = (count: number) => Array.from({ length: count }, (_, index) => `user-${index}`);
  const status = (overrides: Record<string, unknown>) => ({
    job_complete: true,
    job_success: true,
    result: resultCallback(job, 'approved'),
    history: [],
    ...overrides,
  });

  it('flags nothing for the simulator’s ordinary bodies', () => {
    for (const body of [
      resultCallback(job),
      idInfoCallback(job, { previousRegistrants: ['u-1', 'u-2'] }),
      smileSecureCallback(job, [{ user_id: 'u-1', reason: 'selfie match' }]),
      idNotFoundCallback(job),
      status({ history: [resultCallback(job, 'provisional'), idInfoCallback(job)] }),
    ]) {
      expect(classifyBody(body).overflow).toEqual([]);
    }
  });

  it('reads every suspect up to the cap without flagging the list', () => {
    const classified = classifyBody(smileSecureCallback(job, suspects(MAX_SUSPECT_USERS).map(withReason)));
    expect(facet(classified.facets, 'smileSecure').suspectUsers).toHaveLength(MAX_SUSPECT_USERS);
    expect(classified.overflow).toEqual([]);
  });

  it('reads only the first suspects past the cap and flags Antifraud.SuspectUsers', () => {
    const listed = suspects(MAX_SUSPECT_USERS + 1).map(withReason);
    const classified = classifyBody(smileSecureCallback(job, listed));
    const read = facet(classified.facets, 'smileSecure').suspectUsers.map((suspect) => suspect.userId);
    expect(read).toEqual(listed.slice(0, MAX_SUSPECT_USERS).map((suspect) => suspect.user_id));
    expect(classified.overflow).toEqual(['Antifraud.SuspectUsers']);
  });

  it('classifies a million empty suspect entries in well under a second, reading only the cap', () => {
    const body = {
      ...smileSecureCallback(job),
      Antifraud: { SuspectUsers: Array.from({ length: 1_000_000 }, () => ({})) },
    };
    const started = performance.now();
    const classified = classifyBody(body);
    expect(performance.now() - started).toBeLessThan(500);
    expect(classified.overflow).toEqual(['Antifraud.SuspectUsers']);
    expect(facet(classified.facets, 'smileSecure').suspectUsers).toEqual([]);
  });

  it.each([
    ['an array', (ids: string[]) => ids],
    ['comma-separated text', (ids: string[]) => ids.join(',')],
  ])('reads only the first previous registrants given as %s and flags the list', (_, shape) => {
    const ids = users(MAX_PREVIOUS_REGISTRANTS + 5);
    const classified = classifyBody({ ...idInfoCallback(job), UserIDsOfPreviousRegistrants: shape(ids) });
    expect(facet(classified.facets, 'idInfo').previousRegistrantUserIds).toEqual(
      ids.slice(0, MAX_PREVIOUS_REGISTRANTS).sort(),
    );
    expect(classified.overflow).toEqual(['UserIDsOfPreviousRegistrants']);
  });

  it.each([
    ['an array', (ids: string[]) => ids],
    ['comma-separated text', (ids: string[]) => ids.join(',')],
  ])('does not flag exactly the cap of previous registrants given as %s', (_, shape) => {
    const ids = users(MAX_PREVIOUS_REGISTRANTS);
    const classified = classifyBody({ ...idInfoCallback(job), UserIDsOfPreviousRegistrants: shape(ids) });
    expect(facet(classified.facets, 'idInfo').previousRegistrantUserIds).toHaveLength(
      MAX_PREVIOUS_REGISTRANTS,
    );
    expect(classified.overflow).toEqual([]);
  });

  it('keeps an ID text field of exactly the cap, and neither keeps nor cuts a longer one, flagging it', () => {
    const atCap = classifyBody({ ...idInfoCallback(job), FullName: 'n'.repeat(MAX_KEPT_TEXT_LENGTH) });
    expect(facet(atCap.facets, 'idInfo').idInfo.fullName).toHaveLength(MAX_KEPT_TEXT_LENGTH);
    expect(atCap.overflow).toEqual([]);
    const long = 'n'.repeat(MAX_KEPT_TEXT_LENGTH + 1);
    const classified = classifyBody({ ...idInfoCallback(job), FullName: long, Address: long });
    const { idInfo } = facet(classified.facets, 'idInfo');
    expect(idInfo.fullName).toBeUndefined();
    expect(idInfo.address).toBeUndefined();
    expect(idInfo.idNumber).toBe(job.idNumber);
    expect(classified.overflow).toEqual(['FullName', 'Address']);
  });

  it('reads only the first Actions keys and flags Actions', () => {
    const extra = Object.fromEntries(users(MAX_ACTIONS).map((name) => [`Extra_${name}`, 'Passed']));
    const classified = classifyBody({
      ...resultCallback(job),
      Actions: { Liveness_Check: 'Passed', ...extra },
    });
    const actions = facet(classified.facets, 'result').actions;
    expect(Object.keys(actions)).toHaveLength(MAX_ACTIONS);
    expect(actions.Liveness_Check).toBe('Passed');
    expect(classified.overflow).toEqual(['Actions']);
  });

  it('decides nothing from a result whose Actions overflowed: a failed one may be among those unread', () => {
    const extra = Object.fromEntries(users(MAX_ACTIONS).map((name) => [`Extra_${name}`, 'Passed']));
    const classified = classifyBody({
      ...resultCallback(job, 'approved'),
      Actions: { ...extra, Liveness_Check: 'Failed' },
    });
    expect(facet(classified.facets, 'result')).toMatchObject({ final: false, state: 'provisional' });
  });

  it('reads the newest history entries, drops the oldest, and flags the history', () => {
    const oldest = { ...resultCallback(job, 'provisional'), SmileJobID: '0000000000' };
    const newer = Array.from({ length: MAX_HISTORY_ENTRIES - 1 }, () => ({
      ...resultCallback(job, 'provisional'),
      SmileJobID: '0000000001',
    }));
    const classified = classifyBody(
      status({ result: 'x', history: [oldest, ...newer, idInfoCallback(job)] }),
    );
    expect([...classified.smileJobIds].sort()).toEqual(['0000000001', job.smileJobId].sort());
    expect(classified.kinds).toContain('id_info');
    expect(classified.overflow).toEqual(['history']);
  });

  it('flags lists inside a job_status result and history by their path', () => {
    const crowded = smileSecureCallback(job, suspects(MAX_SUSPECT_USERS + 1).map(withReason));
    const classified = classifyBody(status({ result: crowded, history: [crowded, crowded] }));
    expect(classified.overflow).toEqual(['result.Antifraud.SuspectUsers', 'history.Antifraud.SuspectUsers']);
  });
});

function withReason(suspect: { user_id: string }) {
  return { ...suspect, reason: 'selfie match' };
}
