import { QUEUES } from '../queues/catalog.js';
import type { JobModule } from '../queues/job-module.js';
import type { createRetentionPurge } from './retention.js';

/**
 * Maintenance's queued work: the maintenance queue, which runs every feature's sweeps and the retention
 * purge one at a time in each worker process; and the purge.
 */
export interface MaintenanceSettings {
  /** How often the retention purge runs (RETENTION_INTERVAL_MS). */
  retentionIntervalMs: number;
}

export function maintenanceJobs({
  purge,
  settings: { retentionIntervalMs },
}: {
  purge: ReturnType<typeof createRetentionPurge>;
  settings: MaintenanceSettings;
}): JobModule {
  return {
    feature: 'maintenance',
    queues: { [QUEUES.maintenance]: { concurrency: 1 } },
    handlers: { purgeExpiredIdentityData: (_data, { log }) => purge(log) },
    schedules: { purgeExpiredIdentityData: { every: retentionIntervalMs } },
  };
}
