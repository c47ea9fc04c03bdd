import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { ChangeFeed } from '../store/feed/change-feed.js';
import { purgeExpired } from '../store/identity/identity-maintenance.js';
import type { BodyVault } from '../store/objects/body-vault.js';

/** The rest of a retention backlog waits for the next run. */
const PURGE_BATCHES_PER_RUN = 20;

/**
 * Retention: identity data older than `days` is erased (bodies, snapshots, identity fields, submissions'
 * content, the bodies' photos in the object store), and the change feed's rows with it.
 */
export interface RetentionSettings {
  /** RETENTION_DAYS: identity data older than this is purged. */
  days: number;
  /** Rows per statement (RETENTION_BATCH_SIZE). */
  batchSize: number;
}

export function createRetentionPurge({
  pool,
  vault,
  changeFeed,
  settings: { days, batchSize },
  now = () => new Date(),
}: {
  pool: pg.Pool;
  vault: BodyVault;
  changeFeed: Pick<ChangeFeed, 'purge'>;
  settings: RetentionSettings;
  now?: () => Date;
}) {
  return async function purge(log: FastifyBaseLogger) {
    const before = new Date(now().getTime() - days * 86_400_000);
    // Bounded per run: the maintenance queue also runs the sweeps, which must not wait behind a backlog.
    const purged = await purgeExpired(pool, vault, before, batchSize, PURGE_BATCHES_PER_RUN);
    if (purged.jobs + purged.callbackEvents + purged.statusSnapshots + purged.submissions > 0) {
      log.info({ ...purged, before }, 'retention purged identity data');
    }
    if (purged.objectsLeft > 0) {
      log.warn(
        { objectsLeft: purged.objectsLeft },
        'the object store did not remove the photos of some purged bodies: the orphan sweep removes them once it can',
      );
    }
    const changes = await changeFeed.purge(before, batchSize, now());
    if (changes > 0) log.info({ changes, before }, 'retention purged the change feed');
    return { ...purged, changes };
  };
}
