import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Config } from '../../config.js';
import type { FieldCipher } from '../../security/field-cipher.js';
import { createBodyVault } from './body-vault.js';
import { createInlineBodies } from './inline-bodies.js';
import { createObjectStore, type ObjectStorageObserver, type ObjectStoreSettings } from './object-store.js';
import { objectStoreOutages } from './object-store-outages.js';
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
 * and endpoint are the AWS SDK's own variables, passed on explicitly; an unset region is the SDK's to
 * find (object-store.ts: regionOf).
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
        credentials: credentialsOf(config),
        timeoutMs: config.OBJECT_STORE_TIMEOUT_MS,
      };

/** Keys given in the environment, with the session token of temporary (STS) ones; unset: the SDK's chain. */
function credentialsOf(config: Config): ObjectStoreSettings['credentials'] {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = config;
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(config.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: config.AWS_SESSION_TOKEN }),
  };
}

/**
 * Photos' storage for one process: the object store client (none with inline storage), the reporter of
 * its outages every call reports to, the vault every body goes through, the backlog of bodies still
 * whole in Postgres and the orphan sweep.
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
  const outages = settings ? objectStoreOutages(settings, log) : undefined;
  const objects = settings ? createObjectStore(settings, { observer, outages }) : null;
  const vault = createBodyVault({ objects, cipher, log, observer });
  return {
    objects,
    outages,
    vault,
    inlineBodies: objects ? createInlineBodies({ pool, vault }) : null,
    sweepOrphans: objects ? createOrphanSweep({ pool, objects, graceMs: orphanGraceMs }) : null,
    close(): void {
      objects?.close();
    },
  };
}

export type ObjectStorage = ReturnType<typeof createObjectStorage>;
