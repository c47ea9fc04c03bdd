import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_S3_CREDENTIALS, type LocalS3, startLocalS3 } from '../../src/local-s3/server.js';
import {
  createObjectStore,
  ObjectNotFoundError,
  type ObjectStore,
  ObjectStoreUnavailableError,
} from '../../src/store/objects/object-store.js';
import { freePort } from '../helpers/processes.js';

/**
 * The S3-compatible server of development and the tests, spoken to by the AWS SDK exactly as the service
 * speaks to S3 or MinIO: what it answers is what those answer, for the operations the service uses.
 */

const settings = (url: string, bucket = 'photos', prefix = '') => ({
  bucket,
  prefix,
  forcePathStyle: true,
  region: 'us-east-1',
  endpoint: url,
  credentials: { ...LOCAL_S3_CREDENTIALS },
  timeoutMs: 2000,
});

describe('the local S3 server, through the AWS SDK', () => {
  let directory: string;
  let server: LocalS3;
  let store: ObjectStore;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'local-s3-'));
    server = await startLocalS3({ directory });
    store = createObjectStore(settings(server.url));
    await store.ensureBucket();
  });
  afterAll(async () => {
    store.close();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('stores and returns an object byte for byte, a megabyte as one', async () => {
    const body = randomBytes(1_100_000);
    await store.put('callback_events/a/0', body);
    expect((await store.get('callback_events/a/0')).equals(body)).toBe(true);
  });

  it('answers NoSuchKey for a key it does not hold, which the client names not found', async () => {
    await expect(store.get('nothing/here')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('keeps keys with spaces, dots, percent signs and non-ASCII letters apart, none escaping its folder', async () => {
    const keys = ['../outside', 'a b/c', 'x%2Fy', 'ñandú/ü', '..', 'a/./b'];
    for (const [index, key] of keys.entries()) await store.put(key, Buffer.from(String(index)));
    for (const [index, key] of keys.entries()) expect((await store.get(key)).toString()).toBe(String(index));
    await expect(rm(path.join(directory, 'outside'))).rejects.toThrow(/ENOENT/);
  });

  it('lists keys in byte order, a page at a time, after a given key, with sizes and times', async () => {
    const own = createObjectStore(settings(server.url, 'photos', 'listing/'));
    const keys = Array.from({ length: 25 }, (_, index) => `k${String(index).padStart(3, '0')}`);
    for (const key of [...keys].reverse()) await own.put(key, Buffer.alloc(3));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await own.list(after, 10);
      expect(page.objects.length).toBeLessThanOrEqual(10);
      for (const object of page.objects) {
        expect(object.size).toBe(3);
        expect(Date.now() - object.lastModified.getTime()).toBeLessThan(60_000);
      }
      seen.push(...page.objects.map((object) => object.key));
      after = page.objects.at(-1)?.key;
      if (!page.more) break;
    }
    expect(seen).toEqual(keys);
    expect((await own.list('k020', 100)).objects.map((object) => object.key)).toEqual([
      'k021',
      'k022',
      'k023',
      'k024',
    ]);
    own.close();
  });

  it('pages with continuation tokens too, as ListObjectsV2 does', async () => {
    const client = new S3Client({ ...settings(server.url), endpoint: server.url });
    const first = await client.send(
      new ListObjectsV2Command({ Bucket: 'photos', Prefix: 'listing/', MaxKeys: 20 }),
    );
    expect(first.IsTruncated).toBe(true);
    const rest = await client.send(
      new ListObjectsV2Command({
        Bucket: 'photos',
        Prefix: 'listing/',
        ContinuationToken: first.NextContinuationToken!,
      }),
    );
    expect([...first.Contents!, ...rest.Contents!].map((object) => object.Key)).toHaveLength(25);
    expect(rest.IsTruncated).toBe(false);
    client.destroy();
  });

  it('deletes many keys in one request, absent ones included, and the deleted are gone', async () => {
    await store.put('del/1', Buffer.from('1'));
    await store.put('del/2', Buffer.from('2'));
    expect(await store.remove(['del/1', 'del/2', 'del/never'])).toBe(3);
    await expect(store.get('del/1')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.get('del/2')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('says a bucket that does not exist is not found, and creates it when asked', async () => {
    const other = createObjectStore(settings(server.url, 'not-yet'));
    await expect(other.ping()).rejects.toBeInstanceOf(ObjectNotFoundError);
    await other.ensureBucket();
    await other.ping();
    other.close();
  });

  it('keeps what it stored across a restart, on its folder', async () => {
    await store.put('kept/1', Buffer.from('still here'));
    await server.close();
    server = await startLocalS3({ directory });
    store.close();
    store = createObjectStore(settings(server.url));
    expect((await store.get('kept/1')).toString()).toBe('still here');
    const client = new S3Client({ ...settings(server.url) });
    const answer = await client.send(new GetObjectCommand({ Bucket: 'photos', Key: 'kept/1' }));
    expect(await answer.Body!.transformToString()).toBe('still here');
    client.destroy();
  });

  it('names a store that does not answer unavailable, within its timeout', async () => {
    const nowhere = createObjectStore({
      ...settings(`http://127.0.0.1:${await freePort()}`),
      timeoutMs: 500,
    });
    const started = Date.now();
    await expect(nowhere.put('x', Buffer.from('x'))).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    nowhere.close();
  });
});
