import { createHash, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { PolicyInUse } from '../domain/decision/policy.js';
import type { Observation } from '../domain/outcome.js';
import { CodedError } from '../http/coded-error.js';
import { loggableError } from '../http/errors.js';
import { isStorageUnavailable } from '../http/storage-unavailable.js';
import { type Metrics, recordDecision, recordTransition } from '../observability/metrics.js';
import type { FieldCipher } from '../security/field-cipher.js';
import { classifyBody } from '../smileid/classify.js';
import { type CallbackKeys, verifyCallback } from '../smileid/verify-callback.js';
import type { CallbackStore } from '../store/evidence/callback-store.js';
import type { StashedBody } from '../store/objects/body-vault.js';
import { type Callback, type RecordContext, record, type StoreResult } from './record-callback.js';
import { storable } from './storable.js';

export type { StoreResult } from './record-callback.js';

export interface IntakeOptions extends CallbackKeys {
  /** Untrusted bodies per source address per hour whose bytes are kept; past it, digest and metadata only. */
  untrustedBodyQuotaPerHour: number;
  /** How soon the one check an untrusted body buys becomes due (it then waits its turn at low priority). */
  untrustedCheckDelayMs: number;
}

export interface ReceivedCallback {
  raw: Buffer;
  sourceIp: string;
  log: FastifyBaseLogger;
}

/** What every callback's intake works with: the flow's dependencies and settings. */
interface IntakeFlow extends RecordContext {
  options: IntakeOptions;
  now: () => Date;
  cipher: FieldCipher;
  metrics: Metrics | undefined;
}

/**
 * The callback flow: verify → classify → merge → store. Nothing is stored before the signature verifies,
 * and every body whose signature verifies is stored: one that cannot be trusted (stale timestamp,
 * replayed signature, no job id) is kept unapplied and its job flagged for confirmation through
 * job_status. A trusted callback for a job not seen yet costs one round trip (the statement that creates
 * job, event and transition together, which does nothing if the job exists after all); otherwise two:
 * a read, then the same write as a compare-and-swap on the job's version. A callback that loses that race
 * takes the job's lock and tries again in turn, so a burst for one job queues instead of failing.
 *
 * Refusals are thrown as coded errors, whose statuses the error catalog holds (src/http/error-catalog.ts).
 * Only an unreachable or overloaded Postgres answers 503 with Retry-After; any other failure to store is
 * a fault that retrying cannot mend (a key id no longer configured, a bug): 500 CALLBACK_NOT_STORED.
 */
export function createIntake({
  store,
  options,
  policy,
  now,
  cipher,
  metrics,
}: {
  store: CallbackStore;
  options: IntakeOptions;
  /** The decision policy each job's decision is derived by, in the write that merges the callback. */
  policy: PolicyInUse;
  now: () => Date;
  cipher: FieldCipher;
  metrics?: Metrics | undefined;
}) {
  const flow: IntakeFlow = { store, options, policy, now, cipher, metrics, knownJobs: new Set<string>() };
  return { receive: (received: ReceivedCallback) => receive(flow, received) };
}

/** Verified, described, stored, logged and counted. */
async function receive(flow: IntakeFlow, received: ReceivedCallback): Promise<StoreResult> {
  const { raw, log } = received;
  const receivedAt = flow.now();
  const verified = verifyAndClassify(flow, received, receivedAt);
  const { classified, doubt } = verified;
  const described = describe(flow, received, receivedAt, verified);
  const observation = observationOf(verified, described);
  let stashed: Promise<StashedBody> | undefined;
  const callback: Callback = {
    ...described,
    // Written when a write first needs it: a duplicate found by the read costs no object.
    stash: () => {
      stashed ??= flow.store.stashBody(described.eventId, raw);
      return stashed;
    },
  };
  const result = await record(flow, callback, observation, doubt).catch(async (error: unknown) => {
    await discardUnkept(flow, stashed, undefined);
    throw notStored(error, log, classified.jobId);
  });
  await discardUnkept(flow, stashed, result);
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
  measure(flow.metrics, result, classified.kinds.join('+'), raw.length, receivedAt);
  return result;
}

/** Objects written for a body that no row keeps (a duplicate, a withheld body, a failed write) go at once. */
async function discardUnkept(
  { store }: IntakeFlow,
  stashed: Promise<StashedBody> | undefined,
  result: StoreResult | undefined,
) {
  if (stashed === undefined || (result?.status === 'accepted' && !result.bodyWithheld)) return;
  // A body that could not be stashed left no objects, and its error reached the recording that awaited it.
  const body = await stashed.catch(() => undefined);
  if (body) store.discardObjects(body);
}

/**
 * The synchronous half: verify and classify. Only its small result outlives it, so the parsed body
 * (megabytes of photo text) is garbage before the request waits for the database.
 */
function verifyAndClassify(
  { options, metrics }: IntakeFlow,
  { raw, sourceIp, log }: ReceivedCallback,
  receivedAt: Date,
) {
  const verdict = verifyCallback(raw, options, receivedAt);
  if (verdict.kind === 'rejected') {
    const { refusal } = verdict;
    if (verdict.reason) {
      log.warn({ reason: verdict.reason, sourceIp }, 'callback refused: signature does not verify');
      metrics?.signatureFailures.inc({ source: 'callback', reason: verdict.reason });
    } else if (refusal.code.startsWith('SIGNATURE_')) {
      log.warn({ reason: refusal.code, sourceIp }, 'callback refused: no usable signature');
    }
    throw new CodedError(refusal);
  }
  const { timestamp, signature, signedAt, doubt } = verdict;
  return { timestamp, signature, signedAt, doubt, classified: storable(classifyBody(verdict.body)) };
}

type Verified = ReturnType<typeof verifyAndClassify>;

/** The event to store, but for its body. */
function describe(
  { store, cipher }: IntakeFlow,
  { raw, sourceIp }: ReceivedCallback,
  receivedAt: Date,
  { timestamp, signature, classified }: Verified,
): Omit<Callback, 'stash'> {
  return {
    eventId: randomUUID(),
    bodyBytes: raw.length,
    contentHash: createHash('sha256').update(raw).digest('hex'),
    receivedAt,
    sourceIp,
    pairDigest: cipher.digest('callback signature pair', timestamp, signature),
    user: store.userDigest(classified.userId),
    kinds: classified.kinds,
    overflow: classified.overflow,
  };
}

/** What the callback says of its job, to merge; null when it names none. */
function observationOf(
  { classified, signedAt }: Verified,
  { contentHash, receivedAt }: Omit<Callback, 'stash'>,
): Omit<Observation, 'trusted'> | null {
  return classified.jobId === null
    ? null
    : {
        jobId: classified.jobId,
        userId: classified.userId,
        jobType: classified.jobType,
        smileJobIds: classified.smileJobIds,
        facets: classified.facets,
        authority: 'callback' as const,
        at: signedAt ?? receivedAt.getTime(),
        hash: contentHash,
        receivedAt,
      };
}

function measure(
  metrics: Metrics | undefined,
  result: StoreResult,
  kind: string,
  bytes: number,
  receivedAt: Date,
) {
  const outcome = result.status === 'duplicate' ? 'duplicate' : result.trusted ? 'accepted' : 'untrusted';
  metrics?.callbacks.inc({ kind, outcome });
  if (result.status === 'accepted') metrics?.callbackBodyBytes.observe({ kind }, bytes);
  if (result.untrustedReason) {
    metrics?.untrustedCallbacks.inc({
      reason: result.untrustedReason,
      body: result.bodyWithheld ? 'withheld' : 'kept',
    });
  }
  if (result.identityConflict) metrics?.identityConflicts.inc();
  recordTransition(metrics, result.transition, result.firstSeenAt, receivedAt);
  recordDecision(metrics, result.decision);
}

/**
 * Why a callback could not be stored. Postgres out of reach or too slow is worth a retry: the error is
 * passed on for the error handler to classify (503 with Retry-After). Anything else would fail the same
 * way again, so it is CALLBACK_NOT_STORED, whose cause is logged here by class and message (database
 * errors by code alone, since their messages can quote values from the body) and not attached to it.
 */
function notStored(error: unknown, log: FastifyBaseLogger, jobId: string | null): unknown {
  if (isStorageUnavailable(error)) {
    const { name, code } = error as { name?: string; code?: string };
    log.error({ error: { name, code }, jobId }, 'callback not stored: storage unavailable');
    return error;
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  log.error({ err: loggableError(cause), jobId }, 'callback not stored: a fault, not a retryable outage');
  return new CodedError({ code: 'CALLBACK_NOT_STORED' });
}

export type Intake = ReturnType<typeof createIntake>;
