import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BucketFolders, bucketFolders, etagOf } from './bucket-folders.js';
import { S3Error } from './s3-error.js';
import {
  type Credentials,
  payloadRefusal,
  type Refusal,
  type SignedRequest,
  signatureRefusal,
} from './signature-v4.js';
import { deleteResultXml, errorXml, listXml, readDeleteRequest } from './xml.js';

/**
 * An S3-compatible server on a local folder, for development (`npm start` with no bucket configured)
 * and the tests: the S3 protocol over HTTP, path-style, for exactly what the service uses — HeadBucket,
 * CreateBucket, PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and ListObjectsV2. It
 * listens on 127.0.0.1 and, as S3 and MinIO do, answers only requests signed with Signature Version 4
 * (in the Authorization header) by a key it was given, dated within 15 minutes, whose body is the one
 * whose hash was signed, if one was. A bucket is a folder, an object a file (bucket-folders.ts).
 */

export interface LocalS3 {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_S3 with path-style addressing. */
  url: string;
  directory: string;
  close: () => Promise<void>;
}

/**
 * The key of development and the tests: the embedded store, the test run's store and the benches sign
 * with it. It guards nothing (the server listens on 127.0.0.1 only); it makes their requests signed as
 * S3's must be.
 */
export const LOCAL_S3_CREDENTIALS: Readonly<Credentials> = {
  accessKeyId: 'local-s3-development',
  secretAccessKey: 'local-s3-development-secret',
};

/** Larger than any object the service writes (a part is at most a callback body). */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const XML = { 'content-type': 'application/xml' };

/** What a request asks for, its path split by hand and its query as sent. */
interface Route {
  method: string;
  bucket: string;
  /** Decoded; empty for a request on the bucket. */
  key: string;
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
}

interface Answer {
  status: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

const refused = (refusal: Refusal) => new S3Error(refusal.status, refusal.code, refusal.message);

function routeOf(request: IncomingMessage): Route {
  // Split by hand: a URL parser would resolve `..` and `.` segments, which are literal parts of S3 keys.
  const url = request.url ?? '/';
  const question = url.indexOf('?');
  const rawPath = question < 0 ? url : url.slice(0, question);
  const rawQuery = question < 0 ? '' : url.slice(question + 1);
  const [, bucket = '', ...rest] = rawPath.split('/');
  try {
    const key = decodeURIComponent(rest.join('/'));
    const query = new URLSearchParams(rawQuery);
    return { method: request.method ?? 'GET', bucket, key, rawPath, rawQuery, query };
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
}

function signedRequestOf(request: IncomingMessage, route: Route): SignedRequest {
  return {
    method: route.method,
    rawPath: route.rawPath,
    rawQuery: route.rawQuery,
    headers: request.headersDistinct,
  };
}

/** The body, at most MAX_OBJECT_BYTES, checked against the hash its signature declared. */
async function readBody(request: IncomingMessage, declaredHash: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request) {
    length += (chunk as Buffer).length;
    if (length > MAX_OBJECT_BYTES) throw new S3Error(400, 'EntityTooLarge', 'object too large');
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  const mismatch = payloadRefusal(declaredHash, body);
  if (mismatch) throw refused(mismatch);
  return body;
}

async function listObjects(buckets: BucketFolders, { bucket, query }: Route): Promise<Answer> {
  const prefix = query.get('prefix') ?? '';
  const token = query.get('continuation-token') ?? undefined;
  const startAfter = query.get('start-after') ?? undefined;
  const after = token === undefined ? startAfter : Buffer.from(token, 'base64url').toString();
  const page = await buckets.list(bucket, prefix, after, Number(query.get('max-keys') ?? 0) || 0);
  const body = listXml({
    bucket,
    prefix,
    maxKeys: page.maxKeys,
    objects: page.objects,
    continuationToken: token,
    startAfter,
    nextContinuationToken:
      page.nextAfter === undefined ? undefined : Buffer.from(page.nextAfter).toString('base64url'),
  });
  return { status: 200, body, headers: XML };
}

async function onBucket(buckets: BucketFolders, route: Route, body: Buffer): Promise<Answer> {
  const { method, bucket, query } = route;
  if (method === 'HEAD') {
    await buckets.head(bucket);
    return { status: 200 };
  }
  if (method === 'PUT') {
    await buckets.create(bucket);
    return { status: 200, headers: { location: `/${bucket}` } };
  }
  if (method === 'GET' && query.get('list-type') === '2') return listObjects(buckets, route);
  if (method === 'POST' && query.has('delete')) {
    const { keys, quiet } = readDeleteRequest(body.toString('utf8'));
    await buckets.remove(bucket, keys);
    return { status: 200, body: deleteResultXml(quiet ? [] : keys), headers: XML };
  }
  throw new S3Error(501, 'NotImplemented', `${method} on a bucket is not implemented here`);
}

async function onObject(
  buckets: BucketFolders,
  route: Route,
  request: IncomingMessage,
  body: Buffer,
): Promise<Answer> {
  const { method, bucket, key } = route;
  if (method === 'PUT') {
    if (request.headers['x-amz-copy-source'] !== undefined)
      throw new S3Error(501, 'NotImplemented', 'copies are not implemented here');
    await buckets.put(bucket, key, body);
    return { status: 200, headers: { etag: etagOf(body) } };
  }
  if (method === 'GET' || method === 'HEAD') {
    const object = await buckets.get(bucket, key);
    return {
      status: 200,
      body: object.body,
      headers: {
        'content-type': 'application/octet-stream',
        'last-modified': object.lastModified.toUTCString(),
        etag: etagOf(object.body),
      },
    };
  }
  if (method === 'DELETE') {
    await buckets.remove(bucket, [key]);
    return { status: 204 };
  }
  throw new S3Error(501, 'NotImplemented', `${method} on an object is not implemented here`);
}

function send(response: ServerResponse, method: string | undefined, answer: Answer): void {
  const body = answer.body ?? '';
  response.writeHead(answer.status, { 'content-length': Buffer.byteLength(body), ...answer.headers });
  response.end(method === 'HEAD' ? undefined : body);
}

function sendError(request: IncomingMessage, response: ServerResponse, error: unknown): void {
  const failure =
    error instanceof S3Error ? error : new S3Error(500, 'InternalError', (error as Error).message);
  if (response.headersSent) return void response.destroy();
  const body = errorXml(failure.code, failure.message, request.url ?? '');
  send(response, request.method, { status: failure.status, body, headers: XML });
}

export async function startLocalS3({
  directory,
  port = 0,
  credentials = [LOCAL_S3_CREDENTIALS],
  now = Date.now,
}: {
  directory: string;
  port?: number;
  /** The keys it answers requests signed with. */
  credentials?: readonly Credentials[];
  now?: () => number;
}): Promise<LocalS3> {
  const buckets = bucketFolders(directory);
  await buckets.ensureDirectory();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const route = routeOf(request);
    const refusal = signatureRefusal(signedRequestOf(request, route), credentials, now());
    if (refusal) throw refused(refusal);
    const body = await readBody(request, request.headersDistinct['x-amz-content-sha256']?.[0] ?? '');
    const answer =
      route.key === '' ? await onBucket(buckets, route, body) : await onObject(buckets, route, request, body);
    send(response, route.method, answer);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => sendError(request, response, error));
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
