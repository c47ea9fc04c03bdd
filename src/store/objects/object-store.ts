import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { OutageReporter } from '../../util/outages.js';
import { SOCKET_ERROR_CODES } from '../../util/socket-errors.js';

/**
 * The object store that holds sealed photos, spoken to through the S3 API (AWS S3, or MinIO, R2, GCS…
 * through it). Keys given here are relative: the configured prefix is added on the way in and taken off
 * on the way out. Every call is timed and counted by operation and result.
 */

export interface ObjectStoreSettings {
  bucket: string;
  /** Prepended to every key, e.g. `smileid/`. */
  prefix: string;
  forcePathStyle: boolean;
  /** AWS_REGION; unset, the SDK's own lookup (see `regionOf`). */
  region: string | undefined;
  /** AWS_ENDPOINT_URL_S3: a MinIO-like server, or unset for AWS itself. */
  endpoint: string | undefined;
  /** Unset: the SDK's default chain (an instance, task or pod role, a profile). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  /** Longest one call may take, its retry included. */
  timeoutMs: number;
}

export type ObjectOperation = 'put' | 'get' | 'delete' | 'list' | 'head_bucket' | 'create_bucket';

export type ObjectCallResult = 'ok' | 'unavailable' | 'not_found' | 'error';

/**
 * What photos' storage reports, for metrics (observability/metrics.ts makes one): the store is not to
 * know how it is measured.
 */
export interface ObjectStorageObserver {
  /** A call to the object store: what it was, how it ended, how long it took. */
  called(operation: ObjectOperation, result: ObjectCallResult, seconds: number): void;
  /** A body kept whole in Postgres because the object store could not take its photos. */
  keptInline(source: 'callback' | 'job_status'): void;
}

export interface ListedObject {
  key: string;
  lastModified: Date;
  size: number;
}

/** The store did not answer, or answered that it cannot now: worth trying again later. */
export class ObjectStoreUnavailableError extends Error {
  override name = 'ObjectStoreUnavailableError';
  readonly code = 'OBJECT_STORE_UNAVAILABLE';
}

/** A key the store does not hold. */
export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
}

/** S3's own words for "not now": throttling, and its 5xx. */
const TRANSIENT_CODES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'TimeoutError',
]);

/** What a failed call means: unavailable (retry later), not found, or a fault (configuration, a bug). */
function classify(error: unknown): 'unavailable' | 'not_found' | 'fault' {
  const { name, code } = error as { name?: string; code?: string };
  if (error instanceof S3ServiceException) {
    if (name === 'NoSuchKey' || name === 'NotFound') return 'not_found';
    const status = error.$metadata.httpStatusCode ?? 0;
    return status >= 500 || TRANSIENT_CODES.has(error.name) ? 'unavailable' : 'fault';
  }
  if (
    name === 'AbortError' ||
    name === 'TimeoutError' ||
    (code !== undefined && SOCKET_ERROR_CODES.has(code))
  )
    return 'unavailable';
  return 'fault';
}

const DELETE_BATCH = 1000;

/**
 * The region an S3-compatible server at AWS_ENDPOINT_URL_S3 is signed for when AWS_REGION is unset: such
 * servers (MinIO, the embedded store) take any unless told otherwise, and SigV4 needs one.
 */
const S3_COMPATIBLE_REGION = 'us-east-1';

/**
 * A body's parts are sealed with AES-GCM, which refuses any changed byte: the SHA-256 of a megabyte that
 * SigV4 would sign adds nothing, so requests are signed without it (the headers still are). A middleware
 * of the SDK's `build` step.
 */
function unsignedPayload<Args extends { request: unknown }, Result>(next: (args: Args) => Promise<Result>) {
  return async (args: Args): Promise<Result> => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    return next(args);
  };
}

/** The SDK client for `settings`: region, endpoint and credentials as configured, else the SDK's own. */
export function s3ClientOf(settings: ObjectStoreSettings): S3Client {
  const region = settings.region ?? (settings.endpoint ? S3_COMPATIBLE_REGION : undefined);
  const client = new S3Client({
    forcePathStyle: settings.forcePathStyle,
    ...(region ? { region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    // One quick retry: a body waits for this call before its callback is answered, and goes inline
    // rather than wait long (src/store/objects/body-vault.ts).
    maxAttempts: 2,
    // Bodies are sealed with AES-GCM, which already refuses a changed byte; no CRC of megabytes on top.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: settings.timeoutMs, requestTimeout: settings.timeoutMs },
    // A put is not sent in two halves around a `100 Continue`: a round trip less for every photo, and a
    // refusal costs at most one wasted megabyte.
    expectContinueHeader: false,
  });
  client.middlewareStack.add(unsignedPayload, { step: 'build', name: 'unsignedPayload' });
  return client;
}

/**
 * The region calls will be signed for: AWS_REGION, else what the SDK finds (the profile's `region`,
 * instance metadata). Asked at start, so that a deployment with none stops with a sentence that says
 * what to set, not at its first photo with the SDK's "Region is missing".
 */
export async function regionOf(settings: ObjectStoreSettings): Promise<string> {
  const client = s3ClientOf(settings);
  try {
    return await client.config.region();
  } catch (error) {
    throw new Error(
      `the object store's region is unknown: AWS_REGION is not set and the AWS SDK found none ` +
        `(${(error as Error).message}); set AWS_REGION to the region of OBJECT_STORE_BUCKET`,
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}

/** Who hears of each call: metrics (by operation and result), and the outage reporter of the store. */
export interface CallListeners {
  observer?: ObjectStorageObserver | undefined;
  /** Told of every call that could not reach the store and every one that did. */
  outages?: Pick<OutageReporter, 'unanswered' | 'answered' | 'down'> | undefined;
}

/**
 * One call to the store, within `timeoutMs`, timed and reported. Its failure is translated: a key the
 * store does not hold is `ObjectNotFoundError`, a store that cannot answer now is
 * `ObjectStoreUnavailableError`, and anything else (a refusal, a bug) is thrown as it is.
 */
export async function timedCall<T>(
  operation: ObjectOperation,
  { timeoutMs, observer, outages }: CallListeners & { timeoutMs: number },
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const result = await run(AbortSignal.timeout(timeoutMs));
    observer?.called(operation, 'ok', seconds());
    outages?.answered();
    return result;
  } catch (error) {
    const kind = classify(error);
    observer?.called(operation, kind === 'fault' ? 'error' : kind, seconds());
    if (kind === 'not_found') {
      outages?.answered();
      throw new ObjectNotFoundError('no such object', { cause: error });
    }
    if (kind === 'fault') throw error;
    const unavailable = new ObjectStoreUnavailableError(
      `object store ${operation} failed: ${(error as Error).message}`,
      { cause: error },
    );
    outages?.unanswered(unavailable);
    throw unavailable;
  }
}

/** What each operation needs: the client, where its keys go, and how a call is made. */
interface StoreContext {
  client: S3Client;
  bucket: string;
  prefix: string;
  call: <T>(operation: ObjectOperation, run: (signal: AbortSignal) => Promise<T>) => Promise<T>;
}

async function putObject({ client, bucket, prefix, call }: StoreContext, key: string, body: Buffer) {
  await call('put', (abortSignal) =>
    client.send(
      new PutObjectCommand({ Bucket: bucket, Key: prefix + key, Body: body, ContentLength: body.length }),
      { abortSignal },
    ),
  );
}

async function getObject({ client, bucket, prefix, call }: StoreContext, key: string): Promise<Buffer> {
  return call('get', async (abortSignal) => {
    const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + key }), {
      abortSignal,
    });
    return Buffer.from(await answer.Body!.transformToByteArray());
  });
}

async function removeObjects(
  { client, bucket, prefix, call }: StoreContext,
  keys: readonly string[],
): Promise<number> {
  for (let from = 0; from < keys.length; from += DELETE_BATCH) {
    const batch = keys.slice(from, from + DELETE_BATCH);
    const answer = await call('delete', (abortSignal) =>
      client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: batch.map((key) => ({ Key: prefix + key })), Quiet: true },
        }),
        { abortSignal },
      ),
    );
    if (answer.Errors && answer.Errors.length > 0) {
      const [first] = answer.Errors;
      throw new ObjectStoreUnavailableError(
        `object store could not delete ${answer.Errors.length} objects (${first?.Code}: ${first?.Message})`,
      );
    }
  }
  return keys.length;
}

async function listObjects(
  { client, bucket, prefix, call }: StoreContext,
  after: string | undefined,
  limit: number,
): Promise<{ objects: ListedObject[]; more: boolean }> {
  return call('list', async (abortSignal) => {
    const answer = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: limit,
        ...(after === undefined ? {} : { StartAfter: prefix + after }),
      }),
      { abortSignal },
    );
    const objects = (answer.Contents ?? []).map((object) => ({
      key: object.Key!.slice(prefix.length),
      lastModified: object.LastModified ?? new Date(0),
      size: object.Size ?? 0,
    }));
    return { objects, more: answer.IsTruncated === true };
  });
}

async function headBucket({ client, bucket, call }: StoreContext): Promise<void> {
  await call('head_bucket', (abortSignal) =>
    client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }),
  );
}

async function ensureBucket(store: StoreContext): Promise<void> {
  try {
    await headBucket(store);
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    await store.call('create_bucket', (abortSignal) =>
      store.client.send(new CreateBucketCommand({ Bucket: store.bucket }), { abortSignal }),
    );
  }
}

export function createObjectStore(settings: ObjectStoreSettings, listeners: CallListeners = {}) {
  const client = s3ClientOf(settings);
  const { bucket, prefix, timeoutMs } = settings;
  const store: StoreContext = {
    client,
    bucket,
    prefix,
    call: (operation, run) => timedCall(operation, { ...listeners, timeoutMs }, run),
  };
  return {
    /** The bucket and prefix, for logs: no credentials. */
    where: `s3://${bucket}/${prefix}`,
    put: (key: string, body: Buffer): Promise<void> => putObject(store, key, body),
    get: (key: string): Promise<Buffer> => getObject(store, key),
    /** Deletes the keys (absent ones count as deleted, as in S3); how many were asked for. */
    remove: (keys: readonly string[]): Promise<number> => removeObjects(store, keys),
    /** One page of keys after `after` (relative, in key order), at most `limit`. */
    list: (after: string | undefined, limit = 1000) => listObjects(store, after, limit),
    /**
     * The bucket answers (HeadBucket). Not a readiness check: callbacks are accepted while the store is
     * down (their bodies kept whole in Postgres), so /readyz does not ask it.
     */
    ping: (): Promise<void> => headBucket(store),
    /** True while its outage reporter holds it unreachable: from an unanswered call to an answered one. */
    get down(): boolean {
      return listeners.outages?.down ?? false;
    },
    /** Creates the bucket if it does not exist: for the embedded store and the tests, never production's. */
    ensureBucket: (): Promise<void> => ensureBucket(store),
    close(): void {
      client.destroy();
    },
  };
}

export type ObjectStore = ReturnType<typeof createObjectStore>;
