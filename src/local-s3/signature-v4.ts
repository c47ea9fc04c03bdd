import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4, as S3 checks it on a request signed in its Authorization header: the canonical
 * request (method, path, query, the signed headers, the payload's hash), the string to sign over its
 * SHA-256 with the date and the scope, an HMAC key derived from the secret through the date, region and
 * service, and the signature over the string. Pure: the server reads the request, this says whether its
 * signature holds: undefined when it does, else the refusal S3 would answer, rather than a throw.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What of a request the signature covers, as it arrived. */
export interface SignedRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  rawPath: string;
  /** The query as sent (after `?`), still percent-encoded. */
  rawQuery: string;
  /** Header names in lower case, each with every value it was sent with. */
  headers: Readonly<Record<string, readonly string[] | undefined>>;
}

export interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** How far a request's date may be from the server's clock, as S3 allows. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 +Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request *, *SignedHeaders=([a-z0-9;-]+) *, *Signature=([0-9a-f]{64})$/;

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants it: everything but `A-Za-z0-9-._~` escaped, in upper-case hex. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** S3's canonical path: each segment decoded and encoded again, once (S3 neither double-encodes nor normalises). */
export function canonicalPath(rawPath: string): string {
  return rawPath
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
}

/** The query's pairs encoded again, sorted by name, then value; a bare name has an empty value. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const [name, value] = equals < 0 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
      return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

const headerValue = (values: readonly string[]) =>
  values.map((value) => value.trim().replace(/ +/g, ' ')).join(',');

export function canonicalRequest(
  request: SignedRequest,
  signedHeaders: readonly string[],
  payloadHash: string,
) {
  const headers = signedHeaders.map((name) => `${name}:${headerValue(request.headers[name] ?? [])}\n`);
  return [
    request.method,
    canonicalPath(request.rawPath),
    canonicalQuery(request.rawQuery),
    headers.join(''),
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** The signature of a canonical request, for a key, a date (`YYYYMMDDTHHMMSSZ`), a region and a service. */
export function signature(
  canonical: string,
  secretAccessKey: string,
  amzDate: string,
  region: string,
  service: string,
): string {
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = [ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), service), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

const refuse = (status: number, code: string, message: string): Refusal => ({ status, code, message });
const MALFORMED = refuse(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed');
const SKEWED = refuse(
  403,
  'RequestTimeTooSkewed',
  'The difference between the request time and the current time is too large.',
);
const UNKNOWN_KEY = refuse(
  403,
  'InvalidAccessKeyId',
  'The AWS Access Key Id you provided does not exist in our records.',
);
const MISMATCH = refuse(
  403,
  'SignatureDoesNotMatch',
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
);

function dateOf(amzDate: string): number | undefined {
  const parts = AMZ_DATE.exec(amzDate);
  if (!parts) return undefined;
  const [, year, month, day, hour, minute, second] = parts.map(Number) as number[];
  return Date.UTC(year!, month! - 1, day, hour, minute, second);
}

/** Whether a declared payload hash is one S3 takes: a SHA-256 in hex, or `UNSIGNED-PAYLOAD`. */
function payloadHashRefusal(declared: string | undefined): Refusal | undefined {
  if (declared === undefined)
    return refuse(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (declared === UNSIGNED_PAYLOAD || /^[0-9a-f]{64}$/.test(declared)) return undefined;
  if (declared.startsWith('STREAMING-'))
    return refuse(501, 'NotImplemented', 'chunked uploads are not implemented here');
  return refuse(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 in hex');
}

/**
 * Whether a request is signed with one of `accepted`'s keys, at most `MAX_CLOCK_SKEW_MS` from `now`:
 * undefined when it is. The payload's hash is taken as declared (`x-amz-content-sha256`): whether the
 * body matches it is for whoever reads the body (`payloadRefusal`).
 */
export function signatureRefusal(
  request: SignedRequest,
  accepted: readonly Credentials[],
  now: number,
): Refusal | undefined {
  const authorization = request.headers.authorization?.[0];
  if (authorization === undefined) return refuse(403, 'AccessDenied', 'Anonymous access is not allowed');
  const parts = AUTHORIZATION.exec(authorization.trim());
  if (!parts) return MALFORMED;
  const [, accessKeyId, day, region = '', service = '', signedList = '', given = ''] = parts;
  const signedHeaders = signedList.split(';');
  const amzDate = request.headers['x-amz-date']?.[0] ?? '';
  const date = dateOf(amzDate);
  if (service !== 's3' || date === undefined || amzDate.slice(0, 8) !== day) return MALFORMED;
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-content-sha256')) return MALFORMED;
  const payloadHash = request.headers['x-amz-content-sha256']?.[0];
  const unusable = payloadHashRefusal(payloadHash);
  if (unusable) return unusable;
  if (Math.abs(now - date) > MAX_CLOCK_SKEW_MS) return SKEWED;
  const credentials = accepted.find((each) => each.accessKeyId === accessKeyId);
  if (!credentials) return UNKNOWN_KEY;
  let canonical: string;
  try {
    canonical = canonicalRequest(request, signedHeaders, payloadHash!);
  } catch {
    return refuse(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  const expected = signature(canonical, credentials.secretAccessKey, amzDate, region, service);
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given)) ? undefined : MISMATCH;
}

/** Whether the body read is the one whose hash was signed; any body goes with `UNSIGNED-PAYLOAD`. */
export function payloadRefusal(declared: string, body: Buffer): Refusal | undefined {
  if (declared === UNSIGNED_PAYLOAD || sha256Hex(body) === declared) return undefined;
  return refuse(
    400,
    'XAmzContentSHA256Mismatch',
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
  );
}
