import type pg from 'pg';
import { digestContext, type FieldCipher } from '../../security/field-cipher.js';
import { decodeJob, jobSelectList, type StoredJob } from '../jobs/job-table.js';
import { type JobWrite, jobWriteStatements } from '../jobs/job-writes.js';
import type { BodyVault, StashedBody } from '../objects/body-vault.js';
import { columnList, keysOf, parameterList, statement } from '../sql.js';
import { inTransaction } from '../transactions.js';
import { CALLBACK_EVENTS, type CallbackEventField } from './evidence-tables.js';

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

const EVENT_FIELDS = keysOf(CALLBACK_EVENTS.columns).filter(
  (field) => field !== 'body' && field !== 'bodyObjects' && field !== 'bodyWithheld',
);

/**
 * An event that changes no job: an orphan (no job id), or an untrusted body for a settled job. Like every
 * write of evidence, it keeps no body for a job whose identity data was erased; the job's row is locked
 * (FOR SHARE) to decide, so an erasure in progress is waited for and seen, never raced past.
 */
const EVENT_ONLY = statement(
  `
WITH job AS (SELECT purged_at IS NOT NULL AS erased FROM jobs WHERE job_id = :jobId FOR SHARE),
     decided AS (SELECT COALESCE((SELECT erased FROM job), false) AS erased)
INSERT INTO callback_events (job_id, ${columnList(CALLBACK_EVENTS.columns, EVENT_FIELDS)}, body, body_objects,
                             body_withheld)
SELECT :jobId, ${parameterList(CALLBACK_EVENTS.columns, EVENT_FIELDS)},
       CASE WHEN decided.erased THEN NULL ELSE :body::bytea END,
       CASE WHEN decided.erased THEN NULL ELSE :bodyObjects::smallint END,
       :bodyWithheld::boolean OR decided.erased
  FROM decided
ON CONFLICT (content_hash) DO NOTHING
RETURNING id, body_withheld AS "bodyWithheld"`,
  'callback-event-only',
);

const EVENT_BY_HASH = statement<'contentHash'>(
  'SELECT id FROM callback_events WHERE content_hash = :contentHash',
);

const KEPT_UNTRUSTED = statement<'sourceIp' | 'since'>(
  `
SELECT count(*)::int AS kept FROM callback_events
 WHERE source_ip = :sourceIp AND received_at > :since AND NOT trusted AND body IS NOT NULL`,
  'callback-untrusted-kept',
);

/**
 * A transaction-level advisory lock per job id. Only callback intake takes it, to queue its writers of
 * one job behind each other once they collide; other writers still meet them in the compare-and-swap.
 */
const LOCK_JOB = statement<'jobId'>(
  "SELECT pg_advisory_xact_lock(hashtextextended('callback intake:' || :jobId::text, 0))",
  'callback-lock-job',
);

const UNIQUE_VIOLATION = '23505';

/** What a write of a job and its event did. */
export interface Written {
  /** The body was not kept: the job's identity data had been erased. */
  bodyWithheld: boolean;
}

/** The statements of intake, on the pool or on one transaction's connection. */
function callbackQueries(db: pg.Pool | pg.PoolClient, cipher: FieldCipher) {
  return {
    async read(key: { jobId: string; contentHash: string; pairDigest: string; kinds: string[] }) {
      const { rows } = await db.query<Record<string, unknown>>(READ.bind(key));
      const row = rows[0]!;
      return {
        duplicateOf: row.duplicateOf as string | null,
        replayed: row.replayed as boolean,
        job: row.jobId === null ? undefined : decodeJob(row, cipher),
      } satisfies CallbackSnapshot;
    },

    /**
     * Writes the job (created when `version` is undefined, else swapped in), its event and its
     * transition in one statement. Null when it lost a race: the job changed or appeared since it was
     * read, or a concurrent request committed the same body.
     */
    async write(write: JobWrite<CallbackEventField>): Promise<Written | null> {
      try {
        const { rows } = await db.query<{ written: number; erased: boolean }>(WRITE(write, cipher));
        return rows[0]?.written === 1 ? { bodyWithheld: rows[0].erased } : null;
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return null;
        throw error;
      }
    },

    /** Stores an event that changes no job; the id of the event holding these bytes if one already did. */
    async recordEventOnly(jobId: string | null, event: CallbackEventRow) {
      const { rows } = await db.query<{ id: string; bodyWithheld: boolean }>(
        EVENT_ONLY.bind({ jobId, ...event }),
      );
      if (rows[0]) return { eventId: rows[0].id, duplicate: false, bodyWithheld: rows[0].bodyWithheld };
      const existing = await db.query<{ id: string }>(EVENT_BY_HASH.bind({ contentHash: event.contentHash }));
      return { eventId: existing.rows[0]!.id, duplicate: true, bodyWithheld: false };
    },

    /** How many untrusted bodies from this source address were kept whole since `since`. */
    async keptUntrusted(sourceIp: string, since: Date): Promise<number> {
      const { rows } = await db.query<{ kept: number }>(KEPT_UNTRUSTED.bind({ sourceIp, since }));
      return rows[0]?.kept ?? 0;
    },
  };
}

export type CallbackQueries = ReturnType<typeof callbackQueries>;

/** Where a callback becomes rows: reads for the decision, then writes of what was decided. */
export function createCallbackStore({
  pool,
  cipher,
  vault,
}: {
  pool: pg.Pool;
  cipher: FieldCipher;
  vault: BodyVault;
}) {
  return {
    ...callbackQueries(pool, cipher),

    /**
     * The body made ready for its event row: sealed, its photos written to the object store (or, when the
     * store cannot take them, kept whole). Once per callback, however many attempts the write takes.
     */
    stashBody(eventId: string, body: Buffer): Promise<StashedBody> {
      return vault.stash({ table: 'callback_events', id: eventId }, body, 'callback');
    },

    /** Removes the objects of a body whose row was not written after all (a duplicate, an erased job). */
    discardObjects(stashed: StashedBody): void {
      void vault.discard(stashed.keys);
    },

    /**
     * The keyed digest of the user id a body names (null when it names none), and the key it was made
     * under, which also says that the body's user was looked for (store/identity/user-digests.ts).
     */
    userDigest(userId: string | null): { digest: string | null; keyId: string } {
      const digest = userId === null ? null : cipher.digest(digestContext.userId, userId);
      return { digest, keyId: cipher.currentKeyId };
    },

    /**
     * Runs `work` in a transaction that holds the job's lock: intake's writers of one job take turns
     * instead of racing each other's compare-and-swap to exhaustion. Waiting for the lock is bounded by
     * the statement timeout, like any statement.
     */
    withJobLock<T>(jobId: string, work: (queries: CallbackQueries) => Promise<T>): Promise<T> {
      return inTransaction(pool, async (client) => {
        await client.query(LOCK_JOB.bind({ jobId }));
        return work(callbackQueries(client, cipher));
      });
    },
  };
}

export type CallbackStore = ReturnType<typeof createCallbackStore>;
