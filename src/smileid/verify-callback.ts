import { type BodyRefusal, parseCallbackBody } from './callback-body.js';
import { signedEnvelopeSchema } from './payload.js';
import { type SignatureCheck, verifySignature } from './signature.js';
import { parseSmileTimestamp } from './timestamp.js';

export interface CallbackKeys {
  partnerId: string;
  /** Every accepted key, newest first: a rotation leaves bodies signed with the previous one in flight. */
  apiKeys: readonly string[];
  /** How old a signed timestamp may be and still be believed. */
  timestampToleranceMs: number;
  /** How far ahead of our clock a signed timestamp may be (clock skew), far less than the tolerance. */
  futureSkewMs: number;
}

export type SignatureRefusal = 'SIGNATURE_MISSING' | 'SIGNATURE_MALFORMED' | 'SIGNATURE_INVALID';

/** Why a signature that verifies cannot vouch for its body. */
export type TimestampDoubt = 'timestamp_unparseable' | 'timestamp_in_future' | 'timestamp_outside_tolerance';

export type CallbackVerdict =
  | {
      kind: 'verified';
      body: Record<string, unknown>;
      timestamp: string;
      signature: string;
      /** The signed timestamp (epoch ms), when it parses. */
      signedAt: number | undefined;
      /** Null: signed and fresh, so the body may be applied; otherwise kept only as evidence. */
      doubt: TimestampDoubt | null;
    }
  | {
      kind: 'rejected';
      code: BodyRefusal | SignatureRefusal;
      message: string;
      /** For a signature that does not verify: what was wrong with it (a metric label). */
      reason?: Extract<SignatureCheck, { valid: false }>['reason'];
    };

/**
 * A callback's raw bytes, the keys and the clock in; a verdict out. Pure: replays are judged later
 * against stored digests, and statuses are the HTTP layer's. Smile ID's signature covers a timestamp and
 * our partner id, never the body (docs/smile-id.md#signatures), so a valid one with a stale or future
 * timestamp proves little: such a body is `verified` with a doubt, not trusted.
 */
export function verifyCallback(raw: Buffer, keys: CallbackKeys, now: Date): CallbackVerdict {
  const parsed = parseCallbackBody(raw);
  if (!parsed.ok) return { kind: 'rejected', code: parsed.code, message: parsed.message };
  const { body } = parsed;
  const envelope = signedEnvelopeSchema.safeParse(body);
  if (!envelope.success) {
    // Absent is "unsigned" (a legacy `sec_key` body included); present but unusable is malformed.
    const code = 'signature' in body && 'timestamp' in body ? 'SIGNATURE_MALFORMED' : 'SIGNATURE_MISSING';
    return { kind: 'rejected', code, message: 'body must carry string `signature` and `timestamp` fields' };
  }
  const { signature, timestamp } = envelope.data;
  const check = verifySignature(signature, timestamp, keys.partnerId, keys.apiKeys);
  if (!check.valid) {
    const code = check.reason === 'malformed_signature' ? 'SIGNATURE_MALFORMED' : 'SIGNATURE_INVALID';
    return { kind: 'rejected', code, message: 'signature does not verify', reason: check.reason };
  }
  const signedAt = parseSmileTimestamp(timestamp);
  return {
    kind: 'verified',
    body,
    timestamp,
    signature,
    signedAt,
    doubt: timestampDoubt(signedAt, now.getTime(), keys),
  };
}

function timestampDoubt(
  signedAt: number | undefined,
  receivedAt: number,
  keys: Pick<CallbackKeys, 'timestampToleranceMs' | 'futureSkewMs'>,
): TimestampDoubt | null {
  if (signedAt === undefined) return 'timestamp_unparseable';
  if (signedAt - receivedAt > keys.futureSkewMs) return 'timestamp_in_future';
  if (receivedAt - signedAt > keys.timestampToleranceMs) return 'timestamp_outside_tolerance';
  return null;
}
