import { describe, expect, it } from 'vitest';
import { computeSignature } from './signature.js';
import { type CallbackKeys, verifyCallback } from './verify-callback.js';

const keys: CallbackKeys = {
  partnerId: '085',
  apiKeys: ['new-key', 'old-key'],
  timestampToleranceMs: 15 * 60_000,
  futureSkewMs: 60_000,
};
const now = new Date('2026-12-03T12:00:00.000Z');

function body(fields: Record<string, unknown>, { key = 'new-key', at = now } = {}) {
  const timestamp = at.toISOString();
  return Buffer.from(
    JSON.stringify({ signature: computeSignature(key, keys.partnerId, timestamp), timestamp, ...fields }),
  );
}

describe('verifyCallback', () => {
  it('verifies a fresh body signed with any accepted key, without doubt', () => {
    for (const key of keys.apiKeys) {
      const verdict = verifyCallback(body({ ResultCode: '0810' }, { key }), keys, now);
      expect(verdict).toMatchObject({ kind: 'verified', doubt: null, signedAt: now.getTime() });
    }
  });

  it('verifies a stale or future-dated signature but names the doubt, so the body is not trusted', () => {
    const stale = verifyCallback(body({}, { at: new Date(now.getTime() - 16 * 60_000) }), keys, now);
    const future = verifyCallback(body({}, { at: new Date(now.getTime() + 2 * 60_000) }), keys, now);
    expect(stale).toMatchObject({ kind: 'verified', doubt: 'timestamp_outside_tolerance' });
    expect(future).toMatchObject({ kind: 'verified', doubt: 'timestamp_in_future' });
  });

  it('names an unparseable signed timestamp as a doubt', () => {
    const timestamp = 'yesterday';
    const raw = Buffer.from(
      JSON.stringify({ signature: computeSignature('new-key', '085', timestamp), timestamp }),
    );
    expect(verifyCallback(raw, keys, now)).toMatchObject({
      kind: 'verified',
      doubt: 'timestamp_unparseable',
    });
  });

  it('rejects with a code: no signature, a malformed one, one no key made, and bodies that are not JSON objects', () => {
    const codeOf = (raw: Buffer) => {
      const verdict = verifyCallback(raw, keys, now);
      return verdict.kind === 'rejected' ? verdict.refusal.code : verdict.kind;
    };
    expect(codeOf(Buffer.from('{"ResultCode":"0810"}'))).toBe('SIGNATURE_MISSING');
    expect(codeOf(Buffer.from('{"signature":5,"timestamp":"x"}'))).toBe('SIGNATURE_MALFORMED');
    expect(codeOf(body({}, { key: 'someone-else' }))).toBe('SIGNATURE_INVALID');
    expect(codeOf(Buffer.from(''))).toBe('EMPTY_BODY');
    expect(codeOf(Buffer.from('{"a":'))).toBe('INVALID_JSON');
    expect(codeOf(Buffer.from('[1]'))).toBe('NOT_AN_OBJECT');
    expect(codeOf(Buffer.from('{"__proto__":{}}'))).toBe('FORBIDDEN_JSON_KEY');
    expect(codeOf(Buffer.from('['.repeat(200) + ']'.repeat(200)))).toBe('JSON_TOO_DEEP');
  });

  it('gives the reason a signature failed, for the metric', () => {
    const verdict = verifyCallback(body({}, { key: 'someone-else' }), keys, now);
    expect(verdict).toMatchObject({ kind: 'rejected', reason: 'signature_mismatch' });
  });
});
