import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Smile ID's request signature (docs/smile-id.md#signatures): base64(HMAC-SHA256(apiKey, timestamp + partnerId + "sid_request")).
 * It covers only the timestamp, never the body, so a valid signature proves the sender knew a key at
 * that moment and nothing about the body it came with.
 */
export function computeSignature(apiKey: string, partnerId: string, timestamp: string): string {
  return createHmac('sha256', apiKey)
    .update(timestamp)
    .update(partnerId)
    .update('sid_request')
    .digest('base64');
}

const SIGNATURE_SHAPE = /^[A-Za-z0-9+/]{43}=$/;
const SIGNATURE_BYTES = 32;

export type SignatureCheck =
  | { valid: true; keyIndex: number }
  | { valid: false; reason: 'malformed_signature' | 'signature_mismatch' };

/**
 * Checks `signature` against every accepted key (a rotation leaves callbacks signed with the previous
 * key in flight). The timestamp is used exactly as received: reformatting it would change the HMAC.
 * Every key is tried even after a match, so timing reveals neither which key matched nor how many exist.
 */
export function verifySignature(
  signature: string,
  timestamp: string,
  partnerId: string,
  apiKeys: readonly string[],
): SignatureCheck {
  if (!SIGNATURE_SHAPE.test(signature)) return { valid: false, reason: 'malformed_signature' };
  const received = Buffer.from(signature, 'base64');
  // The last character carries two unused bits, so four spellings decode to the same bytes; only the
  // canonical one is accepted, or a replayed signature could be disguised as a new one.
  if (received.length !== SIGNATURE_BYTES || received.toString('base64') !== signature) {
    return { valid: false, reason: 'malformed_signature' };
  }
  let keyIndex = -1;
  apiKeys.forEach((apiKey, index) => {
    const expected = Buffer.from(computeSignature(apiKey, partnerId, timestamp), 'base64');
    if (timingSafeEqual(expected, received) && keyIndex === -1) keyIndex = index;
  });
  return keyIndex === -1 ? { valid: false, reason: 'signature_mismatch' } : { valid: true, keyIndex };
}

/** Signs a fresh request to Smile ID with the first (newest) key. */
export function signRequest(
  apiKey: string,
  partnerId: string,
  now: Date,
): { timestamp: string; signature: string } {
  const timestamp = now.toISOString();
  return { timestamp, signature: computeSignature(apiKey, partnerId, timestamp) };
}
