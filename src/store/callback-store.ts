import type pg from 'pg';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import { CALLBACK_EVENTS, type CallbackEventField } from './evidence-tables.js';
import { decodeJob, jobSelectList, type StoredJob } from './job-table.js';
import { type JobWrite, jobWriteStatements } from './job-writes.js';
import { columnList, parameterList, statement } from './sql.js';

/** A callback event's row; `body` is already sealed (or null when withheld). */
export type CallbackEventRow = Readonly<Record<CallbackEventField, unknown>>;

/** What is known before deciding about a callback for a job: the job, and whether this body is new. */
export interface CallbackSnapshot {
  /** The event that already holds these exact bytes, if any. */
  duplicateOf: string | null;
  /** Another body for the job came with the same signature pair and a facet in common. */
  replayed: boolean;
  job: StoredJob | undefined;
}

const READ = statement<'jobId' | 'contentHash' | 'pairDigest' | 'kinds'>(
  `
SELECT (SELECT e.id FROM callback_events e WHERE e.content_hash = :contentHash) AS "duplicateOf",
       EXISTS (SELECT 1 FROM callback_events e
                WHERE e.job_id = :jobId AND e.pair_digest = :pairDigest
                  AND e.facets && :kinds::text[] AND e.content_hash <> :contentHash) AS "replayed",
       ${jobSelectList()}
  FROM (SELECT 1) AS one LEFT JOIN jobs j ON j.job_id = :jobId`,
  'callback-read',
);

const WRITE = jobWriteStatements(CALLBACK_EVENTS, 'callback');

/** An event that changes no job: an orphan (no job id), or an untrusted body for a settled job. */
const EVENT_ONLY = statement(`
INSERT INTO callback_events (job_id, ${columnList(CALLBACK_EVENTS.columns)})
VALUES (:jobId, ${parameterList(CALLBACK_EVENTS.columns)})
ON CONFLICT (content_hash) DO NOTHING
RETURNING id`);

const EVENT_BY_HASH = statement<'contentHash'>(
  'SELECT id FROM callback_events WHERE content_hash = :contentHash',
);

const KEPT_UNTRUSTED = statement<'sourceIp' | 'since'>(
  `
SELECT count(*)::int AS kept FROM callback_events
 WHERE source_ip = :sourceIp AND received_at > :since AND NOT trusted AND body IS NOT NULL`,
  'callback-untrusted-kept',
);

const UNIQUE_VIOLATION = '23505';

/** Where a callback becomes rows: reads for the decision, then writes of what was decided. */
export function createCallbackStore({ pool, cipher }: { pool: pg.Pool; cipher: FieldCipher }) {
  return {
    /** The body sealed for its event row, once, however many attempts the write takes. */
    sealBody(eventId: string, body: Buffer): Buffer {
      return cipher.seal(body, sealContext.callbackBody(eventId));
    },

    async read(key: { jobId: string; contentHash: string; pairDigest: string; kinds: string[] }) {
      const { rows } = await pool.query<Record<string, unknown>>(READ.bind(key));
      const row = rows[0]!;
      return {
        duplicateOf: row.duplicateOf as string | null,
        replayed: row.replayed as boolean,
        job: row.jobId === null ? undefined : decodeJob(row, cipher),
      } satisfies CallbackSnapshot;
    },

    /**
     * Writes the job (created when `version` is undefined, else swapped in), its event and its
     * transition in one statement. False when it lost a race: the job changed or appeared since it was
     * read, or a concurrent request committed the same body.
     */
    async write(write: JobWrite<CallbackEventField>): Promise<boolean> {
      try {
        const { rows } = await pool.query<{ written: number }>(WRITE(write, cipher));
        return rows[0]?.written === 1;
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
        throw error;
      }
    },

    /** Stores an event that changes no job; the id of the event holding these bytes if one already did. */
    async recordEventOnly(jobId: string | null, event: CallbackEventRow) {
      const { rows } = await pool.query<{ id: string }>(EVENT_ONLY.bind({ jobId, ...event }));
      if (rows[0]) return { eventId: rows[0].id, duplicate: false };
      const existing = await pool.query<{ id: string }>(
        EVENT_BY_HASH.bind({ contentHash: event.contentHash }),
      );
      return { eventId: existing.rows[0]!.id, duplicate: true };
    },

    /** How many untrusted bodies from this source address were kept whole since `since`. */
    async keptUntrusted(sourceIp: string, since: Date): Promise<number> {
      const { rows } = await pool.query<{ kept: number }>(KEPT_UNTRUSTED.bind({ sourceIp, since }));
      return rows[0]?.kept ?? 0;
    },
  };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
