import { pino } from 'pino';
import { userIdNamedBy } from '../callbacks/named-user.js';
import { loadEntryPointConfig } from '../config.js';
import { startEmbeddedObjectStore } from '../local-s3/embedded.js';
import { loggerOptions } from '../observability/logger.js';
import { createFieldCipher, parseKeyring } from '../security/field-cipher.js';
import { createDatabase, postgresOutages } from '../store/connections.js';
import { reencryptAll } from '../store/identity/identity-maintenance.js';
import { redigestUsers } from '../store/identity/user-digests.js';
import { createObjectStorage, objectStoreOf } from '../store/objects/object-storage.js';
import { exitUnlessRegionKnown } from './object-store-region.js';

/**
 * `npm run keys:reencrypt`: after a new key is put first in DATA_ENCRYPTION_KEYS (and deployed), moves
 * every sealed value — and any plaintext from before encryption — under it, then the keyed digests of the
 * users that stored callback bodies name, by which erasure finds bodies that have no job. A body's photos in
 * the object store are re-sealed with it, before its row. Safe beside live traffic and safe to re-run; once
 * it reports 0, the older keys can be removed from the list.
 */
const loaded = loadEntryPointConfig();
const logger = pino(loggerOptions(loaded.LOG_LEVEL));
// In development, the store `npm start` embeds, on the same folder: bodies' photos are re-sealed there.
const embedded = loaded.OBJECT_STORE_EMBEDDED ? await startEmbeddedObjectStore(loaded, logger) : undefined;
const config = embedded?.config ?? loaded;
const objectStore = objectStoreOf(config);
await exitUnlessRegionKnown(objectStore);
const cipher = createFieldCipher(parseKeyring(config.DATA_ENCRYPTION_KEYS));
const db = createDatabase({
  url: config.DATABASE_URL,
  poolSize: 2,
  timeoutMs: 60_000,
  outages: postgresOutages(config.DATABASE_URL, logger),
});
const storage = createObjectStorage({
  settings: objectStore,
  cipher,
  pool: db.pool,
  log: logger,
  orphanGraceMs: config.OBJECT_STORE_ORPHAN_GRACE_MINUTES * 60_000,
});
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
  storage.close();
  await db.close();
  await embedded?.close();
}
