import { describe, expect, it } from 'vitest';
import { cleanErrorText } from './error-text.js';

describe('a receiver’s error text as it is stored', () => {
  it('has no U+0000, control characters or line breaks: each run becomes one space', () => {
    expect(cleanErrorText('bad\u0000request\r\n\tsee\u001b[31m logs\u007f')).toBe(
      'bad request see [31m logs',
    );
  });

  it('has no unpaired surrogate, and keeps a paired one', () => {
    expect(cleanErrorText('a\ud800b\udc00c')).toBe('a\ufffdb\ufffdc');
    expect(cleanErrorText('ok 😀')).toBe('ok 😀');
  });

  it('is cut to the length kept, never between the halves of a surrogate pair', () => {
    expect(cleanErrorText('x'.repeat(500))).toHaveLength(200);
    const cut = cleanErrorText(`${'x'.repeat(9)}😀😀`, 10);
    expect(cut).toBe('x'.repeat(9));
    expect((cut as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
  });

  it('is empty for a body of nothing but blanks', () => {
    expect(cleanErrorText(' \u0000\n ')).toBe('');
  });
});
