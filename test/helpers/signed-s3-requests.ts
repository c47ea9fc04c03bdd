import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from '../../src/local-s3/signature-v4.js';

/**
 * Requests signed by the AWS SDK's own signer (`@smithy/signature-v4`, configured as the S3 client
 * configures it: the path signed as sent), and sent as they are, so the tests can change one thing of
 * a signed request at a time.
 */

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: Data) =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** The SHA-256 (or HMAC, given a secret) the signer asks for, from node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: Data) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

export interface RequestToSign {
  method: string;
  /** Percent-encoded, as it goes on the wire. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface SignedHttpRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export async function signWithSdk(
  url: string,
  credentials: Credentials,
  request: RequestToSign,
  { signingDate = new Date(), region = 'us-east-1' }: { signingDate?: Date; region?: string } = {},
): Promise<SignedHttpRequest> {
  const { hostname, port, host } = new URL(url);
  const signer = new SignatureV4({
    credentials,
    region,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: request.path,
      query: request.query ?? {},
      headers: { host, ...request.headers },
      body: request.body,
    },
    { signingDate },
  );
  return {
    method: request.method,
    path: request.path,
    query: request.query ?? {},
    headers: signed.headers,
    body: request.body,
  };
}

const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);

/** Sends a request as it is: its status, headers and body. */
export function send(
  url: string,
  request: SignedHttpRequest,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const query = Object.entries(request.query)
    .map(([name, value]) => `${encode(name)}=${encode(value)}`)
    .join('&');
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      `${url}${request.path}${query === '' ? '' : `?${query}`}`,
      { method: request.method, headers: request.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
