import type pg from 'pg';
import type { FacetKind } from '../domain/facets.js';
import { mergeObservation, type Transition, transitionBetween } from '../domain/merge.js';
import type { JobOutcome, Observation } from '../domain/outcome.js';
import { checkAfterCallback } from '../domain/poll-schedule.js';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import { JOB_SELECT_LIST, type JobRecord, outcomeFromRecord } from './job-record.js';
import { type EvidenceTable, jobWriteParameters, jobWriteStatements } from './job-writes.js';
import { withCompareAndSwap } from './transactions.js';

/** A verified callback, ready to be stored: the exact bytes plus what intake learned from them. */
export interface IncomingCallback {
  eventId: string;
  body: Buffer;
  contentHash: string;
  receivedAt: Date;
  sourceIp: string;
  /** Keyed digest of the (timestamp, signature) pair: replays are found by it, the pair is never stored. */
  pairDigest: string;
  kinds: FacetKind[];
  /** Lists longer than their cap: kept whole only in the sealed body. */
  overflow: string[];
  /** Why intake already distrusts it (e.g. a stale timestamp); the store adds `signature_replayed`. */
  untrustedReason: string | null;
  /** Present when the body names a job; an orphan is stored without one. */
  observation: Omit<Observation, 'trusted'> | null;
}

export interface StoreResult {
  status: 'accepted' | 'duplicate';
  eventId: string;
  trusted: boolean;
  /** Why it was not trusted, when it was not. */
  untrustedReason?: string;
  /** An untrusted body past its source's quota: only its digest and metadata were kept. */
  bodyWithheld?: boolean;
  /** The body named another user than the job's. */
  identityConflict?: boolean;
  /** The change of state this callback caused, and when its job was first seen (for metrics). */
  transition?: Transition;
  firstSeenAt?: Date;
}

export interface CallbackStoreOptions {
  /** Untrusted bodies per source address per hour whose bytes are kept; past it, digest and metadata only. */
  untrustedBodyQuotaPerHour: number;
  /** How soon the one check an untrusted body buys becomes due (it then waits its turn at low priority). */
  untrustedCheckDelayMs: number;
}

const CALLBACK_EVENTS: EvidenceTable = {
  table: 'callback_events',
  transitionColumn: 'event_id',
  columns: [
    ['received_at', 'timestamptz'],
    ['source_ip', 'text'],
    ['content_hash', 'text'],
    ['facets', 'text[]'],
    ['trusted', 'boolean'],
    ['untrusted_reason', 'text'],
    ['pair_digest', 'text'],
    ['smile_job_id', 'text'],
    ['body_bytes', 'integer'],
    ['body', 'bytea'],
    ['body_withheld', 'boolean'],
    ['identity_conflict', 'boolean'],
    ['overflow', 'text[]'],
  ],
};
const WRITE = jobWriteStatements(CALLBACK_EVENTS);
const EVENT_COLUMNS = ['id', 'job_id', ...CALLBACK_EVENTS.columns.map(([name]) => name)];

const READ_SQL = `
SELECT (SELECT e.id FROM callback_events e WHERE e.content_hash = $2) AS "duplicateOf",
       EXISTS (SELECT 1 FROM callback_events e
                WHERE e.job_id = $1 AND e.pair_digest = $3
                  AND e.facets && $4::text[] AND e.content_hash <> $2) AS "replayed",
       ${JOB_SELECT_LIST}
  FROM (SELECT 1) AS one LEFT JOIN jobs j ON j.job_id = $1`;

/** An event that changes no job: an orphan (no job id), or an untrusted body for a settled job. */
const EVENT_ONLY_SQL = `
INSERT INTO callback_events (${EVENT_COLUMNS.join(', ')})
VALUES (${EVENT_COLUMNS.map((_, index) => `$${index + 1}`).join(', ')})
ON CONFLICT (content_hash) DO NOTHING
RETURNING id`;

const KEPT_UNTRUSTED_SQL = `
SELECT count(*)::int AS kept FROM callback_events
 WHERE source_ip = $1 AND received_at > $2 AND NOT trusted AND body IS NOT NULL`;

const UNIQUE_VIOLATION = '23505';
const HOUR_MS = 3_600_000;

interface Snapshot extends JobRecord {
  duplicateOf: string | null;
  replayed: boolean;
}

/** Job ids this process has written recently: a hint only, to pick the cheaper first statement. */
const KNOWN_JOBS_LIMIT = 50_000;

/**
 * Where a callback becomes rows. A trusted callback for a job not seen yet costs one round trip: the
 * statement that creates job, event and transition together (see job-writes.ts), which does nothing if
 * the job exists after all. Otherwise it costs two: a read (the job, and whether this body or its
 * signature pair was seen before), then the same write as a compare-and-swap on the job's version.
 * Untrusted bodies cost a little more (their source's quota is counted) and change no schedule.
 */
export function createCallbackStore({
  pool,
  cipher,
  options,
}: {
  pool: pg.Pool;
  cipher: FieldCipher;
  options: CallbackStoreOptions;
}) {
  const knownJobs = new Set<string>();
  const remember = (jobId: string) => {
    if (knownJobs.size >= KNOWN_JOBS_LIMIT) knownJobs.clear();
    knownJobs.add(jobId);
  };

  async function record(callback: IncomingCallback): Promise<StoreResult> {
    const observed = callback.observation;
    const sealedBody = cipher.seal(callback.body, sealContext.callbackBody(callback.eventId));
    if (observed === null) {
      return recordEventOnly(callback, null, callback.untrustedReason ?? 'no_job_id', sealedBody);
    }
    if (callback.untrustedReason === null && !knownJobs.has(observed.jobId)) {
      // A job with no rows yet has no earlier events, so nothing to deduplicate or replay against.
      const created = await write(callback, observed, sealedBody, undefined, null);
      remember(observed.jobId);
      if (created) return created;
    }
    return withCompareAndSwap(() => readAndMerge(callback, observed, sealedBody));
  }

  async function readAndMerge(
    callback: IncomingCallback,
    observed: Omit<Observation, 'trusted'>,
    sealedBody: Buffer,
  ) {
    const { rows } = await pool.query<Snapshot>({
      name: 'callback-read',
      text: READ_SQL,
      values: [observed.jobId, callback.contentHash, callback.pairDigest, callback.kinds],
    });
    const snapshot = rows[0]!;
    if (snapshot.duplicateOf !== null) {
      return { status: 'duplicate', eventId: snapshot.duplicateOf, trusted: false } as const;
    }
    const untrustedReason = callback.untrustedReason ?? (snapshot.replayed ? 'signature_replayed' : null);
    const existing = snapshot.jobId === null ? undefined : snapshot;
    // What job_status has settled, no untrusted body may touch.
    if (untrustedReason !== null && existing?.isFinal && existing.confirmed) {
      return recordEventOnly(callback, observed.jobId, untrustedReason, sealedBody);
    }
    return write(callback, observed, sealedBody, existing, untrustedReason);
  }

  /** Creates the job (when `existing` is undefined) or swaps in its merged outcome; null when it lost a race. */
  async function write(
    callback: IncomingCallback,
    observed: Omit<Observation, 'trusted'>,
    sealedBody: Buffer,
    existing: JobRecord | undefined,
    untrustedReason: string | null,
  ): Promise<StoreResult | null> {
    const trusted = untrustedReason === null;
    const withheld = !trusted && (await overQuota(callback));
    const before = existing ? outcomeFromRecord(existing, cipher) : undefined;
    const after = mergeObservation(before, { ...observed, trusted });
    const transition = transitionBetween(before, after);
    const identityConflict = observed.userId !== null && observed.userId !== after.userId;
    const values = jobWriteParameters(
      {
        jobId: observed.jobId,
        version: existing?.version,
        after,
        transition,
        at: callback.receivedAt,
        counts: { events: 1, untrustedEvents: trusted ? 0 : 1, checks: 0 },
        nextCheckAt: nextCheckAfter(after, trusted, existing, callback.receivedAt),
        // A trusted callback brings a stale job back to life; an untrusted one changes nothing about it.
        staleAt: trusted && !(after.isFinal && after.confirmed) ? null : (existing?.staleAt ?? null),
        lastCheckedAt: null,
        untrustedCheckAt: untrustedCheckAfter(before, after, existing, callback.receivedAt),
        evidence: {
          id: callback.eventId,
          values: eventValues(callback, {
            trusted,
            untrustedReason,
            smileJobId: observed.smileJobIds[0] ?? null,
            sealedBody: withheld ? null : sealedBody,
            identityConflict,
          }),
        },
      },
      cipher,
    );
    try {
      const result = await pool.query<{ written: number }>(
        existing
          ? { name: 'callback-update', text: WRITE.update, values }
          : { name: 'callback-create', text: WRITE.create, values },
      );
      if (result.rows[0]?.written !== 1) return null;
      const firstSeenAt = existing?.createdAt ?? callback.receivedAt;
      return {
        status: 'accepted',
        eventId: callback.eventId,
        trusted,
        ...(untrustedReason === null ? {} : { untrustedReason, bodyWithheld: withheld }),
        identityConflict,
        transition,
        firstSeenAt,
      };
    } catch (error) {
      // The same body committed by a concurrent request: the next read reports the duplicate.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
      throw error;
    }
  }

  /** A trusted callback asks job_status to confirm within seconds; an untrusted one moves no schedule. */
  function nextCheckAfter(after: JobOutcome, trusted: boolean, existing: JobRecord | undefined, now: Date) {
    const current = existing?.nextCheckAt ?? null;
    return trusted && after.tracked ? checkAfterCallback(after, current, now) : current;
  }

  /** The first untrusted body for a job buys it one check; later ones buy none. */
  function untrustedCheckAfter(
    before: JobOutcome | undefined,
    after: JobOutcome,
    existing: JobRecord | undefined,
    now: Date,
  ): Date | null {
    const bought = (before?.untrustedAt ?? null) === null && after.untrustedAt !== null;
    if (bought && after.needsConfirmation && after.userId !== null)
      return new Date(now.getTime() + options.untrustedCheckDelayMs);
    return existing?.untrustedCheckAt ?? null;
  }

  async function overQuota(callback: IncomingCallback): Promise<boolean> {
    const since = new Date(callback.receivedAt.getTime() - HOUR_MS);
    const { rows } = await pool.query<{ kept: number }>({
      name: 'callback-untrusted-kept',
      text: KEPT_UNTRUSTED_SQL,
      values: [callback.sourceIp, since],
    });
    return (rows[0]?.kept ?? 0) >= options.untrustedBodyQuotaPerHour;
  }

  async function recordEventOnly(
    callback: IncomingCallback,
    jobId: string | null,
    untrustedReason: string,
    sealedBody: Buffer,
  ): Promise<StoreResult> {
    const withheld = await overQuota(callback);
    const { rows } = await pool.query<{ id: string }>(EVENT_ONLY_SQL, [
      callback.eventId,
      jobId,
      ...eventValues(callback, {
        trusted: false,
        untrustedReason,
        smileJobId: null,
        sealedBody: withheld ? null : sealedBody,
        identityConflict: false,
      }),
    ]);
    if (rows[0]) {
      return {
        status: 'accepted',
        eventId: rows[0].id,
        trusted: false,
        untrustedReason,
        bodyWithheld: withheld,
      };
    }
    const existing = await pool.query<{ id: string }>(
      'SELECT id FROM callback_events WHERE content_hash = $1',
      [callback.contentHash],
    );
    return { status: 'duplicate', eventId: existing.rows[0]!.id, trusted: false };
  }

  return { record };
}

/** The event row's values after `id` and `job_id`, in CALLBACK_EVENTS order. */
function eventValues(
  callback: IncomingCallback,
  event: {
    trusted: boolean;
    untrustedReason: string | null;
    smileJobId: string | null;
    sealedBody: Buffer | null;
    identityConflict: boolean;
  },
): unknown[] {
  return [
    callback.receivedAt,
    callback.sourceIp,
    callback.contentHash,
    callback.kinds,
    event.trusted,
    event.untrustedReason,
    callback.pairDigest,
    event.smileJobId,
    callback.body.length,
    event.sealedBody,
    event.sealedBody === null,
    event.identityConflict,
    callback.overflow,
  ];
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
