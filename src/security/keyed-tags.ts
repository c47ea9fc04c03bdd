import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Keyring } from './field-cipher.js';

/**
 * Short HMAC tags proving that the service made a value it is handed back (a page cursor), under keys
 * derived from the data keys (DATA_ENCRYPTION_KEYS) for one purpose, so no other secret is needed and a
 * tag never doubles as a digest or a cipher key. The newest key tags; every key still listed verifies,
 * so a rotation invalidates nothing tagged before it, until the older key is removed.
 */

/** 128 bits: a forger's chance per try is 2^-128, and a cursor stays short. */
export const TAG_BYTES = 16;

export function createKeyedTags(keyring: Keyring, purpose: string) {
  const keys = new Map(
    [...keyring.keys].map(([id, key]) => [
      id,
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), purpose, 32)),
    ]),
  );
  const current = keys.get(keyring.currentKeyId)!;

  const tagUnder = (key: Buffer, context: string, value: Uint8Array): Buffer =>
    createHmac('sha256', key).update(context).update('\0').update(value).digest().subarray(0, TAG_BYTES);

  return {
    /** The tag of `value` in `context` (what it is for: a tag made for one context fails in another). */
    tag: (context: string, value: Uint8Array): Buffer => tagUnder(current, context, value),
    /** Whether `tag` is the tag of `value` in `context` under any configured key. */
    verify(context: string, value: Uint8Array, tag: Uint8Array): boolean {
      if (tag.length !== TAG_BYTES) return false;
      let valid = false;
      // Every key is tried, so the time taken does not say which one matched.
      for (const key of keys.values()) valid = timingSafeEqual(tagUnder(key, context, value), tag) || valid;
      return valid;
    },
  };
}

export type KeyedTags = ReturnType<typeof createKeyedTags>;
