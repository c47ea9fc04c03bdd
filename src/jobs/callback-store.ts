import type pg from 'pg';
import { checkAfterCallback } from '../reconcile/schedule.js';
import type { FacetKind } from './facets.js';
import { JOB_SELECT_LIST, type JobRecord, outcomeFromRecord } from './job-record.js';
import { type EvidenceTable, jobWriteParameters, jobWriteStatements } from './job-writes.js';
import { mergeObservation, transitionBetween } from './merge.js';
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

export type StoreResult = { status: 'accepted' | 'duplicate'; eventId: string; trusted: boolean };

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

/**
 * Where a callback becomes rows. The hot path costs two round trips: one read (the job, and whether this
 * body or its signature was seen before) and one statement that writes job, event and transition
 * atomically (see job-writes.ts).
 */
export function createCallbackStore({ pool }: { pool: pg.Pool }) {
  async function record(callback: IncomingCallback): Promise<StoreResult> {
    const observed = callback.observation;
    if (observed === null) return recordOrphan(callback);
    return withCompareAndSwap(() => tryRecord(callback, observed));
  }

  async function tryRecord(callback: IncomingCallback, observed: Omit<Observation, 'trusted'>) {
    const { rows } = await pool.query<Snapshot>(READ_SQL, [
      observed.jobId,
      callback.contentHash,
      callback.signature,
      callback.timestampRaw,
      callback.kinds,
    ]);
    const snapshot = rows[0]!;
    if (snapshot.duplicateOf !== null) {
      return { status: 'duplicate', eventId: snapshot.duplicateOf, trusted: false } as const;
    }
    const untrustedReason = callback.untrustedReason ?? (snapshot.replayed ? 'signature_replayed' : null);
    const trusted = untrustedReason === null;
    const exists = snapshot.jobId !== null;
    const before = exists ? outcomeFromRecord(snapshot) : undefined;
    const after = mergeObservation(before, { ...observed, trusted });
    const parameters = jobWriteParameters({
      jobId: observed.jobId,
      version: exists ? snapshot.version : undefined,
      after,
      transition: transitionBetween(before, after),
      at: callback.receivedAt,
      counts: { events: 1, untrustedEvents: trusted ? 0 : 1, checks: 0 },
      nextCheckAt: checkAfterCallback(after, exists ? snapshot.nextCheckAt : null, callback.receivedAt),
      staleAt: after.isFinal && after.confirmed ? (snapshot.staleAt ?? null) : null,
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
          callback.body,
        ],
      },
    });
    try {
      const result = await pool.query<{ written: number }>(exists ? WRITE.update : WRITE.create, parameters);
      return result.rows[0]?.written === 1
        ? ({ status: 'accepted', eventId: callback.eventId, trusted } as const)
        : null;
    } catch (error) {
      // The same body committed by a concurrent request: the next read reports the duplicate.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
      throw error;
    }
  }

  async function recordOrphan(callback: IncomingCallback): Promise<StoreResult> {
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
      callback.body,
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
