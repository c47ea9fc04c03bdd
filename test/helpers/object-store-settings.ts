import { LOCAL_S3_CREDENTIALS } from '../../src/local-s3/server.js';
import type { ObjectStoreSettings } from '../../src/store/objects/object-store.js';

/** The bucket of the test run's S3-compatible server (test/global-setup.ts). */
export const TEST_BUCKET = 'smileid-test';

/** Settings of a client of the test run's object store, under a key prefix of its own. */
export function testObjectStoreSettings(url: string, prefix: string): ObjectStoreSettings {
  return {
    bucket: TEST_BUCKET,
    prefix,
    forcePathStyle: true,
    region: 'us-east-1',
    endpoint: url,
    credentials: { ...LOCAL_S3_CREDENTIALS },
    timeoutMs: 5000,
  };
}

/** The environment that points a service at the test run's object store, under a key prefix of its own. */
export function testObjectStoreEnv(url: string, prefix: string): Record<string, string> {
  return {
    OBJECT_STORE_BUCKET: TEST_BUCKET,
    OBJECT_STORE_PREFIX: prefix,
    OBJECT_STORE_FORCE_PATH_STYLE: 'true',
    AWS_ENDPOINT_URL_S3: url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  };
}
