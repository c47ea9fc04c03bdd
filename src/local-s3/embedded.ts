import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { ensureLocalBucket } from './local-bucket.js';
import { LOCAL_S3_CREDENTIALS, startLocalS3 } from './server.js';

/**
 * Out of the box, `npm start` in development has no bucket configured: photos then go to an S3-compatible
 * store embedded in the process, on a folder of the project (kept between starts, as the database is),
 * spoken to through the S3 protocol like any other. The production entry point never loads it.
 */

/** dist/local-s3/ and src/local-s3/ both sit two levels below the project root. */
export const EMBEDDED_DIRECTORY = path.resolve(import.meta.dirname, '..', '..', '.object-store');
export const EMBEDDED_BUCKET = 'smileid-bodies';

export interface EmbeddedObjectStore {
  /** The configuration pointing at the embedded store. */
  config: Config;
  close: () => Promise<void>;
}

const CONFIGURE_ONE =
  'set OBJECT_STORE_BUCKET (and AWS_ENDPOINT_URL_S3 for MinIO) to use a real one, or OBJECT_STORE_INLINE=true';

/** Starts the store on an ephemeral port of 127.0.0.1, creates its bucket, and points the configuration at it. */
export async function startEmbeddedObjectStore(
  config: Config,
  log: FastifyBaseLogger,
  directory = EMBEDDED_DIRECTORY,
): Promise<EmbeddedObjectStore> {
  if (config.NODE_ENV === 'production' || !config.OBJECT_STORE_EMBEDDED) {
    throw new Error(
      'the object store is embedded only outside production, with no bucket and no inline storage',
    );
  }
  const server = await startLocalS3({ directory, credentials: [LOCAL_S3_CREDENTIALS] });
  const embedded: Config = Object.freeze({
    ...config,
    OBJECT_STORE_BUCKET: EMBEDDED_BUCKET,
    OBJECT_STORE_PREFIX: '',
    OBJECT_STORE_FORCE_PATH_STYLE: true,
    OBJECT_STORE_EMBEDDED: false,
    AWS_ENDPOINT_URL_S3: server.url,
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  });
  await ensureLocalBucket(server.url, EMBEDDED_BUCKET);
  log.warn(
    `photos are kept in an S3-compatible store embedded in this process, on ${directory} (${server.url}); ${CONFIGURE_ONE}`,
  );
  return { config: embedded, close: server.close };
}
