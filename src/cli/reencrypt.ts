import { userIdNamedBy } from '../callbacks/named-user.js';
import { reencryptAll } from '../store/identity/identity-maintenance.js';
import { redigestUsers } from '../store/identity/user-digests.js';
import { openBodiesAtRest } from './bodies-at-rest.js';

/**
 * `npm run keys:reencrypt`: after a new key is put first in DATA_ENCRYPTION_KEYS (and deployed), moves
 * every sealed value — and any plaintext from before encryption — under it, then the keyed digests of the
 * users that stored callback bodies name, by which erasure finds bodies that have no job. A body's photos in
 * the object store are re-sealed with it, before its row. Safe beside live traffic and safe to re-run; once
 * it reports 0, the older keys can be removed from the list.
 */
const { logger, cipher, db, storage, close } = await openBodiesAtRest();
try {
  const count = await reencryptAll(db.pool, cipher, storage.vault);
  const digested = await redigestUsers(db.pool, cipher, userIdNamedBy);
  logger.info(
    { reencrypted: count, userDigests: digested, key: cipher.currentKeyId },
    'identity data is under the newest key',
  );
} catch (error) {
  logger.error(
    { error: { name: (error as Error).name, code: (error as { code?: string }).code } },
    're-encryption failed',
  );
  process.exitCode = 1;
} finally {
  await close();
}
