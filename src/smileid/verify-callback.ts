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

/** Why a signature cannot vouch for a body; a malformed one says which part was wrong. */
export type SignatureRefusal =
  | { code: 'SIGNATURE_MISSING' | 'SIGNATURE_INVALID' }
  | { code: 'SIGNATURE_MALFORMED'; variant: 'fields' | 'signature' };

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
      refusal: BodyRefusal | SignatureRefusal;
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
  if (!parsed.ok) return { kind: 'rejected', refusal: parsed.refusal };
  const { body } = parsed;
  const envelope = signedEnvelopeSchema.safeParse(body);
  if (!envelope.success) {
    // Absent is "unsigned" (a legacy `sec_key` body included); present but unusable is malformed.
    const malformed = 'signature' in body && 'timestamp' in body;
    return {
      kind: 'rejected',
      refusal: malformed ? { code: 'SIGNATURE_MALFORMED', variant: 'fields' } : { code: 'SIGNATURE_MISSING' },
    };
  }
  const { signature, timestamp } = envelope.data;
  const check = verifySignature(signature, timestamp, keys.partnerId, keys.apiKeys);
  if (!check.valid) {
    const refusal: SignatureRefusal =
      check.reason === 'malformed_signature'
        ? { code: 'SIGNATURE_MALFORMED', variant: 'signature' }
        : { code: 'SIGNATURE_INVALID' };
    return { kind: 'rejected', refusal, reason: check.reason };
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
