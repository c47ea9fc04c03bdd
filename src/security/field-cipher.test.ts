import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, isSealed, KeyringError, parseKeyring, sealedKeyId } from './field-cipher.js';

const key = () => randomBytes(32).toString('base64');
const k1 = `k1:${key()}`;
const k2 = `k2:${key()}`;

describe('the field cipher', () => {
  const cipher = createFieldCipher(parseKeyring([k1]));

  it('opens what it sealed, and the sealed bytes do not contain the plaintext', () => {
    const plaintext = Buffer.from('{"fullName":"Adaeze Okafor","idNumber":"12345678901"}');
    const sealed = cipher.seal(plaintext, 'jobs.id_info:job-1');
    expect(sealed.includes(Buffer.from('Adaeze'))).toBe(false);
    expect(sealed.includes(Buffer.from('12345678901'))).toBe(false);
    expect(cipher.open(sealed, 'jobs.id_info:job-1')).toEqual(plaintext);
  });

  it('uses a fresh IV each time, so equal values do not look equal at rest', () => {
    const plaintext = Buffer.from('same');
    expect(cipher.seal(plaintext, 'c').equals(cipher.seal(plaintext, 'c'))).toBe(false);
  });

  it('tags every value with the id of the key that sealed it', () => {
    const sealed = cipher.seal(Buffer.from('x'), 'c');
    expect(isSealed(sealed)).toBe(true);
    expect(sealedKeyId(sealed)).toBe('k1');
  });

  it('refuses a value moved to another row or column', () => {
    const sealed = cipher.seal(Buffer.from('x'), 'jobs.id_info:job-1');
    expect(() => cipher.open(sealed, 'jobs.id_info:job-2')).toThrow();
  });

  it('refuses a tampered value', () => {
    const sealed = cipher.seal(Buffer.from('approved'), 'c');
    sealed[sealed.length - 1] = sealed[sealed.length - 1]! ^ 1;
    expect(() => cipher.open(sealed, 'c')).toThrow();
  });

  it('seals with the newest key and still opens values sealed with older ones', () => {
    const old = cipher.seal(Buffer.from('old data'), 'c');
    const rotated = createFieldCipher(parseKeyring([k2, k1]));
    expect(rotated.open(old, 'c').toString()).toBe('old data');
    expect(sealedKeyId(rotated.seal(Buffer.from('new'), 'c'))).toBe('k2');
    expect(rotated.needsReencryption(old)).toBe(true);
    expect(rotated.needsReencryption(rotated.seal(Buffer.from('new'), 'c'))).toBe(false);
  });

  it('says which key is missing when a retired key was removed too early', () => {
    const old = cipher.seal(Buffer.from('old data'), 'c');
    const withoutK1 = createFieldCipher(parseKeyring([k2]));
    expect(() => withoutK1.open(old, 'c')).toThrow(/no key k1/);
  });

  it('passes through plaintext stored before encryption existed, and marks it for re-encryption', () => {
    const legacy = Buffer.from('{"fullName":"A"}');
    expect(cipher.openJson(legacy, 'c')).toEqual({ fullName: 'A' });
    expect(cipher.needsReencryption(legacy)).toBe(true);
  });

  it('round-trips JSON', () => {
    const value = { idNumber: '1', fullData: { nested: [1, 'two'] }, photoProvided: true };
    expect(cipher.openJson(cipher.sealJson(value, 'c'), 'c')).toEqual(value);
  });
});

describe('parseKeyring', () => {
  it('takes the first key as the current one', () => {
    expect(parseKeyring([k2, k1]).currentKeyId).toBe('k2');
  });

  it.each([
    [[], 'at least one key'],
    [['nokey'], 'key id'],
    [[`k1:${Buffer.alloc(16).toString('base64')}`], '32 bytes'],
    [[k1, k1], 'appears twice'],
    [[`bad id:${key()}`], 'key id'],
  ])('refuses %j', (spec, message) => {
    expect(() => parseKeyring(spec)).toThrow(KeyringError);
    expect(() => parseKeyring(spec)).toThrow(message);
  });
});
