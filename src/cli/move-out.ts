import { countWholeBodies } from '../store/objects/inline-bodies.js';
import { openBodiesAtRest } from './bodies-at-rest.js';

/**
 * `npm run bodies:move-out`: moves the photos of every body still whole in Postgres — stored before the
 * object store was configured, or while it could not be reached — to the object store, in batches,
 * oldest first. Each batch is one transaction: stopped anywhere (Ctrl-C, a crash), it loses nothing, and
 * run again it goes on with what is left. Safe beside live traffic and beside the workers, which do the
 * same a little at a time (rows taken by one are skipped by the other). `BATCH_SIZE` bodies per
 * transaction (default 100).
 */
const { logger, db, storage, close } = await openBodiesAtRest({
  requireObjectStore:
    'nothing to move to: set OBJECT_STORE_BUCKET (OBJECT_STORE_INLINE=true keeps bodies whole)',
});
const batchSize = Number(process.argv[2] ?? 100);
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
  await close();
}
