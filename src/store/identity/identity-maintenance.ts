import type pg from 'pg';
import { digestContext, type FieldCipher, sealContext } from '../../security/field-cipher.js';
import type { BodyRef, BodyTable, BodyVault } from '../objects/body-vault.js';
import { statement } from '../sql.js';
import { inMaintenance } from '../transactions.js';

/**
 * The two tasks that may rewrite stored identity data: moving it under the newest key, and erasing it
 * at the end of retention. Both work in small batches, each batch one transaction that announces itself
 * to the immutability trigger (`smileid.maintenance`), so they can run beside live traffic.
 */

interface SealedColumn {
  table: 'jobs' | 'callback_events' | 'status_snapshots' | 'submissions';
  key: 'job_id' | 'id';
  column: 'id_info' | 'body' | 'payload' | 'prepared';
  context: (key: string) => string;
  /** A stored body: its objects are re-sealed with it (store/objects/body-vault.ts). */
  body?: BodyTable;
}

const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'jobs', key: 'job_id', column: 'id_info', context: sealContext.idInfo },
  {
    table: 'callback_events',
    key: 'id',
    column: 'body',
    context: sealContext.callbackBody,
    body: 'callback_events',
  },
  {
    table: 'status_snapshots',
    key: 'id',
    column: 'body',
    context: sealContext.snapshotBody,
    body: 'status_snapshots',
  },
  { table: 'submissions', key: 'job_id', column: 'payload', context: sealContext.submissionPayload },
  { table: 'submissions', key: 'job_id', column: 'prepared', context: sealContext.submissionPrepared },
];

/**
 * Re-seals values under the newest key (plaintext from before encryption too); returns how many. A body's
 * objects are re-sealed before its row, so a row under the newest key has every object under it too.
 */
export async function reencryptBatch(
  pool: pg.Pool,
  cipher: FieldCipher,
  vault: BodyVault,
  batchSize: number,
): Promise<number> {
  let total = 0;
  for (const target of SEALED_COLUMNS) {
    total += await inMaintenance(pool, async (client) => {
      const { rows } = await client.query<{ key: string; value: Buffer }>(
        `SELECT ${target.key} AS key, ${target.column} AS value FROM ${target.table}
          WHERE ${target.column} IS NOT NULL AND sealed_key_id(${target.column}) IS DISTINCT FROM $1
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [cipher.currentKeyId, batchSize],
      );
      for (const row of rows) {
        const context = target.context(row.key);
        // Jobs' writers compare-and-swap on version: bumping it makes one that read the old value re-read.
        const bump = target.table === 'jobs' ? ', version = version + 1' : '';
        const resealed = target.body
          ? await vault.reseal({ table: target.body, id: row.key }, row.value)
          : cipher.seal(cipher.open(row.value, context), context);
        await client.query(
          `UPDATE ${target.table} SET ${target.column} = $2${bump} WHERE ${target.key} = $1`,
          [row.key, resealed],
        );
      }
      return rows.length;
    });
  }
  return total;
}

/**
 * Re-seals everything not yet under the newest key. Batches skip rows locked by live writes, so it ends
 * only when a count that waits for no lock finds nothing left.
 */
export async function reencryptAll(
  pool: pg.Pool,
  cipher: FieldCipher,
  vault: BodyVault,
  batchSize = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await reencryptBatch(pool, cipher, vault, batchSize);
    total += done;
    if (done === 0 && (await countNotUnderKey(pool, cipher.currentKeyId)) === 0) return total;
    if (done === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function countNotUnderKey(pool: pg.Pool, keyId: string): Promise<number> {
  let count = 0;
  for (const target of SEALED_COLUMNS) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${target.table}
        WHERE ${target.column} IS NOT NULL AND sealed_key_id(${target.column}) IS DISTINCT FROM $1`,
      [keyId],
    );
    count += rows[0]!.n;
  }
  return count;
}

export interface PurgeCounts {
  jobs: number;
  callbackEvents: number;
  statusSnapshots: number;
  submissions: number;
  /** Objects (photos) of the purged bodies removed from the object store. */
  objects: number;
  /**
   * Objects of the purged bodies the store did not remove (it failed: the call is counted in
   * `smileid_object_store_operations_total`): no row refers to them any more, so the orphan sweep does.
   */
  objectsLeft: number;
}

/** A body whose row no longer holds it, and how many objects it had. */
interface ErasedBody {
  ref: BodyRef;
  objects: number;
}

const bodiesOf = (
  table: BodyTable,
  rows: ReadonlyArray<{ id: string; objects: number | null }>,
): ErasedBody[] =>
  rows
    .filter((row) => (row.objects ?? 0) > 0)
    .map((row) => ({ ref: { table, id: row.id }, objects: row.objects! }));

/**
 * Removes the objects of bodies whose rows no longer hold them (after that commit: a row never refers to
 * a removed object), then records them gone. Throws when the store cannot: the rows keep their counts,
 * so a repeat of the erasure finds them, and the orphan sweep removes them in any case.
 */
async function removeObjects(
  pool: pg.Pool,
  vault: BodyVault,
  bodies: readonly ErasedBody[],
): Promise<number> {
  if (bodies.length === 0) return 0;
  const removed = await vault.erase(bodies);
  await inMaintenance(pool, async (client) => {
    for (const table of ['callback_events', 'status_snapshots'] as const) {
      const ids = bodies.filter((body) => body.ref.table === table).map((body) => body.ref.id);
      if (ids.length > 0)
        await client.query(`UPDATE ${table} SET body_objects = 0 WHERE id = ANY($1::uuid[])`, [ids]);
    }
  });
  return removed;
}

/**
 * One batch of retention: raw bodies (with their photos) received before `before` are removed, and the
 * ID authority's record of jobs created before it is erased. Outcomes, codes, hashes and times remain.
 * Jobs' versions are bumped so that a concurrent merge re-reads instead of writing the record back. The
 * bodies' objects go once the batch has committed; what the object store does not remove now is counted
 * as left, and the orphan sweep removes it later (no row refers to it any more, and a later run of
 * retention does not find these rows again).
 */
export async function purgeExpiredBatch(
  pool: pg.Pool,
  vault: BodyVault,
  before: Date,
  batchSize: number,
): Promise<PurgeCounts> {
  const { counts, bodies } = await inMaintenance(pool, async (client) => {
    const purge = async (sql: string) => (await client.query(sql, [before, batchSize])).rowCount ?? 0;
    const purgeBodies = async (sql: string) =>
      (await client.query<{ id: string; objects: number | null }>(sql, [before, batchSize])).rows;
    const events = await purgeBodies(`
        UPDATE callback_events SET body = NULL, purged_at = now()
         WHERE id IN (SELECT id FROM callback_events WHERE received_at < $1 AND purged_at IS NULL
                       LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING id, body_objects AS objects`);
    const snapshots = await purgeBodies(`
        UPDATE status_snapshots SET body = NULL, purged_at = now()
         WHERE id IN (SELECT id FROM status_snapshots WHERE fetched_at < $1 AND purged_at IS NULL
                       LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING id, body_objects AS objects`);
    return {
      bodies: [...bodiesOf('callback_events', events), ...bodiesOf('status_snapshots', snapshots)],
      counts: {
        callbackEvents: events.length,
        statusSnapshots: snapshots.length,
        submissions: await purge(`
        UPDATE submissions
           SET payload = NULL, prepared = NULL, erased_at = now(), updated_at = now(), next_attempt_at = NULL,
               status = CASE WHEN status IN ('queued', 'uploading') THEN 'failed' ELSE status END,
               error_code = CASE WHEN status IN ('queued', 'uploading') THEN 'ERASED' ELSE error_code END,
               error_message = CASE WHEN status IN ('queued', 'uploading')
                                    THEN 'its identity data passed retention before the upload' ELSE error_message END
         WHERE job_id IN (SELECT job_id FROM submissions WHERE created_at < $1
                            AND (payload IS NOT NULL OR prepared IS NOT NULL)
                          LIMIT $2 FOR UPDATE SKIP LOCKED)`),
        jobs: await purge(`
        UPDATE jobs SET id_info = NULL, purged_at = now(), version = version + 1, updated_at = now()
         WHERE job_id IN (SELECT job_id FROM jobs WHERE created_at < $1 AND (purged_at IS NULL OR id_info IS NOT NULL)
                           LIMIT $2 FOR UPDATE SKIP LOCKED)`),
      },
    };
  });
  try {
    return { ...counts, objects: await removeObjects(pool, vault, bodies), objectsLeft: 0 };
  } catch {
    return { ...counts, objects: 0, objectsLeft: bodies.reduce((sum, body) => sum + body.objects, 0) };
  }
}

/** Purges everything past retention, a batch at a time. */
export async function purgeExpired(
  pool: pg.Pool,
  vault: BodyVault,
  before: Date,
  batchSize: number,
  maxBatches = Number.POSITIVE_INFINITY,
): Promise<PurgeCounts> {
  const total: PurgeCounts = {
    jobs: 0,
    callbackEvents: 0,
    statusSnapshots: 0,
    submissions: 0,
    objects: 0,
    objectsLeft: 0,
  };
  for (let batches = 0; batches < maxBatches; batches += 1) {
    const batch = await purgeExpiredBatch(pool, vault, before, batchSize);
    total.jobs += batch.jobs;
    total.callbackEvents += batch.callbackEvents;
    total.statusSnapshots += batch.statusSnapshots;
    total.submissions += batch.submissions;
    total.objects += batch.objects;
    total.objectsLeft += batch.objectsLeft;
    if (batch.jobs + batch.callbackEvents + batch.statusSnapshots + batch.submissions === 0) return total;
  }
  return total;
}

export interface ErasedIdentityData {
  /** The user's jobs: their outcomes, codes, digests and times remain. */
  jobs: number;
  idInfo: number;
  callbackBodies: number;
  statusBodies: number;
  submissions: number;
  /** Objects (photos) of the erased bodies removed from the object store. */
  objects: number;
}

const USER_JOBS = statement<'userId'>(
  'SELECT job_id FROM jobs WHERE user_id = :userId ORDER BY job_id FOR UPDATE',
);
const AUDIT_ERASURE = statement<'at' | 'fingerprint' | 'jobIds' | 'route' | 'requestId'>(`
INSERT INTO audit_log (at, token_fingerprint, job_id, data_read, route, request_id)
SELECT :at, :fingerprint, job_id, 'erasure', :route, :requestId FROM unnest(:jobIds::text[]) AS job_id`);
/**
 * Every stored callback body of the user's jobs, and every other one that names the user: with no job (its
 * job id could not be read) or on another user's job. Found by the keyed digest of the user id under any
 * listed key.
 */
const ERASE_CALLBACK_BODIES = statement<'jobIds' | 'userDigests' | 'at'>(`
WITH erased AS (
  SELECT id, body IS NOT NULL AS "hadBody" FROM callback_events
   WHERE (job_id = ANY(:jobIds::text[]) OR user_digest = ANY(:userDigests::text[]))
     AND (body IS NOT NULL OR body_objects > 0)
     FOR UPDATE)
UPDATE callback_events e SET body = NULL, purged_at = COALESCE(e.purged_at, :at)
  FROM erased WHERE e.id = erased.id
RETURNING e.id, erased."hadBody", e.body_objects AS objects`);
/**
 * The user's jobs' job_status answers. Like callback bodies, one erased earlier whose objects the store
 * could not remove then (`body_objects` still counts them) is taken again, so a repeat removes them.
 */
const ERASE_STATUS_BODIES = statement<'jobIds' | 'at'>(`
WITH erased AS (
  SELECT id, body IS NOT NULL AS "hadBody" FROM status_snapshots
   WHERE job_id = ANY(:jobIds::text[]) AND (body IS NOT NULL OR body_objects > 0)
     FOR UPDATE)
UPDATE status_snapshots s SET body = NULL, purged_at = COALESCE(s.purged_at, :at)
  FROM erased WHERE s.id = erased.id
RETURNING s.id, erased."hadBody", s.body_objects AS objects`);
/** `purged_at` also keeps any later merge from writing an ID record back (store/jobs/job-writes.ts). */
const ERASE_ID_INFO = statement<'jobIds' | 'at'>(`
UPDATE jobs SET id_info = NULL, purged_at = COALESCE(purged_at, :at), version = version + 1, updated_at = :at
 WHERE job_id = ANY(:jobIds::text[]) AND id_info IS NOT NULL
RETURNING job_id`);
/**
 * A submission's sealed content (identity data, images) and prep upload answer. One not yet uploaded
 * can no longer be: it fails, saying why.
 */
const ERASE_SUBMISSIONS = statement<'jobIds' | 'at'>(`
UPDATE submissions
   SET payload = NULL, prepared = NULL, erased_at = :at, updated_at = :at, next_attempt_at = NULL,
       status = CASE WHEN status IN ('queued', 'uploading') THEN 'failed' ELSE status END,
       error_code = CASE WHEN status IN ('queued', 'uploading') THEN 'ERASED' ELSE error_code END,
       error_message = CASE WHEN status IN ('queued', 'uploading')
                            THEN 'its identity data was erased before the upload' ELSE error_message END
 WHERE job_id = ANY(:jobIds::text[]) AND (payload IS NOT NULL OR prepared IS NOT NULL)`);
/** Jobs with nothing to erase still stop taking an ID record from later callbacks. */
const MARK_ERASED = statement<'jobIds' | 'at'>(`
UPDATE jobs SET purged_at = :at, version = version + 1, updated_at = :at
 WHERE job_id = ANY(:jobIds::text[]) AND purged_at IS NULL`);

/**
 * Erases, on request, every job's identity data for one user — the ID authority's record and every
 * stored callback and job_status body — as retention does by age, in one transaction with an audit row
 * per job, and every stored callback body naming the user without being one of their jobs' (an orphan).
 * Outcomes, codes, digests and times remain.
 *
 * It sticks: the jobs are marked erased (`purged_at`) under their row locks, with their version bumped,
 * and every later write of evidence for them keeps no body (store/jobs/job-writes.ts,
 * store/evidence/callback-store.ts), so a callback racing the erasure either commits before it, and is
 * erased, or sees it.
 */
export async function eraseUserIdentityData(
  pool: pg.Pool,
  cipher: FieldCipher,
  vault: BodyVault,
  request: { userId: string; at: Date; fingerprint: string; route: string; requestId: string },
): Promise<ErasedIdentityData> {
  const userDigests = cipher.digestsUnderEveryKey(digestContext.userId, request.userId);
  type ErasedRow = { id: string; hadBody: boolean; objects: number | null };
  const { erased, bodies } = await inMaintenance(pool, async (client) => {
    const { rows } = await client.query<{ job_id: string }>(USER_JOBS.bind({ userId: request.userId }));
    const jobIds = rows.map((row) => row.job_id);
    const { at } = request;
    if (jobIds.length > 0) await client.query(AUDIT_ERASURE.bind({ ...request, jobIds }));
    const idInfo = (await client.query(ERASE_ID_INFO.bind({ jobIds, at }))).rowCount ?? 0;
    await client.query(MARK_ERASED.bind({ jobIds, at }));
    const events = (await client.query<ErasedRow>(ERASE_CALLBACK_BODIES.bind({ jobIds, userDigests, at })))
      .rows;
    const snapshots = (await client.query<ErasedRow>(ERASE_STATUS_BODIES.bind({ jobIds, at }))).rows;
    return {
      bodies: [...bodiesOf('callback_events', events), ...bodiesOf('status_snapshots', snapshots)],
      erased: {
        jobs: jobIds.length,
        idInfo,
        callbackBodies: events.filter((row) => row.hadBody).length,
        statusBodies: snapshots.filter((row) => row.hadBody).length,
        submissions: (await client.query(ERASE_SUBMISSIONS.bind({ jobIds, at }))).rowCount ?? 0,
      },
    };
  });
  // After the commit: Postgres holds nothing of the user's any more, whatever the object store answers.
  return { ...erased, objects: await removeObjects(pool, vault, bodies) };
}
