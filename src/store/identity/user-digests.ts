import type pg from 'pg';
import { digestContext, type FieldCipher, sealContext } from '../../security/field-cipher.js';
import { readableJsonOf } from '../objects/body-vault.js';
import { statement } from '../sql.js';
import { inTransaction } from '../transactions.js';

/**
 * The keyed digest of the user each stored callback body names (`callback_events.user_digest`), by
 * which erasure finds a user's bodies that have no job. A digest matches only while its key is listed in
 * DATA_ENCRYPTION_KEYS, so after a key rotation the digests are made again under the newest key, from
 * the bodies themselves, as `npm run keys:reencrypt` re-seals them; bodies stored before digests were
 * kept get theirs the same way. `user_digest_key_id` says under which key the body's user was digested
 * (with `user_digest` null when it names none), so each body is read once per key.
 */

const PENDING = statement<'keyId' | 'limit'>(`
SELECT id, body FROM callback_events
 WHERE body IS NOT NULL AND user_digest_key_id IS DISTINCT FROM :keyId
 LIMIT :limit FOR UPDATE SKIP LOCKED`);
const SET_DIGEST = statement<'id' | 'digest' | 'keyId'>(
  'UPDATE callback_events SET user_digest = :digest, user_digest_key_id = :keyId WHERE id = :id',
);
const COUNT_PENDING = statement<'keyId'>(`
SELECT count(*)::int AS n FROM callback_events
 WHERE body IS NOT NULL AND user_digest_key_id IS DISTINCT FROM :keyId`);

/** Reads the user id a stored body names, as intake did (callbacks/named-user.ts). */
export type UserIdReader = (body: Buffer) => string | null;

/** One batch of bodies whose user is not digested under the newest key; returns how many. */
export async function redigestUsersBatch(
  pool: pg.Pool,
  cipher: FieldCipher,
  userIdOf: UserIdReader,
  batchSize: number,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    // Evidence is immutable but to maintenance (migration 20261126030000_identity_data_at_rest).
    await client.query("SET LOCAL smileid.maintenance = 'on'");
    const keyId = cipher.currentKeyId;
    const { rows } = await client.query<{ id: string; body: Buffer }>(
      PENDING.bind({ keyId, limit: batchSize }),
    );
    for (const row of rows) {
      // The skeleton of a body whose photos are in the object store names its user as the whole body does.
      const opened = cipher.open(row.body, sealContext.callbackBody(row.id));
      const userId = userIdOf(readableJsonOf(opened));
      const digest = userId === null ? null : cipher.digest(digestContext.userId, userId);
      await client.query(SET_DIGEST.bind({ id: row.id, digest, keyId }));
    }
    return rows.length;
  });
}

/**
 * Digests every stored body's user under the newest key. Batches skip rows locked by live writes, so it
 * ends only when a count that waits for no lock finds nothing left.
 */
export async function redigestUsers(
  pool: pg.Pool,
  cipher: FieldCipher,
  userIdOf: UserIdReader,
  batchSize = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await redigestUsersBatch(pool, cipher, userIdOf, batchSize);
    total += done;
    if (done > 0) continue;
    const { rows } = await pool.query<{ n: number }>(COUNT_PENDING.bind({ keyId: cipher.currentKeyId }));
    if (rows[0]!.n === 0) return total;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
