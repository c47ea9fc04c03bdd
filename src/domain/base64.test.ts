import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64DecodedLength, decodeStrictBase64 } from './base64.js';

describe('strict base64', () => {
  it('decodes what Node encodes, at every padding, and knows its length before decoding', () => {
    for (const size of [1, 2, 3, 4, 5, 6, 100, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1]) {
      const bytes = randomBytes(size);
      const text = bytes.toString('base64');
      expect(base64DecodedLength(text), `${size} bytes`).toBe(size);
      expect(decodeStrictBase64(text)?.equals(bytes), `${size} bytes`).toBe(true);
    }
  });

  it.each([
    ['a data: prefix', 'data:image/jpeg;base64,/9j/4AAQ'],
    ['a line break', '/9j/\n4AAQ'],
    ['a space', '/9j/ 4AAQ'],
    ['URL-safe letters', '_9j-4AAQ'],
    ['missing padding', '/9j/4A'],
    ['padding in the middle', '/9==4AAQ'],
    ['too much padding', '/9j/4A==='],
    ['non-zero bits in the last character', 'QR=='],
    ['characters outside ASCII', '/9j/4AAé'],
  ])('refuses %s', (_what, text) => {
    expect(decodeStrictBase64(text)).toBeUndefined();
  });

  it('never counts fewer bytes than malformed text could decode to', () => {
    for (const text of ['/9j/4A', 'AAAAA', 'A', '']) {
      expect(base64DecodedLength(text)).toBeGreaterThanOrEqual(Buffer.from(text, 'base64').length);
    }
  });
});
