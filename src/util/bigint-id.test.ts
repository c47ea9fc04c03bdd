import { describe, expect, it } from 'vitest';
import { bigintDigits } from './bigint-id.js';

describe('bigintDigits', () => {
  const schema = bigintDigits();
  it('takes decimal digits up to Postgres bigint’s largest value', () => {
    expect(schema.safeParse('0').success).toBe(true);
    expect(schema.safeParse('9223372036854775807').success).toBe(true);
  });

  it.each([
    ['one past bigint', '9223372036854775808'],
    ['twenty digits', '12345678901234567890'],
    ['letters', 'abc'],
    ['a sign', '-1'],
    ['nothing', ''],
  ])('refuses %s as an issue, never by throwing', (_name, value) => {
    expect(() => schema.safeParse(value)).not.toThrow();
    expect(schema.safeParse(value).success).toBe(false);
  });
});
