import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketFolders } from './bucket-folders.js';
import { S3Error } from './s3-error.js';

describe('bucket folders', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'bucket-folders-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('answers a key that is not there as NoSuchKey, and gives back what was put', async () => {
    const folders = bucketFolders(directory);
    await folders.create('photos');
    await expect(folders.get('photos', 'absent')).rejects.toMatchObject({ status: 404, code: 'NoSuchKey' });
    await folders.put('photos', 'a/b', Buffer.from('sealed'));
    expect((await folders.get('photos', 'a/b')).body.toString()).toBe('sealed');
  });

  it('does not take a file it cannot read for a missing key: the failure is the server’s', async () => {
    const folders = bucketFolders(directory);
    await folders.create('photos');
    // A folder where the object's file should be: reading it fails with EISDIR, not ENOENT.
    await mkdir(path.join(directory, 'photos', 'o_broken'));
    const failure = await folders.get('photos', 'broken').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(S3Error);
    expect((failure as NodeJS.ErrnoException).code).toBe('EISDIR');
  });
});
