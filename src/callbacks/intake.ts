import { createHash, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { HttpError } from '../http/errors.js';
import { type Metrics, recordTransition } from '../observability/metrics.js';
import type { FieldCipher } from '../security/field-cipher.js';
import { classifyBody } from '../smileid/classify.js';
import { signedEnvelopeSchema } from '../smileid/payload.js';
import { verifySignature } from '../smileid/signature.js';
import { parseSmileTimestamp } from '../smileid/timestamp.js';
import type { CallbackStore, StoreResult } from '../store/callback-store.js';
import { parseJsonObject } from './parse-body.js';
import { storable } from './storable.js';

export interface IntakeOptions {
  partnerId: string;
  apiKeys: readonly string[];
  /** How old a signed timestamp may be and still be believed. */
  timestampToleranceMs: number;
  /** How far ahead of our clock a signed timestamp may be (clock skew), far less than the tolerance. */
  futureSkewMs: number;
}

export interface ReceivedCallback {
  raw: Buffer;
  sourceIp: string;
  log: FastifyBaseLogger;
}

/**
 * Verify → classify → store. Nothing is stored before the signature verifies, and every body whose
 * signature verifies is stored: one that cannot be trusted (stale timestamp, replayed signature, no
 * job id) is kept unapplied and its job flagged for confirmation through job_status.
 */
export function createIntake({
  store,
  options,
  now,
  cipher,
  metrics,
}: {
  store: CallbackStore;
  options: IntakeOptions;
  now: () => Date;
  cipher: FieldCipher;
  metrics?: Metrics;
}) {
  /**
   * The synchronous half: parse, verify, classify. Only its small result outlives it, so the parsed body
   * (megabytes of photo text) is garbage before the request waits for the database.
   */
  function verifyAndClassify({ raw, sourceIp, log }: ReceivedCallback) {
    const body = parseJsonObject(raw);
    const envelope = signedEnvelopeSchema.safeParse(body);
    if (!envelope.success) {
      // Absent is "unsigned" (a legacy `sec_key` body included); present but unusable is malformed.
      const code = 'signature' in body && 'timestamp' in body ? 'SIGNATURE_MALFORMED' : 'SIGNATURE_MISSING';
      log.warn({ reason: code, sourceIp }, 'callback refused: no usable signature');
      throw new HttpError(401, code, 'body must carry string `signature` and `timestamp` fields');
    }
    const { signature, timestamp } = envelope.data;
    const check = verifySignature(signature, timestamp, options.partnerId, options.apiKeys);
    if (!check.valid) {
      log.warn({ reason: check.reason, sourceIp }, 'callback refused: signature does not verify');
      metrics?.signatureFailures.inc({ source: 'callback', reason: check.reason });
      const code = check.reason === 'malformed_signature' ? 'SIGNATURE_MALFORMED' : 'SIGNATURE_INVALID';
      throw new HttpError(401, code, 'signature does not verify');
    }
    return { signature, timestamp, classified: storable(classifyBody(body)) };
  }

  async function receive(received: ReceivedCallback): Promise<StoreResult> {
    const { raw, sourceIp, log } = received;
    const { signature, timestamp, classified } = verifyAndClassify(received);
    const receivedAt = now();
    const signedAt = parseSmileTimestamp(timestamp);
    const contentHash = createHash('sha256').update(raw).digest('hex');
    const result = await store
      .record({
        eventId: randomUUID(),
        body: raw,
        contentHash,
        receivedAt,
        sourceIp,
        pairDigest: cipher.digest('callback signature pair', timestamp, signature),
        kinds: classified.kinds,
        overflow: classified.overflow,
        untrustedReason: timestampDoubt(signedAt, receivedAt.getTime(), options),
        observation:
          classified.jobId === null
            ? null
            : {
                jobId: classified.jobId,
                userId: classified.userId,
                jobType: classified.jobType,
                smileJobIds: classified.smileJobIds,
                facets: classified.facets,
                authority: 'callback',
                at: signedAt ?? receivedAt.getTime(),
                hash: contentHash,
                receivedAt,
              },
      })
      .catch((error: unknown) => {
        // Name and SQLSTATE only: a database error's message can quote values from the body.
        const { name, code } = error as { name?: string; code?: string };
        log.error(
          { error: { name, code }, jobId: classified.jobId },
          'callback not stored: storage unavailable',
        );
        throw new HttpError(503, 'STORAGE_UNAVAILABLE', 'storage is unavailable; retry later', {
          'retry-after': '5',
        });
      });
    log.info(
      {
        jobId: classified.jobId,
        eventId: result.eventId,
        kinds: classified.kinds,
        status: result.status,
        trusted: result.trusted,
        untrustedReason: result.untrustedReason,
        bodyWithheld: result.bodyWithheld,
        identityConflict: result.identityConflict,
      },
      'callback stored',
    );
    const kind = classified.kinds.join('+');
    const outcome = result.status === 'duplicate' ? 'duplicate' : result.trusted ? 'accepted' : 'untrusted';
    metrics?.callbacks.inc({ kind, outcome });
    if (result.status === 'accepted') metrics?.callbackBodyBytes.observe({ kind }, raw.length);
    if (result.untrustedReason) {
      metrics?.untrustedCallbacks.inc({
        reason: result.untrustedReason,
        body: result.bodyWithheld ? 'withheld' : 'kept',
      });
    }
    if (result.identityConflict) metrics?.identityConflicts.inc();
    recordTransition(metrics, result.transition, result.firstSeenAt, receivedAt);
    return result;
  }

  return { receive };
}

/** Why a verified signature's timestamp cannot vouch for the body, or null when it can. */
function timestampDoubt(
  signedAt: number | undefined,
  receivedAt: number,
  options: Pick<IntakeOptions, 'timestampToleranceMs' | 'futureSkewMs'>,
): string | null {
  if (signedAt === undefined) return 'timestamp_unparseable';
  if (signedAt - receivedAt > options.futureSkewMs) return 'timestamp_in_future';
  if (receivedAt - signedAt > options.timestampToleranceMs) return 'timestamp_outside_tolerance';
  return null;
}

export type Intake = ReturnType<typeof createIntake>;
