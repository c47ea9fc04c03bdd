import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/**
 * AES-256-GCM for identity data at rest. Each sealed value carries the id of the key that sealed it,
 * so keys rotate without a flag day: new data uses the newest key, older keys stay to open older data,
 * and `npm run keys:reencrypt` moves old rows to the newest key.
 *
 * Layout: version (1 byte, 0x01) | key id length (1) | key id (ASCII) | IV (12) | tag (16) | ciphertext.
 * The context (e.g. "jobs.id_info:<job id>") is authenticated, so a sealed value copied to another
 * row or column does not open.
 */

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface Keyring {
  /** The newest key: everything is sealed with it. */
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** Parses `id:base64key,id:base64key` (newest first); every key must be 32 bytes. */
export function parseKeyring(spec: readonly string[]): Keyring {
  const keys = new Map<string, Buffer>();
  for (const entry of spec) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (separator < 1 || !/^[\w.-]{1,64}$/.test(id))
      throw new KeyringError('a key id must be 1-64 of [A-Za-z0-9_.-]');
    if (key.length !== KEY_BYTES)
      throw new KeyringError(`key ${id} must be ${KEY_BYTES} bytes, base64-encoded`);
    if (keys.has(id)) throw new KeyringError(`key id ${id} appears twice`);
    keys.set(id, key);
  }
  const currentKeyId = spec.length > 0 ? [...keys.keys()][0] : undefined;
  if (currentKeyId === undefined) throw new KeyringError('at least one key is required');
  return { currentKeyId, keys };
}

/** Whether bytes are a sealed value (as opposed to plaintext stored before encryption existed). */
export function isSealed(value: Uint8Array): boolean {
  return value.length > 2 + IV_BYTES + TAG_BYTES && value[0] === VERSION;
}

export function sealedKeyId(sealed: Uint8Array): string {
  return Buffer.from(sealed.subarray(2, 2 + sealed[1]!)).toString('ascii');
}

export function createFieldCipher(keyring: Keyring) {
  const currentKey = keyring.keys.get(keyring.currentKeyId)!;
  const currentHeader = Buffer.concat([
    Buffer.from([VERSION, keyring.currentKeyId.length]),
    Buffer.from(keyring.currentKeyId),
  ]);

  function seal(plaintext: Uint8Array, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([currentHeader, iv, cipher.getAuthTag(), ciphertext]);
  }

  function open(sealed: Uint8Array, context: string): Buffer {
    if (!isSealed(sealed)) throw new KeyringError('value is not sealed');
    const keyId = sealedKeyId(sealed);
    const key = keyring.keys.get(keyId);
    if (!key)
      throw new KeyringError(`no key ${keyId} to open this value; keep retired keys until re-encrypted`);
    const start = 2 + sealed[1]!;
    const iv = sealed.subarray(start, start + IV_BYTES);
    const tag = sealed.subarray(start + IV_BYTES, start + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(start + IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  // Keys of their own for digests, derived from the data keys, so a digest never doubles as a cipher input.
  const digestKeys = new Map(
    [...keyring.keys].map(([id, key]) => [
      id,
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'smileid digest v1', 32)),
    ]),
  );

  function digestUnder(keyId: string, context: string, parts: readonly string[]): string | undefined {
    const key = digestKeys.get(keyId);
    if (!key) return undefined;
    const hmac = createHmac('sha256', key).update(context);
    for (const part of parts) hmac.update('\0').update(part);
    return hmac.digest('hex');
  }

  /**
   * A keyed digest (HMAC-SHA256, hex) under the newest key: equal inputs give equal digests, yet a
   * database dump alone cannot test a guess.
   */
  function digest(context: string, ...parts: string[]): string {
    return digestUnder(keyring.currentKeyId, context, parts)!;
  }

  /**
   * Whether `parts` give `stored`, a digest made under `keyId`: digests that must outlive a key rotation
   * are kept with their key's id, and match while that key is still listed.
   */
  function digestMatches(stored: string, keyId: string, context: string, ...parts: string[]): boolean {
    const computed = digestUnder(keyId, context, parts);
    if (computed === undefined || computed.length !== stored.length) return false;
    return timingSafeEqual(Buffer.from(computed), Buffer.from(stored));
  }

  /**
   * The digests `parts` give under every listed key, for finding rows by a digest made under any of
   * them (the newest key's first).
   */
  function digestsUnderEveryKey(context: string, ...parts: string[]): string[] {
    return [...keyring.keys.keys()].map((keyId) => digestUnder(keyId, context, parts)!);
  }

  /** Opens a value sealed by this service, or passes through plaintext written before encryption. */
  function openOrPlain(stored: Uint8Array, context: string): Buffer {
    return isSealed(stored) ? open(stored, context) : Buffer.from(stored);
  }

  return {
    currentKeyId: keyring.currentKeyId,
    seal,
    open: openOrPlain,
    digest,
    digestMatches,
    digestsUnderEveryKey,
    sealJson: (value: unknown, context: string) => seal(Buffer.from(JSON.stringify(value)), context),
    openJson: (stored: Uint8Array, context: string): unknown =>
      JSON.parse(openOrPlain(stored, context).toString()),
    /** True when the value must be rewritten under the newest key. */
    needsReencryption: (stored: Uint8Array) =>
      !isSealed(stored) || sealedKeyId(stored) !== keyring.currentKeyId,
  };
}

export type FieldCipher = ReturnType<typeof createFieldCipher>;

/** Where a sealed value lives: binds it to its row and column. */
export const sealContext = {
  idInfo: (jobId: string) => `jobs.id_info:${jobId}`,
  callbackBody: (eventId: string) => `callback_events.body:${eventId}`,
  snapshotBody: (snapshotId: string) => `status_snapshots.body:${snapshotId}`,
  submissionPayload: (jobId: string) => `submissions.payload:${jobId}`,
  submissionPrepared: (jobId: string) => `submissions.prepared:${jobId}`,
  /** One part of a stored body, kept in the object store: bound to its row and its place in the body. */
  bodyPart: (bodyContext: string, part: number) => `${bodyContext}#${part}`,
};

/** What a keyed digest is of: binds it to its use, so a digest made for one never matches another. */
export const digestContext = {
  /** The user id a stored callback body names (callback_events.user_digest). */
  userId: 'callback_events.user_digest',
};
