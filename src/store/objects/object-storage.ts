import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Config } from '../../config.js';
import type { FieldCipher } from '../../security/field-cipher.js';
import { createBodyVault } from './body-vault.js';
import { createInlineBodies } from './inline-bodies.js';
import { createObjectStore, type ObjectStorageObserver, type ObjectStoreSettings } from './object-store.js';
import { createOrphanSweep } from './orphans.js';

/** Photos' storage: the bucket (null: bodies kept whole in Postgres) and the orphan sweep's grace. */
export interface ObjectStorageSettings {
  settings: ObjectStoreSettings | null;
  orphanGraceMs: number;
}

/** The object store section, as photos' storage takes it (store/objects/object-storage.ts). */
export const objectStorageSettingsOf = (config: Config): ObjectStorageSettings => ({
  settings: objectStoreOf(config),
  orphanGraceMs: config.OBJECT_STORE_ORPHAN_GRACE_MINUTES * 60_000,
});

/**
 * The object store client's settings (store/objects/object-store.ts), or null when bodies stay whole in
 * Postgres: inline storage chosen, or an embedded store that no entry point started. Region, credentials
 * and endpoint are the AWS SDK's own variables, passed on explicitly.
 */
export const objectStoreOf = (config: Config): ObjectStoreSettings | null =>
  config.OBJECT_STORE_BUCKET === undefined || config.OBJECT_STORE_INLINE
    ? null
    : {
        bucket: config.OBJECT_STORE_BUCKET,
        prefix: config.OBJECT_STORE_PREFIX,
        forcePathStyle: config.OBJECT_STORE_FORCE_PATH_STYLE,
        region: config.AWS_REGION,
        endpoint: config.AWS_ENDPOINT_URL_S3,
        credentials:
          config.AWS_ACCESS_KEY_ID !== undefined && config.AWS_SECRET_ACCESS_KEY !== undefined
            ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY }
            : undefined,
        timeoutMs: config.OBJECT_STORE_TIMEOUT_MS,
      };

/**
 * Photos' storage for one process: the object store client (none with inline storage), the vault every
 * body goes through, the backlog of bodies still whole in Postgres and the orphan sweep.
 */
export function createObjectStorage({
  settings,
  cipher,
  pool,
  log,
  observer,
  orphanGraceMs,
}: {
  /** Null: bodies are kept whole in Postgres. */
  settings: ObjectStoreSettings | null;
  cipher: FieldCipher;
  pool: pg.Pool;
  log: FastifyBaseLogger;
  /** Reports calls and inline bodies, for metrics (observability/metrics.ts: objectStorageObserverOf). */
  observer?: ObjectStorageObserver | undefined;
  orphanGraceMs: number;
}) {
  const objects = settings ? createObjectStore(settings, observer) : null;
  const vault = createBodyVault({ objects, cipher, log, observer });
  return {
    objects,
    vault,
    inlineBodies: objects ? createInlineBodies({ pool, vault }) : null,
    sweepOrphans: objects ? createOrphanSweep({ pool, objects, graceMs: orphanGraceMs }) : null,
    close(): void {
      objects?.close();
    },
  };
}

export type ObjectStorage = ReturnType<typeof createObjectStorage>;
