import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RequestToSign, send, signWithSdk } from '../../test/helpers/signed-s3-requests.js';
import { createObjectStore, type ObjectStore } from '../store/objects/object-store.js';
import { LOCAL_S3_CREDENTIALS, type LocalS3, startLocalS3 } from './server.js';

/**
 * The local S3 server refuses what S3 and MinIO refuse: a request signed with another secret, changed
 * after it was signed, dated too far from now, or whose body is not the one whose hash was signed. The
 * service's own client, with its unsigned payloads, gets through.
 */

const errorCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

describe('the local S3 server, on signatures', () => {
  let directory: string;
  let server: LocalS3;
  let store: ObjectStore;

  const signed = (request: RequestToSign, options?: Parameters<typeof signWithSdk>[3]) =>
    signWithSdk(server.url, LOCAL_S3_CREDENTIALS, request, options);
  const putRequest = (key: string, body: Buffer, hash = sha256(body)): RequestToSign => ({
    method: 'PUT',
    path: `/photos/${key}`,
    headers: { 'x-amz-content-sha256': hash, 'content-length': String(body.length) },
    body,
  });

  const getRequest = (key: string): RequestToSign => ({
    method: 'GET',
    path: `/photos/${key}`,
    headers: { 'x-amz-content-sha256': sha256(Buffer.alloc(0)) },
  });

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'local-s3-signatures-'));
    server = await startLocalS3({ directory, credentials: [LOCAL_S3_CREDENTIALS] });
    store = createObjectStore({
      bucket: 'photos',
      prefix: 'service/',
      forcePathStyle: true,
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { ...LOCAL_S3_CREDENTIALS },
      timeoutMs: 5000,
    });
    await store.ensureBucket();
  });
  afterAll(async () => {
    store.close();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('stores a put signed with its key and its body hash, and answers the MD5 of the body as its ETag', async () => {
    const body = randomBytes(5000);
    const answer = await send(server.url, await signed(putRequest('signed', body)));
    expect(answer.status).toBe(200);
    expect(answer.headers.etag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const got = await send(server.url, await signed(getRequest('signed')));
    expect(got.status).toBe(200);
    expect(got.headers.etag).toBe(answer.headers.etag);
  });

  it('refuses a request signed with another secret: 403 SignatureDoesNotMatch, in an XML Error', async () => {
    const forged = await signWithSdk(
      server.url,
      { ...LOCAL_S3_CREDENTIALS, secretAccessKey: 'guessed' },
      putRequest('forged', Buffer.from('x')),
    );
    const answer = await send(server.url, forged);
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toBe('application/xml');
    expect(answer.body).toMatch(/^<\?xml .*<Error><Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('refuses a key it was not given: 403 InvalidAccessKeyId', async () => {
    const stranger = await signWithSdk(
      server.url,
      { accessKeyId: 'stranger', secretAccessKey: LOCAL_S3_CREDENTIALS.secretAccessKey },
      putRequest('stranger', Buffer.from('x')),
    );
    const answer = await send(server.url, stranger);
    expect([answer.status, errorCode(answer.body)]).toEqual([403, 'InvalidAccessKeyId']);
  });

  it('refuses a request whose signed header, path or query was changed after signing', async () => {
    const request = await signed({
      method: 'GET',
      path: '/photos',
      query: { 'list-type': '2', prefix: 'a' },
      headers: { 'x-amz-content-sha256': sha256(Buffer.alloc(0)), range: 'bytes=0-9' },
    });
    expect((await send(server.url, request)).status).toBe(200);
    for (const tampered of [
      { ...request, headers: { ...request.headers, range: 'bytes=0-99' } },
      { ...request, path: '/photoz' },
      { ...request, query: { ...request.query, prefix: 'b' } },
    ]) {
      const answer = await send(server.url, tampered);
      expect([answer.status, errorCode(answer.body)]).toEqual([403, 'SignatureDoesNotMatch']);
    }
  });

  it('refuses a request dated more than 15 minutes ago: 403 RequestTimeTooSkewed', async () => {
    const old = await signed(putRequest('old', Buffer.from('x')), {
      signingDate: new Date(Date.now() - 16 * 60_000),
    });
    const answer = await send(server.url, old);
    expect([answer.status, errorCode(answer.body)]).toEqual([403, 'RequestTimeTooSkewed']);
  });

  it('refuses a body that is not the one whose hash was signed, and stores nothing', async () => {
    const request = await signed(putRequest('swapped', Buffer.from('the signed body')));
    const answer = await send(server.url, { ...request, body: Buffer.from('another body!!!') });
    expect([answer.status, errorCode(answer.body)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    const got = await send(server.url, await signed(getRequest('swapped')));
    expect([got.status, errorCode(got.body)]).toEqual([404, 'NoSuchKey']);
  });

  it('refuses a request with no Authorization, or one it cannot read', async () => {
    const request = await signed(putRequest('anonymous', Buffer.from('x')));
    const { authorization: _dropped, ...anonymous } = request.headers;
    const unsigned = await send(server.url, { ...request, headers: anonymous });
    expect([unsigned.status, errorCode(unsigned.body)]).toEqual([403, 'AccessDenied']);
    const garbled = await send(server.url, {
      ...request,
      headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 Credential=nonsense' },
    });
    expect([garbled.status, errorCode(garbled.body)]).toEqual([400, 'AuthorizationHeaderMalformed']);
  });

  it("takes the service's own client, which signs no payload: put, get, list and delete round-trip", async () => {
    const body = randomBytes(300_000);
    await store.put('callback_events/one/0', body);
    await store.put('callback_events/one/1', Buffer.from('second'));
    expect((await store.get('callback_events/one/0')).equals(body)).toBe(true);
    const listed = await store.list(undefined, 10);
    expect(listed.objects.map((object) => [object.key, object.size])).toEqual([
      ['callback_events/one/0', 300_000],
      ['callback_events/one/1', 6],
    ]);
    expect(await store.remove(['callback_events/one/0', 'callback_events/one/1'])).toBe(2);
    expect((await store.list(undefined, 10)).objects).toEqual([]);
  });
});
