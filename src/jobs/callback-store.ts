import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { FacetKind } from './facets.js';
import {
  JOB_SELECT_LIST,
  type JobRecord,
  outcomeColumnsSql,
  outcomeFromRecord,
  outcomeParameters,
} from './job-record.js';
import { mergeObservation, transitionBetween } from './merge.js';
import type { Observation } from './outcome.js';

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

export class StoreConflictError extends Error {
  readonly code = 'STORE_CONFLICT';
}

const MAX_ATTEMPTS = 10;
const UNIQUE_VIOLATION = '23505';

const outcome = outcomeColumnsSql(4);
const EVENT_PARAMETERS_START = 4 + outcome.columns.length;
const p = (offset: number) => `$${EVENT_PARAMETERS_START + offset}`;
const VERSION_PARAMETER = p(16);

const READ_SQL = `
SELECT (SELECT e.id FROM callback_events e WHERE e.content_hash = $2) AS "duplicateOf",
       EXISTS (SELECT 1 FROM callback_events e
                WHERE e.job_id = $1 AND e.signature = $3 AND e.timestamp_raw = $4
                  AND e.facets = $5::text[] AND e.content_hash <> $2) AS "replayed",
       ${JOB_SELECT_LIST}
  FROM (SELECT 1) AS one LEFT JOIN jobs j ON j.job_id = $1`;

const EVENT_AND_TRANSITION_SQL = `
event AS (
  INSERT INTO callback_events (id, job_id, received_at, source_ip, content_hash, facets, trusted,
                               untrusted_reason, signature, timestamp_raw, smile_job_id, body_bytes, body)
  SELECT ${p(0)}::uuid, job.job_id, $2::timestamptz, ${p(1)}::text, ${p(2)}::text, ${p(3)}::text[], ${p(4)}::boolean,
         ${p(5)}::text, ${p(6)}::text, ${p(7)}::text, ${p(8)}::text, ${p(9)}::integer, ${p(10)}::bytea
    FROM job
  RETURNING id
), transition AS (
  INSERT INTO job_transitions (job_id, event_id, from_state, to_state, from_final, to_final, at)
  SELECT job.job_id, event.id, ${p(12)}::job_state, ${p(13)}::job_state, ${p(14)}::boolean, ${p(15)}::boolean, $2::timestamptz
    FROM job, event WHERE ${p(11)}::boolean
)
SELECT count(*)::int AS written FROM job`;

/** Creates the job, stores the event and records the transition in one statement, or does nothing. */
const CREATE_SQL = `
WITH job AS (
  INSERT INTO jobs (job_id, created_at, updated_at, last_event_at, event_count, untrusted_event_count, version,
                    ${outcome.columns.join(', ')})
  VALUES ($1, $2::timestamptz, $2::timestamptz, $2::timestamptz, 1, $3::integer, 1, ${outcome.placeholders.join(', ')})
  ON CONFLICT (job_id) DO NOTHING
  RETURNING job_id
), ${EVENT_AND_TRANSITION_SQL}`;

/** Compare-and-swap on the job's version: writes everything only if nobody wrote the job since we read it. */
const UPDATE_SQL = `
WITH job AS (
  UPDATE jobs SET (${outcome.columns.join(', ')}) = ROW(${outcome.placeholders.join(', ')}),
         updated_at = $2::timestamptz, last_event_at = $2::timestamptz, event_count = event_count + 1,
         untrusted_event_count = untrusted_event_count + $3::integer, version = version + 1
   WHERE job_id = $1 AND version = ${VERSION_PARAMETER}::integer
  RETURNING job_id
), ${EVENT_AND_TRANSITION_SQL}`;

const ORPHAN_SQL = `
INSERT INTO callback_events (id, job_id, received_at, source_ip, content_hash, facets, trusted,
                             untrusted_reason, signature, timestamp_raw, smile_job_id, body_bytes, body)
VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (content_hash) DO NOTHING
RETURNING id`;

interface Snapshot extends JobRecord {
  duplicateOf: string | null;
  replayed: boolean;
}

/**
 * Where a callback becomes rows. The hot path costs two round trips: one read (the job, and whether this
 * body or its signature was seen before) and one statement that writes job, event and transition
 * atomically, guarded by the job's version. A concurrent writer makes the guard fail; we re-read and
 * merge again, which is safe because merging is idempotent and order-independent.
 */
export function createCallbackStore({ pool }: { pool: pg.Pool }) {
  async function record(callback: IncomingCallback): Promise<StoreResult> {
    if (callback.observation === null) return recordOrphan(callback);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const written = await tryRecord(callback, callback.observation);
      if (written) return written;
      await sleep(Math.random() * 2 * attempt);
    }
    throw new StoreConflictError(`gave up after ${MAX_ATTEMPTS} conflicting writes`);
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
    const before = snapshot.jobId === null ? undefined : outcomeFromRecord(snapshot);
    const after = mergeObservation(before, { ...observed, trusted });
    const transition = transitionBetween(before, after);
    const parameters = [
      observed.jobId,
      callback.receivedAt,
      trusted ? 0 : 1,
      ...outcomeParameters(after),
      callback.eventId,
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
      transition !== undefined,
      transition?.fromState ?? null,
      transition?.toState ?? after.state,
      transition?.fromFinal ?? null,
      transition?.toFinal ?? after.isFinal,
    ];
    try {
      const result = before
        ? await pool.query<{ written: number }>(UPDATE_SQL, [...parameters, snapshot.version])
        : await pool.query<{ written: number }>(CREATE_SQL, parameters);
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
