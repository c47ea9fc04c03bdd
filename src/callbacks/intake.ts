import { createHash, randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { changeFromCallback, untrustedMayTouch } from '../domain/job-change.js';
import type { Transition } from '../domain/merge.js';
import type { Observation } from '../domain/outcome.js';
import { CodedError } from '../http/coded-error.js';
import { loggableError } from '../http/errors.js';
import { isStorageUnavailable } from '../http/storage-unavailable.js';
import { type Metrics, recordTransition } from '../observability/metrics.js';
import type { FieldCipher } from '../security/field-cipher.js';
import { classifyBody } from '../smileid/classify.js';
import { type CallbackKeys, verifyCallback } from '../smileid/verify-callback.js';
import type { CallbackEventRow, CallbackQueries, CallbackStore } from '../store/evidence/callback-store.js';
import type { StoredJob } from '../store/jobs/job-table.js';
import type { StashedBody } from '../store/objects/body-vault.js';
import { withCompareAndSwap } from '../store/transactions.js';
import { storable } from './storable.js';

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

export interface StoreResult {
  status: 'accepted' | 'duplicate';
  eventId: string;
  trusted: boolean;
  /** Why it was not trusted, when it was not. */
  untrustedReason?: string;
  /**
   * Only its digest and metadata were kept: an untrusted body past its source's quota, or a body for a
   * job whose identity data was erased.
   */
  bodyWithheld?: boolean;
  /** The body named another user than the job's. */
  identityConflict?: boolean;
  /** The change of state this callback caused, and when its job was first seen (for metrics). */
  transition?: Transition;
  firstSeenAt?: Date;
}

const HOUR_MS = 3_600_000;
/** Job ids this process has written recently: a hint only, to pick the cheaper first statement. */
const KNOWN_JOBS_LIMIT = 50_000;

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
  now,
  cipher,
  metrics,
}: {
  store: CallbackStore;
  options: IntakeOptions;
  now: () => Date;
  cipher: FieldCipher;
  metrics?: Metrics | undefined;
}) {
  const knownJobs = new Set<string>();
  const remember = (jobId: string) => {
    if (knownJobs.size >= KNOWN_JOBS_LIMIT) knownJobs.clear();
    knownJobs.add(jobId);
  };

  /**
   * The synchronous half: verify and classify. Only its small result outlives it, so the parsed body
   * (megabytes of photo text) is garbage before the request waits for the database.
   */
  function verifyAndClassify({ raw, sourceIp, log }: ReceivedCallback, receivedAt: Date) {
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

  async function receive(received: ReceivedCallback): Promise<StoreResult> {
    const { raw, sourceIp, log } = received;
    const receivedAt = now();
    const { timestamp, signature, signedAt, doubt, classified } = verifyAndClassify(received, receivedAt);
    const eventId = randomUUID();
    const contentHash = createHash('sha256').update(raw).digest('hex');
    let stashed: Promise<StashedBody> | undefined;
    const callback: Callback = {
      eventId,
      // Written when a write first needs it: a duplicate found by the read costs no object.
      stash: () => {
        stashed ??= store.stashBody(eventId, raw);
        return stashed;
      },
      bodyBytes: raw.length,
      contentHash,
      receivedAt,
      sourceIp,
      pairDigest: cipher.digest('callback signature pair', timestamp, signature),
      user: store.userDigest(classified.userId),
      kinds: classified.kinds,
      overflow: classified.overflow,
    };
    const observation =
      classified.jobId === null
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
    const result = await record(callback, observation, doubt).catch(async (error: unknown) => {
      await discardUnkept(stashed, undefined);
      throw notStored(error, log, classified.jobId);
    });
    await discardUnkept(stashed, result);
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
    measure(result, classified.kinds.join('+'), raw.length, receivedAt);
    return result;
  }

  /** Objects written for a body that no row keeps (a duplicate, a withheld body, a failed write) go at once. */
  async function discardUnkept(stashed: Promise<StashedBody> | undefined, result: StoreResult | undefined) {
    if (stashed === undefined || (result?.status === 'accepted' && !result.bodyWithheld)) return;
    const body = await stashed.catch(() => undefined);
    if (body) store.discardObjects(body);
  }

  async function record(
    callback: Callback,
    observed: Omit<Observation, 'trusted'> | null,
    doubt: string | null,
  ): Promise<StoreResult> {
    if (observed === null) return recordEventOnly(store, callback, null, doubt ?? 'no_job_id');
    if (doubt === null && !knownJobs.has(observed.jobId)) {
      // A job with no rows yet has no earlier events, so nothing to deduplicate or replay against.
      const created = await write(store, callback, observed, undefined, null);
      remember(observed.jobId);
      if (created) return created;
    }
    const merged = await merge(store, callback, observed, doubt);
    if (merged !== null) return merged;
    // Lost a race: the job is being written at this moment. Its intake writers now take turns under its
    // lock, so they stop colliding with each other; only other writers (job_status, registration,
    // erasure) can still move the version between a read and a write, and they are few.
    return withCompareAndSwap(() =>
      store.withJobLock(observed.jobId, (locked) => merge(locked, callback, observed, doubt)),
    );
  }

  /** One read-merge-write of a known job; null when the compare-and-swap lost (read again). */
  async function merge(
    queries: CallbackQueries,
    callback: Callback,
    observed: Omit<Observation, 'trusted'>,
    doubt: string | null,
  ): Promise<StoreResult | null> {
    const snapshot = await queries.read({
      jobId: observed.jobId,
      contentHash: callback.contentHash,
      pairDigest: callback.pairDigest,
      kinds: callback.kinds,
    });
    if (snapshot.duplicateOf !== null) {
      return { status: 'duplicate', eventId: snapshot.duplicateOf, trusted: false };
    }
    const untrustedReason = doubt ?? (snapshot.replayed ? 'signature_replayed' : null);
    if (untrustedReason !== null && !untrustedMayTouch(snapshot.job)) {
      return recordEventOnly(queries, callback, observed.jobId, untrustedReason);
    }
    return write(queries, callback, observed, snapshot.job, untrustedReason);
  }

  /** Decides the job's change and writes it; null when it lost a race (the caller reads again). */
  async function write(
    queries: CallbackQueries,
    callback: Callback,
    observed: Omit<Observation, 'trusted'>,
    job: StoredJob | undefined,
    untrustedReason: string | null,
  ): Promise<StoreResult | null> {
    const trusted = untrustedReason === null;
    const overQuota = !trusted && (await isOverQuota(queries, callback));
    const change = changeFromCallback(
      job,
      { ...observed, trusted },
      { untrustedCheckDelayMs: options.untrustedCheckDelayMs },
    );
    const body = overQuota ? null : await callback.stash();
    const written = await queries.write({
      jobId: observed.jobId,
      version: job?.version,
      change,
      at: callback.receivedAt,
      evidence: eventRow(callback, body, {
        trusted,
        untrustedReason,
        smileJobId: observed.smileJobIds[0] ?? null,
        identityConflict: change.identityConflict,
      }),
    });
    if (!written) return null;
    return {
      status: 'accepted',
      eventId: callback.eventId,
      trusted,
      ...(untrustedReason === null ? {} : { untrustedReason }),
      ...(overQuota || written.bodyWithheld ? { bodyWithheld: true } : {}),
      identityConflict: change.identityConflict,
      transition: change.transition,
      firstSeenAt: job?.createdAt ?? callback.receivedAt,
    };
  }

  async function recordEventOnly(
    queries: CallbackQueries,
    callback: Callback,
    jobId: string | null,
    untrustedReason: string,
  ): Promise<StoreResult> {
    const overQuota = await isOverQuota(queries, callback);
    const body = overQuota ? null : await callback.stash();
    const stored = await queries.recordEventOnly(
      jobId,
      eventRow(callback, body, {
        trusted: false,
        untrustedReason,
        smileJobId: null,
        identityConflict: false,
      }),
    );
    return stored.duplicate
      ? { status: 'duplicate', eventId: stored.eventId, trusted: false }
      : {
          status: 'accepted',
          eventId: stored.eventId,
          trusted: false,
          untrustedReason,
          bodyWithheld: stored.bodyWithheld,
        };
  }

  /** Past its source's hourly quota, an untrusted body keeps only its digest and metadata. */
  async function isOverQuota(queries: CallbackQueries, callback: Callback): Promise<boolean> {
    const since = new Date(callback.receivedAt.getTime() - HOUR_MS);
    return (await queries.keptUntrusted(callback.sourceIp, since)) >= options.untrustedBodyQuotaPerHour;
  }

  function measure(result: StoreResult, kind: string, bytes: number, receivedAt: Date) {
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
  }

  return { receive };
}

/** A verified callback, ready to be stored: its body as its row will hold it, and what intake learned. */
interface Callback {
  eventId: string;
  /** The body sealed, its photos in the object store: made once, on first use. */
  stash: () => Promise<StashedBody>;
  bodyBytes: number;
  contentHash: string;
  receivedAt: Date;
  sourceIp: string;
  pairDigest: string;
  /** The keyed digest of the user id the body names (null if none), so erasure finds it with or without a job. */
  user: { digest: string | null; keyId: string };
  kinds: string[];
  overflow: string[];
}

/** The event's row; `body` null when it is withheld (its source over quota). */
function eventRow(
  callback: Callback,
  body: StashedBody | null,
  event: {
    trusted: boolean;
    untrustedReason: string | null;
    smileJobId: string | null;
    identityConflict: boolean;
  },
): CallbackEventRow {
  return {
    id: callback.eventId,
    receivedAt: callback.receivedAt,
    sourceIp: callback.sourceIp,
    contentHash: callback.contentHash,
    facets: callback.kinds,
    trusted: event.trusted,
    untrustedReason: event.untrustedReason,
    pairDigest: callback.pairDigest,
    smileJobId: event.smileJobId,
    bodyBytes: callback.bodyBytes,
    body: body?.sealed ?? null,
    bodyObjects: body?.objects ?? null,
    bodyWithheld: body === null,
    identityConflict: event.identityConflict,
    overflow: callback.overflow,
    userDigest: callback.user.digest,
    userDigestKeyId: callback.user.keyId,
  };
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
