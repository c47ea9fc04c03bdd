import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signWithSdk } from '../../test/helpers/signed-s3-requests.js';
import {
  canonicalQuery,
  canonicalRequest,
  MAX_CLOCK_SKEW_MS,
  payloadRefusal,
  type SignedRequest,
  signature,
  signatureRefusal,
  UNSIGNED_PAYLOAD,
  uriEncode,
} from './signature-v4.js';

/** The key and the requests of AWS's published S3 examples of Signature Version 4. */
const EXAMPLE_KEY = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EXAMPLE_DATE = '20130524T000000Z';
const EXAMPLE_NOW = Date.UTC(2013, 4, 24);

const exampleGet = (signed: string): SignedRequest => ({
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery: '',
  headers: {
    host: ['examplebucket.s3.amazonaws.com'],
    range: ['bytes=0-9'],
    'x-amz-content-sha256': [EMPTY_SHA256],
    'x-amz-date': [EXAMPLE_DATE],
    authorization: [
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=${signed}`,
    ],
  },
});
const EXAMPLE_GET_SIGNATURE = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';

/** A request as the server reads it off the wire, from one the SDK's signer signed. */
async function signedBySdk(
  path: string,
  query: Record<string, string>,
  secretAccessKey = 'secret',
  signingDate = new Date(),
): Promise<SignedRequest> {
  const signed = await signWithSdk(
    'http://127.0.0.1:9000',
    { accessKeyId: 'key', secretAccessKey },
    { method: 'GET', path, query, headers: { 'x-amz-content-sha256': UNSIGNED_PAYLOAD } },
    { signingDate },
  );
  const rawQuery = Object.entries(query)
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .join('&');
  const headers = Object.fromEntries(
    Object.entries(signed.headers).map(([name, value]) => [name.toLowerCase(), [value]]),
  );
  return { method: 'GET', rawPath: path, rawQuery, headers };
}

const KEYS = [{ accessKeyId: 'key', secretAccessKey: 'secret' }];

describe('Signature Version 4, as S3 checks it', () => {
  it("computes the signature of AWS's published GET Object example", () => {
    const request = exampleGet(EXAMPLE_GET_SIGNATURE);
    const canonical = canonicalRequest(
      request,
      ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
      EMPTY_SHA256,
    );
    expect(canonical).toBe(
      'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
        `x-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:${EXAMPLE_DATE}\n\n` +
        `host;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
    );
    expect(signature(canonical, EXAMPLE_KEY.secretAccessKey, EXAMPLE_DATE, 'us-east-1', 's3')).toBe(
      EXAMPLE_GET_SIGNATURE,
    );
    expect(signatureRefusal(request, [EXAMPLE_KEY], EXAMPLE_NOW)).toBeUndefined();
  });

  it("computes the signature of AWS's published ListObjects example, its query sorted", () => {
    const request: SignedRequest = {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'prefix=J&max-keys=2',
      headers: {
        host: ['examplebucket.s3.amazonaws.com'],
        'x-amz-content-sha256': [EMPTY_SHA256],
        'x-amz-date': [EXAMPLE_DATE],
      },
    };
    const canonical = canonicalRequest(request, ['host', 'x-amz-content-sha256', 'x-amz-date'], EMPTY_SHA256);
    expect(signature(canonical, EXAMPLE_KEY.secretAccessKey, EXAMPLE_DATE, 'us-east-1', 's3')).toBe(
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    );
  });

  it('refuses the example signed with another secret, or with one digit of its signature changed', () => {
    const otherSecret = { ...EXAMPLE_KEY, secretAccessKey: 'not-the-secret' };
    expect(signatureRefusal(exampleGet(EXAMPLE_GET_SIGNATURE), [otherSecret], EXAMPLE_NOW)?.code).toBe(
      'SignatureDoesNotMatch',
    );
    const changed = `${EXAMPLE_GET_SIGNATURE.slice(0, -1)}0`;
    expect(signatureRefusal(exampleGet(changed), [EXAMPLE_KEY], EXAMPLE_NOW)).toMatchObject({
      status: 403,
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses the example when a signed header or the date was changed after signing', () => {
    const request = exampleGet(EXAMPLE_GET_SIGNATURE);
    const ranged = { ...request, headers: { ...request.headers, range: ['bytes=0-99'] } };
    expect(signatureRefusal(ranged, [EXAMPLE_KEY], EXAMPLE_NOW)?.code).toBe('SignatureDoesNotMatch');
    const later = { ...request, headers: { ...request.headers, 'x-amz-date': ['20130524T000001Z'] } };
    expect(signatureRefusal(later, [EXAMPLE_KEY], EXAMPLE_NOW)?.code).toBe('SignatureDoesNotMatch');
  });

  it('agrees with the AWS SDK signer on any key and query, and refuses what it signed with another secret', async () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(text, { minLength: 1, maxLength: 3 }),
        fc.dictionary(fc.stringMatching(/^[a-z-]{1,10}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
        async (segments, query) => {
          const path = `/bucket/${segments.map(uriEncode).join('/')}`;
          expect(signatureRefusal(await signedBySdk(path, query), KEYS, Date.now())).toBeUndefined();
          const forged = await signedBySdk(path, query, 'another secret');
          expect(signatureRefusal(forged, KEYS, Date.now())?.code).toBe('SignatureDoesNotMatch');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses a key it does not know, and a request dated more than 15 minutes from its clock', async () => {
    const request = await signedBySdk('/bucket/key', {});
    const other = [{ accessKeyId: 'other', secretAccessKey: 'secret' }];
    expect(signatureRefusal(request, other, Date.now())).toMatchObject({
      status: 403,
      code: 'InvalidAccessKeyId',
    });
    const old = await signedBySdk(
      '/bucket/key',
      {},
      'secret',
      new Date(Date.now() - MAX_CLOCK_SKEW_MS - 60_000),
    );
    expect(signatureRefusal(old, KEYS, Date.now())).toMatchObject({
      status: 403,
      code: 'RequestTimeTooSkewed',
    });
    const recent = await signedBySdk('/bucket/key', {}, 'secret', new Date(Date.now() - 60_000));
    expect(signatureRefusal(recent, KEYS, Date.now())).toBeUndefined();
  });

  it('refuses a request with no Authorization, and a garbled one, as S3 does', () => {
    const request = exampleGet(EXAMPLE_GET_SIGNATURE);
    const { authorization: _dropped, ...unsigned } = request.headers;
    expect(signatureRefusal({ ...request, headers: unsigned }, [EXAMPLE_KEY], EXAMPLE_NOW)).toMatchObject({
      status: 403,
      code: 'AccessDenied',
    });
    for (const garbled of [
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
      'AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=',
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130525/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=${EXAMPLE_GET_SIGNATURE}`,
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=range;x-amz-content-sha256;x-amz-date,Signature=${EXAMPLE_GET_SIGNATURE}`,
    ]) {
      const headers = { ...request.headers, authorization: [garbled] };
      expect(signatureRefusal({ ...request, headers }, [EXAMPLE_KEY], EXAMPLE_NOW)).toMatchObject({
        status: 400,
        code: 'AuthorizationHeaderMalformed',
      });
    }
  });

  it('takes UNSIGNED-PAYLOAD with any body, and a declared hash only with its body', () => {
    const body = Buffer.from('Welcome to Amazon S3.');
    const hash = '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072';
    expect(payloadRefusal(UNSIGNED_PAYLOAD, body)).toBeUndefined();
    expect(payloadRefusal(hash, body)).toBeUndefined();
    expect(payloadRefusal(hash, Buffer.from('Welcome to Amazon S4.'))).toMatchObject({
      status: 400,
      code: 'XAmzContentSHA256Mismatch',
    });
  });

  it('sorts and encodes a query the way the signer does, a bare name with an empty value', () => {
    expect(canonicalQuery('list-type=2&prefix=a%20b&delete')).toBe('delete=&list-type=2&prefix=a%20b');
    expect(canonicalQuery('b=2&a=%2B&a=1')).toBe('a=%2B&a=1&b=2');
  });
});
