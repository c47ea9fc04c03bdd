import type { PolicyInUse } from '../domain/decision/policy.js';
import { changeFromCallback, untrustedMayTouch } from '../domain/job-change.js';
import type { Transition } from '../domain/merge.js';
import type { Observation } from '../domain/outcome.js';
import type { DecisionMove } from '../observability/metrics.js';
import type { CallbackEventRow, CallbackQueries, CallbackStore } from '../store/evidence/callback-store.js';
import type { StoredJob } from '../store/jobs/job-table.js';
import type { StashedBody } from '../store/objects/body-vault.js';
import { withCompareAndSwap } from '../store/transactions.js';

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
  /** The job's decision before and after this callback (for metrics). */
  decision?: DecisionMove;
}

/** A verified callback, ready to be stored: its body as its row will hold it, and what intake learned. */
export interface Callback {
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

/** What recording a callback works with: the store, the untrusted-body rules, the jobs written lately. */
export interface RecordContext {
  store: CallbackStore;
  options: { untrustedBodyQuotaPerHour: number; untrustedCheckDelayMs: number };
  /** The decision policy each job's decision is derived by, in the write that merges the callback. */
  policy: PolicyInUse;
  /** Job ids this process has written recently: a hint only, to pick the cheaper first statement. */
  knownJobs: Set<string>;
}

const HOUR_MS = 3_600_000;
/** How many job ids `knownJobs` holds before it starts afresh. */
const KNOWN_JOBS_LIMIT = 50_000;

function remember(knownJobs: Set<string>, jobId: string) {
  if (knownJobs.size >= KNOWN_JOBS_LIMIT) knownJobs.clear();
  knownJobs.add(jobId);
}

/**
 * Stores a verified callback: its event alone when it names no job or may not touch it, otherwise the
 * event with the job's change, created or merged.
 */
export async function record(
  context: RecordContext,
  callback: Callback,
  observed: Omit<Observation, 'trusted'> | null,
  doubt: string | null,
): Promise<StoreResult> {
  const { store, knownJobs } = context;
  if (observed === null) return recordEventOnly(context, store, callback, null, doubt ?? 'no_job_id');
  if (doubt === null && !knownJobs.has(observed.jobId)) {
    // A job with no rows yet has no earlier events, so nothing to deduplicate or replay against.
    const created = await write(context, store, callback, observed, undefined, null);
    remember(knownJobs, observed.jobId);
    if (created) return created;
  }
  const merged = await merge(context, store, callback, observed, doubt);
  if (merged !== null) return merged;
  // Lost a race: the job is being written at this moment. Its intake writers now take turns under its
  // lock, so they stop colliding with each other; only other writers (job_status, registration,
  // erasure) can still move the version between a read and a write, and they are few.
  return withCompareAndSwap(() =>
    store.withJobLock(observed.jobId, (locked) => merge(context, locked, callback, observed, doubt)),
  );
}

/** One read-merge-write of a known job; null when the compare-and-swap lost (read again). */
async function merge(
  context: RecordContext,
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
    return recordEventOnly(context, queries, callback, observed.jobId, untrustedReason);
  }
  return write(context, queries, callback, observed, snapshot.job, untrustedReason);
}

/** Decides the job's change and writes it; null when it lost a race (the caller reads again). */
async function write(
  context: RecordContext,
  queries: CallbackQueries,
  callback: Callback,
  observed: Omit<Observation, 'trusted'>,
  job: StoredJob | undefined,
  untrustedReason: string | null,
): Promise<StoreResult | null> {
  const trusted = untrustedReason === null;
  const overQuota = !trusted && (await isOverQuota(context, queries, callback));
  const change = changeFromCallback(
    job,
    { ...observed, trusted },
    { untrustedCheckDelayMs: context.options.untrustedCheckDelayMs, policy: context.policy },
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
    decision: { before: job?.decision ?? null, after: change.decision },
  };
}

async function recordEventOnly(
  context: RecordContext,
  queries: CallbackQueries,
  callback: Callback,
  jobId: string | null,
  untrustedReason: string,
): Promise<StoreResult> {
  const overQuota = await isOverQuota(context, queries, callback);
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
async function isOverQuota(
  { options }: RecordContext,
  queries: CallbackQueries,
  callback: Callback,
): Promise<boolean> {
  const since = new Date(callback.receivedAt.getTime() - HOUR_MS);
  return (await queries.keptUntrusted(callback.sourceIp, since)) >= options.untrustedBodyQuotaPerHour;
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
