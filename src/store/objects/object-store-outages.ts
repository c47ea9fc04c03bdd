import type { FastifyBaseLogger } from 'fastify';
import { createOutageReporter, type Dependency, type OutageReporter } from '../../util/outages.js';
import type { ObjectStoreSettings } from './object-store.js';

/**
 * The bucket as a log may name it: the host of AWS_ENDPOINT_URL_S3 and the bucket (never credentials a
 * URL may carry), or `s3://bucket` on AWS itself.
 */
export function objectStoreAddress({ bucket, endpoint }: Pick<ObjectStoreSettings, 'bucket' | 'endpoint'>) {
  if (endpoint === undefined) return `s3://${bucket}`;
  try {
    return `${new URL(endpoint).host}/${bucket}`;
  } catch {
    return `bucket ${bucket} at the address in AWS_ENDPOINT_URL_S3`;
  }
}

/** The object store as an operator knows it, for the line that says it cannot be reached. */
export function objectStoreDependency(
  settings: Pick<ObjectStoreSettings, 'bucket' | 'endpoint'>,
): Dependency {
  return {
    name: 'Object store',
    address: objectStoreAddress(settings),
    variable: settings.endpoint === undefined ? 'OBJECT_STORE_BUCKET' : 'AWS_ENDPOINT_URL_S3',
    remedy:
      'bodies are kept whole in Postgres and moved out once it answers: start it (docker compose up -d minio) ' +
      'or point AWS_ENDPOINT_URL_S3 / OBJECT_STORE_BUCKET at a reachable store',
  };
}

/**
 * One reporter of object store outages for the whole process: every call to the store (the vault's puts
 * and reads, the move-out, the orphan sweep, erasures) reports to it, so that an outage is said once, and
 * its end once, at the first call that is answered again.
 */
export function objectStoreOutages(
  settings: Pick<ObjectStoreSettings, 'bucket' | 'endpoint'>,
  log: FastifyBaseLogger,
): OutageReporter {
  return createOutageReporter({ log, dependency: objectStoreDependency(settings) });
}
