import fc from 'fast-check';
import { Signature } from 'smile-identity-core';
import { describe, expect, it } from 'vitest';
import { computeSignature, signRequest, verifySignature } from './signature.js';

const VECTORS = [
  {
    apiKey: 'test-api-key',
    partnerId: '085',
    timestamp: '2023-02-14T00:07:49.924Z',
    signature: 'Z4Y5zmSTo/OoYxk7zPpWz31JcQzMH4qBqq05BisfvWU=',
  },
  {
    apiKey: 'test-api-key',
    partnerId: '85',
    timestamp: '2023-02-14T00:07:49.924Z',
    signature: 'gUQ17MXesSy5b8zEaw7L4n8hjPm0qJKUL2B9Ybv0L/s=',
  },
  {
    apiKey: 'test-api-key',
    partnerId: '085',
    timestamp: '2023-02-14T00:07:49.924+00:00',
    signature: 'K67E2PFcWFq+kcus9PLR/4TgkY/DX13ypZljw3MXs90=',
  },
] as const;

const [VECTOR] = VECTORS;

/** Both timestamp spellings Smile ID has used: milliseconds with `Z`, and microseconds with no zone. */
const smileTimestamp = fc
  .tuple(
    fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fc.integer({ min: 0, max: 999 }),
    fc.boolean(),
  )
  .map(([date, micros, zoneless]) =>
    zoneless ? `${date.toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}` : date.toISOString(),
  );
const partnerId = fc.oneof(fc.stringMatching(/^\d{1,6}$/), fc.string({ minLength: 1, unit: 'grapheme' }));
const apiKey = fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }));

describe('computeSignature', () => {
  it.each(VECTORS)('reproduces the documented test vector for partner $partnerId at $timestamp', (vector) => {
    expect(computeSignature(vector.apiKey, vector.partnerId, vector.timestamp)).toBe(vector.signature);
  });

  it('produces the standard padded base64 of a 32-byte digest', () => {
    fc.assert(
      fc.property(apiKey, partnerId, smileTimestamp, (key, partner, timestamp) => {
        const signature = computeSignature(key, partner, timestamp);
        expect(signature).toMatch(/^[A-Za-z0-9+/]{43}=$/);
        expect(Buffer.from(signature, 'base64')).toHaveLength(32);
      }),
      { numRuns: 200 },
    );
  });

  it('is confirmed by the official SDK for any key, partner id and timestamp', () => {
    fc.assert(
      fc.property(apiKey, partnerId, smileTimestamp, (key, partner, timestamp) => {
        const signature = computeSignature(key, partner, timestamp);
        expect(new Signature(partner, key).confirm_signature(timestamp, signature)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifySignature', () => {
  it.each(VECTORS)('accepts the documented test vector for partner $partnerId at $timestamp', (vector) => {
    expect(verifySignature(vector.signature, vector.timestamp, vector.partnerId, [vector.apiKey])).toEqual({
      valid: true,
      keyIndex: 0,
    });
  });

  it('accepts every signature the official SDK generates, with the timestamp it returns', () => {
    fc.assert(
      fc.property(apiKey, partnerId, smileTimestamp, (key, partner, timestamp) => {
        const generated = new Signature(partner, key).generate_signature(timestamp);
        expect(generated.timestamp).toBe(timestamp);
        expect(verifySignature(generated.signature, timestamp, partner, [key])).toEqual({
          valid: true,
          keyIndex: 0,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('accepts an SDK signature made from epoch milliseconds only with the ISO string the SDK signed', () => {
    const millis = Date.UTC(2024, 4, 1, 12, 30, 15, 123);
    const generated = new Signature('085', 'test-api-key').generate_signature(millis);
    const iso = new Date(millis).toISOString();
    expect(verifySignature(generated.signature, iso, '085', ['test-api-key']).valid).toBe(true);
    expect(verifySignature(generated.signature, String(millis), '085', ['test-api-key']).valid).toBe(false);
  });

  it('reports a signature made with another key as signature_mismatch', () => {
    fc.assert(
      fc.property(
        apiKey,
        apiKey,
        partnerId,
        smileTimestamp,
        (signingKey, acceptedKey, partner, timestamp) => {
          fc.pre(signingKey !== acceptedKey);
          const { signature } = new Signature(partner, signingKey).generate_signature(timestamp);
          expect(verifySignature(signature, timestamp, partner, [acceptedKey])).toEqual({
            valid: false,
            reason: 'signature_mismatch',
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports signature_mismatch when no key is configured at all', () => {
    expect(verifySignature(VECTOR.signature, VECTOR.timestamp, VECTOR.partnerId, [])).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
  });

  it('keeps the leading zeros of the partner id: a signature for "085" does not verify for "85"', () => {
    expect(verifySignature(VECTOR.signature, VECTOR.timestamp, '85', [VECTOR.apiKey])).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
  });

  it('accepts a signature made with the previous key after a rotation and reports it as key 1', () => {
    fc.assert(
      fc.property(apiKey, apiKey, partnerId, smileTimestamp, (newKey, oldKey, partner, timestamp) => {
        fc.pre(newKey !== oldKey);
        const { signature } = new Signature(partner, oldKey).generate_signature(timestamp);
        expect(verifySignature(signature, timestamp, partner, [newKey, oldKey])).toEqual({
          valid: true,
          keyIndex: 1,
        });
      }),
      { numRuns: 200 },
    );
  });

  it('reports the first matching key when the same key is listed twice', () => {
    const keys = ['other-key', VECTOR.apiKey, VECTOR.apiKey];
    expect(verifySignature(VECTOR.signature, VECTOR.timestamp, VECTOR.partnerId, keys)).toEqual({
      valid: true,
      keyIndex: 1,
    });
  });

  it.each([
    ['the same instant with an explicit +00:00 offset', '2023-02-14T00:07:49.924+00:00'],
    ['the same instant without milliseconds', '2023-02-14T00:07:49Z'],
    ['the same instant with microseconds', '2023-02-14T00:07:49.924000Z'],
    ['the same instant without a zone', '2023-02-14T00:07:49.924'],
    ['the same instant with a space instead of T', '2023-02-14 00:07:49.924Z'],
    ['the timestamp with trailing whitespace', '2023-02-14T00:07:49.924Z '],
    ['the timestamp as epoch milliseconds', String(Date.parse('2023-02-14T00:07:49.924Z'))],
  ])('rejects the signature when the timestamp is reformatted as %s', (_, reformatted) => {
    expect(verifySignature(VECTOR.signature, reformatted, VECTOR.partnerId, [VECTOR.apiKey])).toEqual({
      valid: false,
      reason: 'signature_mismatch',
    });
  });

  it('rejects a zone-less Smile ID timestamp once it is normalised to ISO form', () => {
    fc.assert(
      fc.property(apiKey, partnerId, smileTimestamp, (key, partner, timestamp) => {
        const normalised = new Date(timestamp.endsWith('Z') ? timestamp : `${timestamp}Z`).toISOString();
        fc.pre(normalised !== timestamp);
        const signature = computeSignature(key, partner, timestamp);
        expect(verifySignature(signature, normalised, partner, [key]).valid).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  const valid = VECTOR.signature;
  it.each([
    ['an empty string', ''],
    ['43 characters without padding', valid.slice(0, 43)],
    ['43 characters of a URL-safe alphabet', valid.replaceAll('/', '_').slice(0, 43)],
    ['the URL-safe alphabet', valid.replaceAll('/', '_')],
    ['a character outside base64', `!${valid.slice(1)}`],
    ['a hex digest', 'a'.repeat(64)],
    ['two padding characters', `${valid.slice(0, 42)}==`],
    ['no padding character but 44 characters', `${valid.slice(0, 43)}A`],
    ['45 characters', `A${valid}`],
    ['a trailing newline', `${valid}\n`],
    ['leading whitespace', ` ${valid}`],
    ['an embedded space', `${valid.slice(0, 10)} ${valid.slice(11)}`],
    ['the base64 of 31 bytes', Buffer.alloc(31, 7).toString('base64')],
    ['the base64 of 33 bytes', Buffer.alloc(33, 7).toString('base64')],
    ['the base64 of the signature text itself', Buffer.from(valid).toString('base64')],
  ])('reports %s as malformed_signature', (_, signature) => {
    expect(verifySignature(signature, VECTOR.timestamp, VECTOR.partnerId, [VECTOR.apiKey])).toEqual({
      valid: false,
      reason: 'malformed_signature',
    });
  });

  it('reports a non-canonical spelling of a valid signature (unused low bits set) as malformed', () => {
    // `U` ends the canonical form; `V`, `W` and `X` differ only in the two bits base64 ignores.
    expect(valid.at(-2)).toBe('U');
    for (const variant of ['V', 'W', 'X']) {
      const spelled = `${valid.slice(0, 42)}${variant}=`;
      expect(Buffer.from(spelled, 'base64').equals(Buffer.from(valid, 'base64'))).toBe(true);
      expect(verifySignature(spelled, VECTOR.timestamp, VECTOR.partnerId, [VECTOR.apiKey])).toEqual({
        valid: false,
        reason: 'malformed_signature',
      });
    }
  });

  it('reports any string that is not 43 base64 characters plus "=" as malformed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (signature) => {
        fc.pre(!/^[A-Za-z0-9+/]{43}=$/.test(signature));
        expect(verifySignature(signature, VECTOR.timestamp, VECTOR.partnerId, [VECTOR.apiKey])).toEqual({
          valid: false,
          reason: 'malformed_signature',
        });
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a well-formed signature that was not made with the key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const signature = Buffer.from(bytes).toString('base64');
        fc.pre(signature !== VECTOR.signature);
        expect(verifySignature(signature, VECTOR.timestamp, VECTOR.partnerId, [VECTOR.apiKey])).toEqual({
          valid: false,
          reason: 'signature_mismatch',
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('signRequest', () => {
  it('signs the ISO form of the given instant and the SDK confirms it', () => {
    const now = new Date('2024-06-01T08:00:00.250Z');
    const signed = signRequest('test-api-key', '085', now);
    expect(signed.timestamp).toBe('2024-06-01T08:00:00.250Z');
    expect(new Signature('085', 'test-api-key').confirm_signature(signed.timestamp, signed.signature)).toBe(
      true,
    );
    expect(verifySignature(signed.signature, signed.timestamp, '085', ['test-api-key']).valid).toBe(true);
  });

  it('reproduces the documented test vector for its instant', () => {
    expect(signRequest(VECTOR.apiKey, VECTOR.partnerId, new Date(VECTOR.timestamp))).toEqual({
      timestamp: VECTOR.timestamp,
      signature: VECTOR.signature,
    });
  });
});
