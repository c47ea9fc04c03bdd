import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { deleteResultXml, errorXml, type ListedObject, listXml, readDeleteRequest } from './xml.js';

/**
 * An S3-compatible server on a local folder, for development (`npm start` with no bucket configured)
 * and the tests: the S3 protocol over HTTP, path-style, for exactly what the service uses — HeadBucket,
 * CreateBucket, PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and ListObjectsV2. It
 * listens on 127.0.0.1 and checks no signature: anything that can reach it may use it. A bucket is a
 * folder, an object a file named after its key (encoded, so no key can climb out of its folder); a write
 * lands under a temporary name and is renamed into place, so a reader never sees half an object.
 */

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_S3 with path-style addressing. */
  url: string;
  directory: string;
  close: () => Promise<void>;
}

/** Larger than any object the service writes (a part is at most a callback body). */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const MAX_KEYS = 1000;
const OBJECT_FILE = 'o_';

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const fileOf = (key: string) => `${OBJECT_FILE}${encodeURIComponent(key).replaceAll('.', '%2E')}`;
const keyOf = (file: string) => decodeURIComponent(file.slice(OBJECT_FILE.length));
const validBucket = (name: string) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name);

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > MAX_OBJECT_BYTES) throw new S3Error(400, 'EntityTooLarge', 'object too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startLocalS3({
  directory,
  port = 0,
}: {
  directory: string;
  port?: number;
}): Promise<LocalS3> {
  await mkdir(directory, { recursive: true });

  async function bucketFolder(bucket: string, mustExist = true): Promise<string> {
    if (!validBucket(bucket)) throw new S3Error(400, 'InvalidBucketName', `invalid bucket name ${bucket}`);
    const folder = path.join(directory, bucket);
    if (mustExist && !(await stat(folder).catch(() => undefined))?.isDirectory()) {
      throw new S3Error(404, 'NoSuchBucket', `no bucket ${bucket}`);
    }
    return folder;
  }

  async function list(bucket: string, query: URLSearchParams): Promise<string> {
    const folder = await bucketFolder(bucket);
    const prefix = query.get('prefix') ?? '';
    const maxKeys = Math.min(MAX_KEYS, Number(query.get('max-keys') ?? MAX_KEYS) || MAX_KEYS);
    const token = query.get('continuation-token') ?? undefined;
    const startAfter = query.get('start-after') ?? undefined;
    const after = token === undefined ? startAfter : Buffer.from(token, 'base64url').toString();
    const keys = (await readdir(folder))
      .filter((file) => file.startsWith(OBJECT_FILE))
      .map(keyOf)
      .filter((key) => key.startsWith(prefix) && (after === undefined || key > after))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const page = keys.slice(0, maxKeys);
    const objects: ListedObject[] = [];
    for (const key of page) {
      const info = await stat(path.join(folder, fileOf(key))).catch(() => undefined);
      if (info) objects.push({ key, size: info.size, lastModified: info.mtime });
    }
    return listXml({
      bucket,
      prefix,
      maxKeys,
      objects,
      continuationToken: token,
      startAfter,
      nextContinuationToken:
        keys.length > maxKeys ? Buffer.from(page.at(-1)!).toString('base64url') : undefined,
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Split by hand: a URL parser would resolve `..` and `.` segments, which are literal parts of S3 keys.
    const [rawPath = '/', rawQuery = ''] = (request.url ?? '/').split('?', 2);
    const query = new URLSearchParams(rawQuery);
    const [, bucket = '', ...rest] = rawPath.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const method = request.method ?? 'GET';
    const send = (status: number, body: string | Buffer = '', headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
      response.end(method === 'HEAD' ? undefined : body);
    };
    const xml = { 'content-type': 'application/xml' };

    if (key === '') {
      if (method === 'HEAD') {
        await bucketFolder(bucket);
        return send(200);
      }
      if (method === 'PUT') {
        await mkdir(await bucketFolder(bucket, false), { recursive: true });
        return send(200, '', { location: `/${bucket}` });
      }
      if (method === 'GET' && query.get('list-type') === '2')
        return send(200, await list(bucket, query), xml);
      if (method === 'POST' && query.has('delete')) {
        const folder = await bucketFolder(bucket);
        const { keys, quiet } = readDeleteRequest((await readBody(request)).toString('utf8'));
        for (const each of keys) await rm(path.join(folder, fileOf(each)), { force: true });
        return send(200, deleteResultXml(quiet ? [] : keys), xml);
      }
      throw new S3Error(501, 'NotImplemented', `${method} on a bucket is not implemented here`);
    }

    const folder = await bucketFolder(bucket);
    const file = path.join(folder, fileOf(key));
    if (method === 'PUT') {
      if (
        request.headers['x-amz-copy-source'] !== undefined ||
        request.headers['content-encoding']?.includes('aws-chunked')
      ) {
        throw new S3Error(501, 'NotImplemented', 'copies and chunked uploads are not implemented here');
      }
      const body = await readBody(request);
      const temporary = path.join(folder, `.tmp-${randomBytes(8).toString('hex')}`);
      await writeFile(temporary, body);
      await rename(temporary, file);
      // Not S3's MD5 of the content: nothing here reads it, and hashing every megabyte costs the process
      // that embeds this server.
      return send(200, '', { etag: `"${randomBytes(16).toString('hex')}"` });
    }
    if (method === 'GET' || method === 'HEAD') {
      const body = await readFile(file).catch(() => undefined);
      if (body === undefined) throw new S3Error(404, 'NoSuchKey', 'no such key');
      const info = await stat(file);
      return send(200, body, {
        'content-type': 'application/octet-stream',
        'last-modified': info.mtime.toUTCString(),
      });
    }
    if (method === 'DELETE') {
      await rm(file, { force: true });
      return send(204);
    }
    throw new S3Error(501, 'NotImplemented', `${method} on an object is not implemented here`);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const failure =
        error instanceof S3Error ? error : new S3Error(500, 'InternalError', (error as Error).message);
      if (response.headersSent) return void response.destroy();
      const body =
        request.method === 'HEAD' ? '' : errorXml(failure.code, failure.message, request.url ?? '');
      response.writeHead(failure.status, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
  });
  // A keep-alive socket the SDK holds open must not keep close() waiting.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    directory,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
