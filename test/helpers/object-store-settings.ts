import { localBucketEnv, localBucketSettings } from '../../src/local-s3/local-bucket.js';
import type { ObjectStoreSettings } from '../../src/store/objects/object-store.js';

/** The bucket of the test run's S3-compatible server (test/global-setup.ts). */
export const TEST_BUCKET = 'smileid-test';

/** Settings of a client of the test run's object store, under a key prefix of its own. */
export function testObjectStoreSettings(url: string, prefix: string): ObjectStoreSettings {
  return { ...localBucketSettings(url, TEST_BUCKET, prefix), timeoutMs: 5000 };
}

/** The environment that points a service at the test run's object store, under a key prefix of its own. */
export function testObjectStoreEnv(url: string, prefix: string): Record<string, string> {
  return localBucketEnv(url, TEST_BUCKET, prefix);
}
