import { createObjectStore, type ObjectStoreSettings } from '../store/objects/object-store.js';
import { LOCAL_S3_CREDENTIALS } from './server.js';

/**
 * A bucket of the local S3-compatible server (the one `npm start` embeds, the tests and the benches start),
 * as the service's client and its environment address it: path-style, the development key pair.
 */

/** The settings of a client of `bucket` on the server at `url`, under `prefix`. */
export function localBucketSettings(url: string, bucket: string, prefix = ''): ObjectStoreSettings {
  return {
    bucket,
    prefix,
    forcePathStyle: true,
    region: 'us-east-1',
    endpoint: url,
    // A copy: the AWS SDK writes onto the credentials object it is given.
    credentials: { ...LOCAL_S3_CREDENTIALS },
    timeoutMs: 10_000,
  };
}

/** The environment that points the service at `bucket` on the server at `url`, under `prefix`. */
export function localBucketEnv(url: string, bucket: string, prefix = ''): Record<string, string> {
  return {
    OBJECT_STORE_BUCKET: bucket,
    OBJECT_STORE_PREFIX: prefix,
    OBJECT_STORE_FORCE_PATH_STYLE: 'true',
    AWS_ENDPOINT_URL_S3: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  };
}

/** Creates `bucket` on the server at `url` unless it exists, through the service's own client. */
export async function ensureLocalBucket(url: string, bucket: string): Promise<void> {
  const client = createObjectStore(localBucketSettings(url, bucket));
  try {
    await client.ensureBucket();
  } finally {
    client.close();
  }
}
