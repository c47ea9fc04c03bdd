import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idInfoCallback, resultCallback, simulatedJob } from '../simulator/callbacks.js';
import {
  actionsSchema,
  callbackBodySchema,
  jobStatusShapeSchema,
  looseBoolean,
  looseInteger,
  looseString,
  MAX_ACTIONS,
  MAX_HISTORY_ENTRIES,
  MAX_PREVIOUS_REGISTRANTS,
  MAX_SUSPECT_USERS,
  overflowOf,
  partnerParamsSchema,
  resultCode,
  signedEnvelopeSchema,
  suspectUsersSchema,
} from './payload.js';

describe('looseString', () => {
  it.each([
    ['a string', 'abc', 'abc'],
    ['a string with spaces, untouched', ' a b ', ' a b '],
    ['an integer', 42, '42'],
    ['a decimal', 99.5, '99.5'],
    ['"Not Available"', 'Not Available', undefined],
    ['"not available" in any case and padding', '  NOT AVAILABLE ', undefined],
    ['"N/A"', 'N/A', undefined],
    ['an empty string', '', undefined],
    ['null', null, undefined],
    ['undefined', undefined, undefined],
    ['a boolean', true, undefined],
    ['an object', { a: 1 }, undefined],
    ['an array', ['a'], undefined],
    ['NaN', Number.NaN, undefined],
    ['Infinity', Number.POSITIVE_INFINITY, undefined],
  ])('turns %s into %j', (_, input, expected) => {
    expect(looseString.parse(input)).toBe(expected);
  });
});

describe('looseBoolean', () => {
  it.each([
    [true, true],
    [false, false],
    ['true', true],
    ['false', false],
    ['TRUE', true],
    [' False ', false],
    ['Not Available', undefined],
    ['yes', undefined],
    ['1', undefined],
    [1, undefined],
    [0, undefined],
    [null, undefined],
    [{}, undefined],
  ])('turns %j into %j', (input, expected) => {
    expect(looseBoolean.parse(input)).toBe(expected);
  });
});

describe('looseInteger', () => {
  it.each([
    [1, 1],
    ['1', 1],
    [' 7 ', 7],
    ['-3', -3],
    ['0', 0],
    ['1.5', undefined],
    [1.5, undefined],
    ['1e3', undefined],
    ['abc', undefined],
    ['Not Available', undefined],
    [true, undefined],
    [null, undefined],
  ])('turns %j into %j', (input, expected) => {
    expect(looseInteger.parse(input)).toBe(expected);
  });
});

describe('resultCode', () => {
  it.each([
    ['0810', '0810'],
    ['810', '0810'],
    [810, '0810'],
    [1, '0001'],
    ['1012', '1012'],
    [' 1012 ', '1012'],
    [5211, '5211'],
    ['12345', undefined],
    [12345, undefined],
    ['08a0', undefined],
    ['-810', undefined],
    [-810, undefined],
    [810.5, undefined],
    ['Not Available', undefined],
    ['', undefined],
    [null, undefined],
    [true, undefined],
    [['0810'], undefined],
  ])('turns %j into %j', (input, expected) => {
    expect(resultCode.parse(input)).toBe(expected);
  });

  it('always yields four digits or undefined, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const code = resultCode.parse(input);
        expect(code === undefined || /^\d{4}$/.test(code)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('actionsSchema', () => {
  it('keeps string outcomes, including ones it has never seen', () => {
    const actions = {
      Liveness_Check: 'Passed',
      New_Check: 'Something New',
      Verify_ID_Number: 'Not Available',
    };
    expect(actionsSchema.parse(actions)).toEqual(actions);
  });

  it('drops actions whose value is not a string', () => {
    expect(
      actionsSchema.parse({
        Liveness_Check: 'Passed',
        Numeric: 1,
        Flag: true,
        Nothing: null,
        Nested: { value: 'Passed' },
        List: ['Passed'],
      }),
    ).toEqual({ Liveness_Check: 'Passed' });
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'Passed'],
    ['an array', ['Passed']],
    ['a number', 7],
  ])('reads %s as no actions', (_, input) => {
    expect(actionsSchema.parse(input)).toEqual({});
  });
});

describe('partnerParamsSchema', () => {
  it('reads job_type "1" as 1 and keeps the partner’s own keys', () => {
    expect(
      partnerParamsSchema.parse({ job_id: 'job-1', user_id: 'user-1', job_type: '1', shop: 'lagos-3' }),
    ).toEqual({ job_id: 'job-1', user_id: 'user-1', job_type: 1, shop: 'lagos-3' });
  });

  it('reads a numeric job_id and user_id as strings', () => {
    expect(partnerParamsSchema.parse({ job_id: 123, user_id: 45, job_type: 1 })).toEqual({
      job_id: '123',
      user_id: '45',
      job_type: 1,
    });
  });

  it('drops fields of the wrong type instead of failing', () => {
    expect(partnerParamsSchema.parse({ job_id: { id: 1 }, user_id: true, job_type: 'one' })).toEqual({
      job_id: undefined,
      user_id: undefined,
      job_type: undefined,
    });
  });

  it('reads a PartnerParams that is not an object as empty', () => {
    expect(partnerParamsSchema.parse('job-1')).toEqual({
      job_id: undefined,
      user_id: undefined,
      job_type: undefined,
    });
  });
});

describe('suspectUsersSchema', () => {
  it('keeps suspects with a user id, defaulting a missing reason to null', () => {
    expect(
      suspectUsersSchema.parse([
        { user_id: 'user-a', reason: 'same face' },
        { user_id: 42 },
        { reason: 'no user id' },
        { user_id: 'Not Available', reason: 'x' },
        'user-b',
        null,
      ]),
    ).toEqual([
      { userId: 'user-a', reason: 'same face' },
      { userId: '42', reason: null },
    ]);
  });

  it.each([
    ['an object', { user_id: 'a' }],
    ['a string', 'user-a'],
    ['null', null],
  ])('reads %s as no suspects', (_, input) => {
    expect(suspectUsersSchema.parse(input)).toEqual([]);
  });
});

describe('callbackBodySchema', () => {
  const job = simulatedJob({ jobId: 'job-payload' });

  it('reads Smile ID’s loose typing in a result callback', () => {
    const body = callbackBodySchema.parse(resultCallback(job));
    expect(body).toMatchObject({
      PartnerParams: { job_id: 'job-payload', user_id: job.userId, job_type: 1 },
      SmileJobID: job.smileJobId,
      ResultCode: '1210',
      ResultType: 'SAIA',
      IsFinalResult: true,
    });
  });

  it('reads an ID-information callback, turning "Not Available" into undefined', () => {
    const body = callbackBodySchema.parse(idInfoCallback(job, { previousRegistrants: ['user-x'] }));
    expect(body).toMatchObject({
      IDNumber: job.idNumber,
      FullName: job.fullName,
      IDNumberPreviouslyRegistered: true,
      UserIDsOfPreviousRegistrants: ['user-x'],
    });
    expect(body.ExpirationDate).toBeUndefined();
  });

  it('reads a numeric result code as its four-character form', () => {
    expect(callbackBodySchema.parse({ ResultCode: 810 }).ResultCode).toBe('0810');
  });

  it.each([
    [true, true],
    ['true', true],
    [false, false],
    ['false', false],
    ['Not Available', undefined],
  ])('reads IDNumberPreviouslyRegistered %j as %j', (input, expected) => {
    expect(
      callbackBodySchema.parse({ IDNumberPreviouslyRegistered: input }).IDNumberPreviouslyRegistered,
    ).toBe(expected);
  });

  it.each([
    ['an array of user ids', ['a', 'b'], ['a', 'b']],
    ['an array with numbers, blanks and objects', [1, '', ' ', {}, 'Not Available', 'b'], ['1', 'b']],
    ['a comma-separated string', 'a,b', ['a', 'b']],
    ['a comma-and-space-separated string', 'a, b ,c', ['a', 'b', 'c']],
    ['"Not Available"', 'Not Available', []],
    ['missing', undefined, []],
    ['an object', { a: 'b' }, []],
  ])('reads UserIDsOfPreviousRegistrants given as %s', (_, input, expected) => {
    expect(
      callbackBodySchema.parse({ UserIDsOfPreviousRegistrants: input }).UserIDsOfPreviousRegistrants,
    ).toEqual(expected);
  });

  it('keeps keys it does not know, and reads ConfidenceValue as the number it spells', () => {
    expect(callbackBodySchema.parse({ ConfidenceValue: '99.5', Source: 'WebAPI' })).toMatchObject({
      ConfidenceValue: 99.5,
      Source: 'WebAPI',
    });
  });

  it('reads Antifraud without a SuspectUsers list as no suspects', () => {
    expect(callbackBodySchema.parse({ Antifraud: {} }).Antifraud).toEqual({ SuspectUsers: [] });
    expect(callbackBodySchema.parse({ Antifraud: 'yes' }).Antifraud).toBeUndefined();
  });

  const knownKeys = [
    'PartnerParams',
    'SmileJobID',
    'ResultCode',
    'ResultText',
    'ResultType',
    'IsFinalResult',
    'Actions',
    'Antifraud',
    'IDNumber',
    'FullName',
    'FullData',
    'Photo',
    'IDNumberPreviouslyRegistered',
    'UserIDsOfPreviousRegistrants',
  ] as const;

  it('never throws on a body whose known keys hold values of any type', () => {
    const body = fc.dictionary(fc.constantFrom(...knownKeys), fc.anything(), { maxKeys: knownKeys.length });
    fc.assert(
      fc.property(body, (input) => {
        expect(callbackBodySchema.safeParse(input).success).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (input) => {
        expect(callbackBodySchema.safeParse(input).success).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('jobStatusShapeSchema', () => {
  it('reads loose flags and code of a job_status response', () => {
    expect(
      jobStatusShapeSchema.parse({ job_complete: 'true', job_success: false, code: 2302, result: 'x' }),
    ).toEqual({ job_complete: true, job_success: false, code: '2302', result: 'x', history: [] });
  });

  it('reads a history that is not an array as empty', () => {
    expect(jobStatusShapeSchema.parse({ history: { a: 1 } }).history).toEqual([]);
    expect(jobStatusShapeSchema.parse({ history: [1, 'a'] }).history).toEqual([1, 'a']);
  });
});

describe('list caps', () => {
  const many = (count: number) => Array.from({ length: count }, (_, index) => `u-${index}`);

  it('reads the first MAX_SUSPECT_USERS suspects, never an entry past them', () => {
    const listed = many(MAX_SUSPECT_USERS + 1).map((user_id) => ({ user_id }));
    const read = suspectUsersSchema.parse(listed);
    expect(read.map((suspect) => suspect.userId)).toEqual(many(MAX_SUSPECT_USERS));
  });

  it('reads the first MAX_ACTIONS actions, in the body’s order', () => {
    const actions = Object.fromEntries(many(MAX_ACTIONS + 3).map((name) => [name, 'Passed']));
    expect(Object.keys(actionsSchema.parse(actions))).toEqual(many(MAX_ACTIONS));
  });

  it('reads the newest MAX_HISTORY_ENTRIES entries of a job_status history', () => {
    const history = many(MAX_HISTORY_ENTRIES + 2);
    expect(jobStatusShapeSchema.parse({ history }).history).toEqual(history.slice(2));
  });

  it('names each list that holds more than its cap, and none that holds exactly its cap', () => {
    const body = (extra: number) => ({
      Actions: Object.fromEntries(many(MAX_ACTIONS + extra).map((name) => [name, 'Passed'])),
      Antifraud: { SuspectUsers: many(MAX_SUSPECT_USERS + extra) },
      UserIDsOfPreviousRegistrants: many(MAX_PREVIOUS_REGISTRANTS + extra).join(','),
    });
    expect(overflowOf(body(0))).toEqual([]);
    expect(overflowOf(body(1))).toEqual([
      'Antifraud.SuspectUsers',
      'UserIDsOfPreviousRegistrants',
      'Actions',
    ]);
  });
});

describe('signedEnvelopeSchema', () => {
  it('accepts string signature and timestamp', () => {
    expect(signedEnvelopeSchema.parse({ signature: 's', timestamp: 't', other: 1 })).toEqual({
      signature: 's',
      timestamp: 't',
    });
  });

  it.each([
    ['a missing signature', { timestamp: 't' }, 'signature must be a string'],
    ['a numeric timestamp', { signature: 's', timestamp: 1676333269924 }, 'timestamp must be a string'],
    ['an empty signature', { signature: '', timestamp: 't' }, 'signature is empty'],
    ['an empty timestamp', { signature: 's', timestamp: '' }, 'timestamp is empty'],
  ])('refuses %s', (_, input, message) => {
    const parsed = signedEnvelopeSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message)).toContain(message);
  });
});
