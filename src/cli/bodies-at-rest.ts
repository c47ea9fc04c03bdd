import { pino } from 'pino';
import { type Config, loadEntryPointConfig } from '../config.js';
import { startEmbeddedObjectStore } from '../local-s3/embedded.js';
import { loggerOptions } from '../observability/logger.js';
import { createFieldCipher, parseKeyring } from '../security/field-cipher.js';
import { createDatabase, postgresOutages } from '../store/connections.js';
import { createObjectStorage, objectStoreOf } from '../store/objects/object-storage.js';
import { type ObjectStoreSettings, regionOf } from '../store/objects/object-store.js';

/**
 * What the commands that rewrite stored bodies (`bodies:move-out`, `keys:reencrypt`) open: the
 * configuration, Postgres, the cipher and the bodies' storage — in development, the object store
 * `npm start` embeds, on the same folder — and `close()` for all of them.
 */
export async function openBodiesAtRest(options: { requireObjectStore?: string } = {}) {
  const loaded = loadEntryPointConfig();
  const logger = pino(loggerOptions(loaded.LOG_LEVEL));
  const embedded = loaded.OBJECT_STORE_EMBEDDED ? await startEmbeddedObjectStore(loaded, logger) : undefined;
  const config: Config = embedded?.config ?? loaded;
  const settings = objectStoreOf(config);
  if (settings === null && options.requireObjectStore) exitWith(options.requireObjectStore);
  await exitUnlessRegionKnown(settings);
  const cipher = createFieldCipher(parseKeyring(config.DATA_ENCRYPTION_KEYS));
  const db = createDatabase({
    url: config.DATABASE_URL,
    poolSize: 2,
    timeoutMs: 60_000,
    outages: postgresOutages(config.DATABASE_URL, logger),
  });
  const storage = createObjectStorage({
    settings,
    cipher,
    pool: db.pool,
    log: logger,
    orphanGraceMs: config.OBJECT_STORE_ORPHAN_GRACE_MINUTES * 60_000,
  });
  return {
    logger,
    cipher,
    db,
    storage,
    async close() {
      storage.close();
      await db.close();
      await embedded?.close();
    },
  };
}

function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * A command that is to call the object store stops when its region cannot be found, saying what to set,
 * as the service's own start does, before it has touched a row: not at its first call with the SDK's words.
 */
async function exitUnlessRegionKnown(settings: ObjectStoreSettings | null): Promise<void> {
  if (settings === null) return;
  try {
    await regionOf(settings);
  } catch (error) {
    exitWith((error as Error).message);
  }
}
