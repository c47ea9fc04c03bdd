import { pino } from 'pino';
import { loadEntryPointConfig } from '../config.js';
import { startEmbeddedObjectStore } from '../local-s3/embedded.js';
import { loggerOptions } from '../observability/logger.js';
import { createFieldCipher, parseKeyring } from '../security/field-cipher.js';
import { createDatabase, postgresOutages } from '../store/connections.js';
import { countWholeBodies } from '../store/objects/inline-bodies.js';
import { createObjectStorage, objectStoreOf } from '../store/objects/object-storage.js';
import { exitUnlessRegionKnown } from './object-store-region.js';

/**
 * `npm run bodies:move-out`: moves the photos of every body still whole in Postgres — stored before the
 * object store was configured, or while it could not be reached — to the object store, in batches,
 * oldest first. Each batch is one transaction: stopped anywhere (Ctrl-C, a crash), it loses nothing, and
 * run again it goes on with what is left. Safe beside live traffic and beside the workers, which do the
 * same a little at a time (rows taken by one are skipped by the other). `BATCH_SIZE` bodies per
 * transaction (default 100).
 */
const loaded = loadEntryPointConfig();
const logger = pino(loggerOptions(loaded.LOG_LEVEL));
// In development, the store `npm start` embeds, on the same folder.
const embedded = loaded.OBJECT_STORE_EMBEDDED ? await startEmbeddedObjectStore(loaded, logger) : undefined;
const config = embedded?.config ?? loaded;
const settings = objectStoreOf(config);
if (settings === null) {
  process.stderr.write(
    'nothing to move to: set OBJECT_STORE_BUCKET (OBJECT_STORE_INLINE=true keeps bodies whole)\n',
  );
  process.exit(1);
}
await exitUnlessRegionKnown(settings);
const batchSize = Number(process.argv[2] ?? 100);
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
try {
  const total = { examined: 0, moved: 0, objects: 0 };
  logger.info(
    { whole: await countWholeBodies(db.pool), objectStore: storage.objects!.where },
    'moving photos out',
  );
  for (;;) {
    const done = await storage.inlineBodies!.moveOutBatch(batchSize);
    if (done.examined === 0) break;
    total.examined += done.examined;
    total.moved += done.moved;
    total.objects += done.objects;
    logger.info({ ...total, left: await countWholeBodies(db.pool) }, 'batch moved');
  }
  logger.info(total, 'every stored body keeps its photos in the object store');
} catch (error) {
  logger.error(
    { error: { name: (error as Error).name, message: (error as Error).message } },
    'moving photos out stopped; run it again to go on',
  );
  process.exitCode = 1;
} finally {
  storage.close();
  await db.close();
  await embedded?.close();
}
