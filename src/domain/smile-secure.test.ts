import { describe, expect, it } from 'vitest';
import { combineSmileSecure } from './smile-secure.js';

const suspect = (userId: string, reason: string | null = 'same face') => ({ userId, reason });

describe('combineSmileSecure', () => {
  it('keeps every suspect, and says suspects found whenever there is one', () => {
    expect(
      combineSmileSecure([
        { code: '5210', suspectUsers: [] },
        { code: '5211', suspectUsers: [suspect('b'), suspect('a')] },
      ]),
    ).toEqual({ code: '5211', suspectUsers: [suspect('a'), suspect('b')] });
  });

  it('puts a system error above no suspects, whatever the order', () => {
    const signals = [
      { code: '5210', suspectUsers: [] },
      { code: '5212', suspectUsers: [] },
    ];
    expect(combineSmileSecure(signals).code).toBe('5212');
    expect(combineSmileSecure([...signals].reverse()).code).toBe('5212');
  });

  it('keeps one reason per suspect, the same whichever arrived first', () => {
    const a = { code: null, suspectUsers: [suspect('u', 'same face')] };
    const b = { code: null, suspectUsers: [suspect('u', 'same ID')] };
    expect(combineSmileSecure([a, b])).toEqual(combineSmileSecure([b, a]));
  });
});
