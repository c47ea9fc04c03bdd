import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { FieldCipher } from '../../security/field-cipher.js';
import { createBodyVault } from './body-vault.js';
import { createInlineBodies } from './inline-bodies.js';
import { createObjectStore, type ObjectStorageObserver, type ObjectStoreSettings } from './object-store.js';
import { createOrphanSweep } from './orphans.js';

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
