import { QUEUES } from '../queues/catalog.js';
import type { JobModule } from '../queues/job-module.js';
import type { createBodyMover, createOrphanSweeper } from './object-storage.js';
import type { createRetentionPurge } from './retention.js';

/** How often bodies kept whole in Postgres are looked for to move out. */
const MOVE_OUT_INTERVAL_MS = 60_000;
/** How often the orphan sweep goes on through the bucket. */
const ORPHAN_SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Maintenance's queued work: the maintenance queue, which runs every feature's sweeps, the retention
 * purge and the object store's upkeep one at a time in each worker process; the purge; and, when photos
 * go to an object store, moving bodies kept whole in Postgres out to it and the orphan sweep.
 */
export interface MaintenanceSettings {
  /** How often the retention purge runs (RETENTION_INTERVAL_MS). */
  retentionIntervalMs: number;
}

export function maintenanceJobs({
  purge,
  settings: { retentionIntervalMs },
  objectStorage,
}: {
  purge: ReturnType<typeof createRetentionPurge>;
  settings: MaintenanceSettings;
  /** Null with OBJECT_STORE_INLINE: bodies stay whole by choice, and there is no bucket to sweep. */
  objectStorage: {
    moveOut: ReturnType<typeof createBodyMover>;
    sweepOrphans: ReturnType<typeof createOrphanSweeper>;
  } | null;
}): JobModule {
  return {
    feature: 'maintenance',
    queues: { [QUEUES.maintenance]: { concurrency: 1 } },
    handlers: {
      purgeExpiredIdentityData: (_data, { log }) => purge(log),
      moveInlineBodies: async (_data, { log }) => objectStorage?.moveOut(log),
      sweepObjectOrphans: async (_data, { log }) => objectStorage?.sweepOrphans(log),
    },
    schedules: {
      purgeExpiredIdentityData: { every: retentionIntervalMs },
      ...(objectStorage
        ? {
            moveInlineBodies: { every: MOVE_OUT_INTERVAL_MS },
            sweepObjectOrphans: { every: ORPHAN_SWEEP_INTERVAL_MS },
          }
        : {}),
    },
  };
}
