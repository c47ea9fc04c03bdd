import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './retry-after.js';

describe('the wait a Retry-After header asks for', () => {
  const now = new Date('2026-12-07T10:00:00.000Z');

  it('reads delta-seconds', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('0', now)).toBe(0);
  });

  it('reads an HTTP-date, in the IMF-fixdate form and the obsolete ones, as the time until it', () => {
    expect(retryAfterMs('Mon, 07 Dec 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Monday, 07-Dec-26 10:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('Mon Dec  7 10:00:05 2026', now)).not.toBeNull();
  });

  it('asks no wait for a date already past', () => {
    expect(retryAfterMs('Mon, 07 Dec 2026 09:00:00 GMT', now)).toBe(0);
  });

  it('is null when absent or neither form', () => {
    for (const value of [null, '', '  ', '-5', '1.5', 'soon', '3 seconds', `${'Mon, '.repeat(20)}GMT`]) {
      expect(retryAfterMs(value, now)).toBeNull();
    }
  });
});
