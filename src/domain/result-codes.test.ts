import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { categorizeResult, RESULT_CODES, SMILE_SECURE_CODES } from './result-codes.js';

/** docs/smile-id.md#result-codes, row by row. */
const SPEC_TABLE = [
  ['1012', 'approved'],
  ['1013', 'rejected'],
  ['1014', 'failed'],
  ['1015', 'failed'],
  ['1016', 'failed'],
  ['1020', 'approved'],
  ['1021', 'approved'],
  ['1022', 'rejected'],
  ['1023', 'rejected'],
  ['0001', 'rejected'],
  ['0903', 'rejected'],
  ['0907', 'rejected'],
  ['0810', 'approved'],
  ['0840', 'approved'],
  ['1210', 'approved'],
  ['0814', 'provisional'],
  ['5210', 'fraud_signal'],
  ['5211', 'fraud_signal'],
  ['5212', 'fraud_signal'],
] as const;

const ACTION_VALUES = [
  'Passed',
  'Completed',
  'Approved',
  'Verified',
  'Provisionally Approved',
  'Returned',
  'Not Returned',
  'Failed',
  'Rejected',
  'Under Review',
  'Unable To Determine',
  'Not Applicable',
  'Not Verified',
  'Not Done',
  'Issuer Unavailable',
  'ID Authority Photo Not Available',
  'Sent to Human Review',
] as const;

describe('RESULT_CODES', () => {
  it.each(SPEC_TABLE)('files code %s as %s, as docs/smile-id.md#result-codes does', (code, category) => {
    expect(RESULT_CODES[code]?.category).toBe(category);
  });

  it('holds every code of docs/smile-id.md#result-codes', () => {
    expect(Object.keys(RESULT_CODES)).toEqual(expect.arrayContaining(SPEC_TABLE.map(([code]) => code)));
  });

  it('agrees with every result code collected from Smile ID’s SDKs and docs, and names a source for each', () => {
    const collected = JSON.parse(
      readFileSync(new URL('../../test/fixtures/smileid/result-codes.json', import.meta.url), 'utf8'),
    ) as { code: string; category: string }[];
    for (const { code, category } of collected.filter((row) => row.category !== 'error')) {
      expect(RESULT_CODES[code]?.category, code).toBe(category);
    }
    for (const info of Object.values(RESULT_CODES)) expect(info.source.length).toBeGreaterThan(0);
  });

  it('spells every code as four digits', () => {
    for (const code of Object.keys(RESULT_CODES)) expect(code).toMatch(/^\d{4}$/);
  });

  it('names exactly the three Smile Secure codes as Smile Secure codes', () => {
    expect([...SMILE_SECURE_CODES].sort()).toEqual(['5210', '5211', '5212']);
  });
});

describe('categorizeResult', () => {
  it.each(SPEC_TABLE.filter(([code, category]) => category !== 'fraud_signal' && !code.startsWith('10')))(
    'takes the category of known code %s from the table, whatever the actions say',
    (code, category) => {
      expect(categorizeResult(code, { Liveness_Check: 'Failed', Human_Review_Compare: 'Under Review' })).toBe(
        category,
      );
      expect(categorizeResult(code, { Liveness_Check: 'Passed' })).toBe(category);
      expect(categorizeResult(code, {})).toBe(category);
    },
  );

  it.each(SPEC_TABLE.filter(([code]) => code.startsWith('10')))(
    'takes the category of ID code %s from the table when no biometric check failed',
    (code, category) => {
      expect(categorizeResult(code, { Liveness_Check: 'Passed', Human_Review_Compare: 'Under Review' })).toBe(
        category,
      );
      expect(categorizeResult(code, {})).toBe(category);
    },
  );

  it.each(['1012', '1020', '1021'])(
    'rejects an approving ID code %s when a biometric check in the same body failed',
    (code) => {
      expect(categorizeResult(code, { Liveness_Check: 'Failed', Verify_ID_Number: 'Verified' })).toBe(
        'rejected',
      );
    },
  );

  it.each([
    ['1013', 'rejected'],
    ['1014', 'failed'],
    ['1015', 'failed'],
  ])('keeps ID code %s as %s even when the actions also failed', (code, category) => {
    expect(categorizeResult(code, { Liveness_Check: 'Failed' })).toBe(category);
  });

  it.each(['Failed', 'Rejected', 'Not Verified'])('rejects an unknown code with an action %s', (value) => {
    expect(
      categorizeResult('1299', { Liveness_Check: 'Passed', Selfie_To_ID_Authority_Compare: value }),
    ).toBe('rejected');
  });

  it.each(['Under Review', 'Sent to Human Review', 'Provisionally Approved'])(
    'makes an unknown code with an action %s provisional',
    (value) => {
      expect(categorizeResult('1299', { Liveness_Check: 'Passed', Human_Review_Compare: value })).toBe(
        'provisional',
      );
    },
  );

  it('approves an unknown code whose actions all passed', () => {
    expect(
      categorizeResult('1299', {
        Liveness_Check: 'Passed',
        Register_Selfie: 'Approved',
        Selfie_To_ID_Authority_Compare: 'Completed',
        Verify_ID_Number: 'Verified',
        Return_Personal_Info: 'Returned',
        Human_Review_Compare: 'Not Applicable',
      }),
    ).toBe('approved');
  });

  it('keeps a result under review provisional beside a failed action, until job_status settles it', () => {
    expect(
      categorizeResult(undefined, { Liveness_Check: 'Failed', Human_Review_Compare: 'Under Review' }),
    ).toBe('provisional');
  });

  it('reads a Pure Provisional (image comparison provisionally approved, ID not verified) as provisional', () => {
    expect(
      categorizeResult('1299', {
        Selfie_To_ID_Authority_Compare: 'Provisionally Approved',
        Verify_ID_Number: 'Not Verified',
        Return_Personal_Info: 'Not Returned',
      }),
    ).toBe('provisional');
  });

  it('leaves a result with no decisive action provisional', () => {
    expect(categorizeResult('1299', {})).toBe('provisional');
    expect(categorizeResult(undefined, { Liveness_Check: 'Not Applicable', New: 'Something New' })).toBe(
      'provisional',
    );
    expect(categorizeResult(undefined, { Verify_ID_Number: 'Issuer Unavailable' })).toBe('provisional');
  });

  it('categorises a Smile Secure code from its actions, since it is no outcome', () => {
    expect(categorizeResult('5211', { Liveness_Check: 'Failed' })).toBe('rejected');
    expect(categorizeResult('5210', { Liveness_Check: 'Passed' })).toBe('approved');
    expect(categorizeResult('5212', {})).toBe('provisional');
  });

  it('does not depend on the order of the actions', () => {
    const actions = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.constantFrom(...ACTION_VALUES),
    );
    fc.assert(
      fc.property(actions, fc.constantFrom(undefined, '1299', '1210', '0814'), (map, code) => {
        const reversed = Object.fromEntries(Object.entries(map).reverse());
        expect(categorizeResult(code, reversed)).toBe(categorizeResult(code, map));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects any unknown-code result that holds a failing action and nothing under review', () => {
    const actions = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 12 }),
      fc.constantFrom(...ACTION_VALUES),
    );
    fc.assert(
      fc.property(actions, fc.constantFrom('Failed', 'Rejected', 'Not Verified'), (map, failing) => {
        const settled = Object.fromEntries(
          Object.entries(map).filter(
            ([, value]) =>
              !['Under Review', 'Sent to Human Review', 'Provisionally Approved'].includes(value),
          ),
        );
        expect(categorizeResult('1299', { ...settled, Failing_Check: failing })).toBe('rejected');
      }),
      { numRuns: 200 },
    );
  });
});
