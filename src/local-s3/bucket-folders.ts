import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { S3Error } from './s3-error.js';
import type { ListedObject } from './xml.js';

/**
 * Buckets as folders of a directory, objects as files named after their keys (encoded, so no key can climb
 * out of its folder). A write lands under a temporary name and is renamed into place, so a reader never
 * sees half an object.
 */

const OBJECT_FILE = 'o_';
const MAX_KEYS = 1000;

const fileOf = (key: string) => `${OBJECT_FILE}${encodeURIComponent(key).replaceAll('.', '%2E')}`;
const keyOf = (file: string) => decodeURIComponent(file.slice(OBJECT_FILE.length));
const validBucket = (name: string) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name);

/**
 * The file's answer, or undefined when it is not there (removed meanwhile, or never written): any other
 * failure (a permission, a disk error) is the server's and is thrown, to be answered 500.
 */
async function unlessMissing<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** S3's ETag of an object written in one part: the MD5 of its bytes, quoted. */
export const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

export interface ListPage {
  objects: ListedObject[];
  maxKeys: number;
  /** After the last key of this page, when more follow. */
  nextAfter: string | undefined;
}

export function bucketFolders(directory: string) {
  async function folderOf(bucket: string, mustExist = true): Promise<string> {
    if (!validBucket(bucket)) throw new S3Error(400, 'InvalidBucketName', `invalid bucket name ${bucket}`);
    const folder = path.join(directory, bucket);
    if (mustExist && !(await unlessMissing(stat(folder)))?.isDirectory()) {
      throw new S3Error(404, 'NoSuchBucket', `no bucket ${bucket}`);
    }
    return folder;
  }

  return {
    async ensureDirectory(): Promise<void> {
      await mkdir(directory, { recursive: true });
    },

    /** Throws NoSuchBucket for a bucket that does not exist. */
    async head(bucket: string): Promise<void> {
      await folderOf(bucket);
    },

    async create(bucket: string): Promise<void> {
      await mkdir(await folderOf(bucket, false), { recursive: true });
    },

    /** The keys starting with `prefix` after `after`, in byte order, at most `maxKeys` (up to 1000). */
    async list(
      bucket: string,
      prefix: string,
      after: string | undefined,
      maxKeys: number,
    ): Promise<ListPage> {
      const folder = await folderOf(bucket);
      const limit = Math.min(MAX_KEYS, maxKeys > 0 ? maxKeys : MAX_KEYS);
      const keys = (await readdir(folder))
        .filter((file) => file.startsWith(OBJECT_FILE))
        .map(keyOf)
        .filter((key) => key.startsWith(prefix) && (after === undefined || key > after))
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const page = keys.slice(0, limit);
      const objects: ListedObject[] = [];
      for (const key of page) {
        const info = await unlessMissing(stat(path.join(folder, fileOf(key))));
        if (info) objects.push({ key, size: info.size, lastModified: info.mtime });
      }
      return { objects, maxKeys: limit, nextAfter: keys.length > limit ? page.at(-1) : undefined };
    },

    async put(bucket: string, key: string, body: Buffer): Promise<void> {
      const folder = await folderOf(bucket);
      const temporary = path.join(folder, `.tmp-${randomBytes(8).toString('hex')}`);
      await writeFile(temporary, body);
      await rename(temporary, path.join(folder, fileOf(key)));
    },

    async get(bucket: string, key: string): Promise<{ body: Buffer; lastModified: Date }> {
      const file = path.join(await folderOf(bucket), fileOf(key));
      const body = await unlessMissing(readFile(file));
      const info = await unlessMissing(stat(file));
      if (body === undefined || info === undefined) throw new S3Error(404, 'NoSuchKey', 'no such key');
      return { body, lastModified: info.mtime };
    },

    /** Absent keys count as deleted, as in S3. */
    async remove(bucket: string, keys: readonly string[]): Promise<void> {
      const folder = await folderOf(bucket);
      for (const key of keys) await rm(path.join(folder, fileOf(key)), { force: true });
    },
  };
}

export type BucketFolders = ReturnType<typeof bucketFolders>;
