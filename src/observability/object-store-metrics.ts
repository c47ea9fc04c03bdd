import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ObjectStorageObserver } from '../store/objects/object-store.js';

// Photos' storage: the object store's calls, the bodies kept whole in Postgres, the orphan sweep.

/** The object store and the backlog of bodies still whole in Postgres; series alerts watch exist at 0. */
export function objectStoreMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    objectStoreOperations: new Counter({
      name: 'smileid_object_store_operations_total',
      help: 'Calls to the object store that holds sealed photos, by operation (put, get, delete, list, head_bucket, create_bucket) and result (ok, unavailable: no answer in time, a 5xx or throttling; not_found; error: refused, e.g. credentials or bucket policy).',
      labelNames: ['operation', 'result'] as const,
      registers,
    }),
    objectStoreDuration: new Histogram({
      name: 'smileid_object_store_duration_seconds',
      help: 'Latency of calls to the object store, by operation, retries included.',
      labelNames: ['operation'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    bodiesKeptInline: new Counter({
      name: 'smileid_bodies_kept_inline_total',
      help: 'Callback and job_status bodies stored whole in Postgres because the object store could not take their photos (unreachable, or refusing); they are moved out later.',
      labelNames: ['source'] as const,
      registers,
    }),
    /** Filled at scrape time from Postgres (see job-gauges.ts). */
    inlineBodies: new Gauge({
      name: 'smileid_inline_bodies',
      help: 'Stored bodies still whole in Postgres, photos included, waiting to be moved to the object store (kept inline during an outage of the store, or stored before it was configured).',
      registers,
    }),
    bodiesMovedOut: new Counter({
      name: 'smileid_bodies_moved_out_total',
      help: 'Bodies kept whole in Postgres whose photos were then moved to the object store.',
      registers,
    }),
    objectOrphansRemoved: new Counter({
      name: 'smileid_object_orphans_removed_total',
      help: 'Objects no stored body refers to (a write whose row never committed, a deletion that failed) removed by the orphan sweep after its grace period.',
      registers,
    }),
  };
  for (const operation of ['put', 'get', 'delete', 'list']) {
    for (const result of ['ok', 'unavailable', 'error']) {
      metrics.objectStoreOperations.inc({ operation, result }, 0);
    }
  }
  for (const source of ['callback', 'job_status']) metrics.bodiesKeptInline.inc({ source }, 0);
  metrics.bodiesMovedOut.inc(0);
  metrics.objectOrphansRemoved.inc(0);
  return metrics;
}

/** What photos' storage reports, counted into these metrics. */
export function objectStorageObserverOf(
  metrics: ReturnType<typeof objectStoreMetrics> | undefined,
): ObjectStorageObserver | undefined {
  if (!metrics) return undefined;
  return {
    called(operation, result, seconds) {
      metrics.objectStoreOperations.inc({ operation, result });
      metrics.objectStoreDuration.observe({ operation }, seconds);
    },
    keptInline: (source) => metrics.bodiesKeptInline.inc({ source }),
  };
}
