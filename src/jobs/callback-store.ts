import type pg from 'pg';
import { checkAfterCallback } from '../reconcile/schedule.js';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import type { FacetKind } from './facets.js';
import { JOB_SELECT_LIST, type JobRecord, outcomeFromRecord } from './job-record.js';
import { type EvidenceTable, jobWriteParameters, jobWriteStatements } from './job-writes.js';
import { mergeObservation, type Transition, transitionBetween } from './merge.js';
import type { Observation } from './outcome.js';
import { withCompareAndSwap } from './retry.js';

/** A verified callback, ready to be stored: the exact bytes plus what intake learned from them. */
export interface IncomingCallback {
  eventId: string;
  body: Buffer;
  contentHash: string;
  receivedAt: Date;
  sourceIp: string;
  signature: string;
  timestampRaw: string;
  kinds: FacetKind[];
  /** Why intake already distrusts it (e.g. a stale timestamp); the store adds `signature_replayed`. */
  untrustedReason: string | null;
  /** Present when the body names a job; an orphan is stored without one. */
  observation: Omit<Observation, 'trusted'> | null;
}

export interface StoreResult {
  status: 'accepted' | 'duplicate';
  eventId: string;
  trusted: boolean;
  /** The change of state this callback caused, and when its job was first seen (for metrics). */
  transition?: Transition;
  firstSeenAt?: Date;
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
    ['signature', 'text'],
    ['timestamp_raw', 'text'],
    ['smile_job_id', 'text'],
    ['body_bytes', 'integer'],
    ['body', 'bytea'],
  ],
};
const WRITE = jobWriteStatements(CALLBACK_EVENTS);

const READ_SQL = `
SELECT (SELECT e.id FROM callback_events e WHERE e.content_hash = $2) AS "duplicateOf",
       EXISTS (SELECT 1 FROM callback_events e
                WHERE e.job_id = $1 AND e.signature = $3 AND e.timestamp_raw = $4
                  AND e.facets = $5::text[] AND e.content_hash <> $2) AS "replayed",
       ${JOB_SELECT_LIST}
  FROM (SELECT 1) AS one LEFT JOIN jobs j ON j.job_id = $1`;

const ORPHAN_SQL = `
INSERT INTO callback_events (id, job_id, received_at, source_ip, content_hash, facets, trusted,
                             untrusted_reason, signature, timestamp_raw, smile_job_id, body_bytes, body)
VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (content_hash) DO NOTHING
RETURNING id`;

const UNIQUE_VIOLATION = '23505';

interface Snapshot extends JobRecord {
  duplicateOf: string | null;
  replayed: boolean;
}

/** Job ids this process has written recently: a hint only, to pick the cheaper first statement. */
const KNOWN_JOBS_LIMIT = 50_000;

/**
 * Where a callback becomes rows. A callback for a job not seen yet costs one round trip: the statement
 * that creates job, event and transition together (see job-writes.ts), which does nothing if the job
 * exists after all. Otherwise it costs two: a read (the job, and whether this body or its signature
 * was seen before), then the same write as a compare-and-swap on the job's version. Statements are
 * prepared once per connection.
 */
export function createCallbackStore({ pool, cipher }: { pool: pg.Pool; cipher: FieldCipher }) {
  const knownJobs = new Set<string>();
  const remember = (jobId: string) => {
    if (knownJobs.size >= KNOWN_JOBS_LIMIT) knownJobs.clear();
    knownJobs.add(jobId);
  };

  async function record(callback: IncomingCallback): Promise<StoreResult> {
    const observed = callback.observation;
    const sealedBody = cipher.seal(callback.body, sealContext.callbackBody(callback.eventId));
    if (observed === null) return recordOrphan(callback, sealedBody);
    if (!knownJobs.has(observed.jobId)) {
      // A job with no rows yet has no earlier events, so nothing to deduplicate or replay against.
      const created = await write(callback, observed, sealedBody, undefined, callback.untrustedReason);
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
      values: [
        observed.jobId,
        callback.contentHash,
        callback.signature,
        callback.timestampRaw,
        callback.kinds,
      ],
    });
    const snapshot = rows[0]!;
    if (snapshot.duplicateOf !== null) {
      return { status: 'duplicate', eventId: snapshot.duplicateOf, trusted: false } as const;
    }
    const untrustedReason = callback.untrustedReason ?? (snapshot.replayed ? 'signature_replayed' : null);
    return write(
      callback,
      observed,
      sealedBody,
      snapshot.jobId === null ? undefined : snapshot,
      untrustedReason,
    );
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
    const before = existing ? outcomeFromRecord(existing, cipher) : undefined;
    const after = mergeObservation(before, { ...observed, trusted });
    const transition = transitionBetween(before, after);
    const values = jobWriteParameters(
      {
        jobId: observed.jobId,
        version: existing?.version,
        after,
        transition,
        at: callback.receivedAt,
        counts: { events: 1, untrustedEvents: trusted ? 0 : 1, checks: 0 },
        nextCheckAt: checkAfterCallback(after, existing?.nextCheckAt ?? null, callback.receivedAt),
        staleAt: after.isFinal && after.confirmed ? (existing?.staleAt ?? null) : null,
        lastCheckedAt: null,
        evidence: {
          id: callback.eventId,
          values: [
            callback.receivedAt,
            callback.sourceIp,
            callback.contentHash,
            callback.kinds,
            trusted,
            untrustedReason,
            callback.signature,
            callback.timestampRaw,
            observed.smileJobIds[0] ?? null,
            callback.body.length,
            sealedBody,
          ],
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
      return { status: 'accepted', eventId: callback.eventId, trusted, transition, firstSeenAt };
    } catch (error) {
      // The same body committed by a concurrent request: the next read reports the duplicate.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
      throw error;
    }
  }

  async function recordOrphan(callback: IncomingCallback, sealedBody: Buffer): Promise<StoreResult> {
    const { rows } = await pool.query<{ id: string }>(ORPHAN_SQL, [
      callback.eventId,
      callback.receivedAt,
      callback.sourceIp,
      callback.contentHash,
      callback.kinds,
      false,
      callback.untrustedReason ?? 'no_job_id',
      callback.signature,
      callback.timestampRaw,
      null,
      callback.body.length,
      sealedBody,
    ]);
    if (rows[0]) return { status: 'accepted', eventId: rows[0].id, trusted: false };
    const existing = await pool.query<{ id: string }>(
      'SELECT id FROM callback_events WHERE content_hash = $1',
      [callback.contentHash],
    );
    return { status: 'duplicate', eventId: existing.rows[0]!.id, trusted: false };
  }

  return { record };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
