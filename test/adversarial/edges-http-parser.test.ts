import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN } from '../helpers/app.js';
import { isErrorBody } from '../helpers/http.js';
import { startService, startSimulator, type TestService, type TestSimulator } from '../helpers/service.js';

/** What came back on a raw connection, and whether the server closed it. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  closedByServer: boolean;
  /** Every byte received, to count answers. */
  text: string;
}

/**
 * Writes exact bytes to the service, optionally half-closing, and reads until the server closes the
 * connection or 3 s pass (then the answer counts as not closed).
 */
function sendRaw(baseUrl: string, bytes: string | Buffer, { halfClose = false } = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(bytes);
      if (halfClose) socket.end();
    });
    const parts: Buffer[] = [];
    let closedByServer = false;
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', (part: Buffer) => parts.push(part));
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(parts).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? 0);
      if (status === 0) reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const headers = Object.fromEntries(
        headerLines.map((line) => {
          const at = line.indexOf(':');
          return [line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim()];
        }),
      );
      resolve({ status, headers, body: rest.join('\r\n\r\n'), closedByServer, text });
    });
  });
}

function expectRefusal(answer: RawAnswer, status: number, code: string) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(isErrorBody(answer.body), answer.body).toBe(true);
  expect(JSON.parse(answer.body).error.code).toBe(code);
  // Nothing after a refusal on this connection can be trusted to be a request.
  expect(answer.headers.connection).toBe('close');
  expect(answer.closedByServer).toBe(true);
}

const JSON_POST = (path: string, headers: string) =>
  `POST ${path} HTTP/1.1\r\nHost: service\r\nAuthorization: Bearer ${API_TOKEN}\r\n` +
  `Content-Type: application/json\r\n${headers}`;

describe('edges: requests that Node refuses before any route sees them', () => {
  let simulator: TestSimulator;
  let service: TestService;
  beforeAll(async () => {
    simulator = await startSimulator();
    service = await startService(simulator.url);
  });
  afterAll(async () => {
    await service.close();
    await simulator.close();
  });

  it('answers a header block over the size limit with 431 HEADERS_TOO_LARGE in the error shape', async () => {
    const answer = await sendRaw(
      service.baseUrl,
      `GET /v1/jobs HTTP/1.1\r\nHost: service\r\nX-Filler: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expectRefusal(answer, 431, 'HEADERS_TOO_LARGE');
  });

  it('answers a request line too long for the header limit with 431, not Node’s bare refusal', async () => {
    const answer = await sendRaw(
      service.baseUrl,
      `GET /v1/jobs/${'j'.repeat(20_000)} HTTP/1.1\r\nHost: s\r\n\r\n`,
    );
    expectRefusal(answer, 431, 'HEADERS_TOO_LARGE');
  });

  it('answers a Content-Length that is not a number with 400 INVALID_CONTENT_LENGTH', async () => {
    const answer = await sendRaw(
      service.baseUrl,
      `${JSON_POST('/v1/jobs', 'Content-Length: 12abc\r\n')}\r\n{}`,
    );
    expectRefusal(answer, 400, 'INVALID_CONTENT_LENGTH');
  });

  it('answers a negative Content-Length with 400 INVALID_CONTENT_LENGTH', async () => {
    const answer = await sendRaw(service.baseUrl, `${JSON_POST('/v1/jobs', 'Content-Length: -1\r\n')}\r\n{}`);
    expectRefusal(answer, 400, 'INVALID_CONTENT_LENGTH');
  });

  it('answers two Content-Length headers that disagree with 400 INVALID_CONTENT_LENGTH', async () => {
    const answer = await sendRaw(
      service.baseUrl,
      `${JSON_POST('/callbacks/smile-id', 'Content-Length: 2\r\nContent-Length: 20\r\n')}\r\n{}`,
    );
    expectRefusal(answer, 400, 'INVALID_CONTENT_LENGTH');
  });

  it('answers a body shorter than its Content-Length, once the client stops sending, with 400 INVALID_CONTENT_LENGTH', async () => {
    const body = JSON.stringify({ jobId: 'short-body', userId: 'u' });
    const answer = await sendRaw(
      service.baseUrl,
      `${JSON_POST('/v1/jobs', `Content-Length: ${body.length + 100}\r\n`)}\r\n${body}`,
      { halfClose: true },
    );
    expectRefusal(answer, 400, 'INVALID_CONTENT_LENGTH');
    const stored = await service.api('GET', '/v1/jobs/short-body');
    expect(stored.status).toBe(404);
  });

  it('answers a body longer than its Content-Length with one refusal in the error shape and closes the connection', async () => {
    const body = JSON.stringify({ jobId: 'long-body', userId: 'u' });
    const answer = await sendRaw(
      service.baseUrl,
      `${JSON_POST('/v1/jobs', 'Content-Length: 5\r\n')}\r\n${body}`,
    );
    expectRefusal(answer, 400, 'INVALID_CONTENT_LENGTH');
    expect(answer.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('answers Transfer-Encoding together with Content-Length with 400 in the error shape', async () => {
    const answer = await sendRaw(
      service.baseUrl,
      `${JSON_POST('/v1/jobs', 'Content-Length: 7\r\nTransfer-Encoding: chunked\r\n')}\r\n2\r\n{}\r\n0\r\n\r\n`,
    );
    expectRefusal(answer, 400, 'MALFORMED_REQUEST');
  });

  it('answers bytes that are not HTTP with 400 MALFORMED_REQUEST in the error shape', async () => {
    const answer = await sendRaw(service.baseUrl, 'HELLO THERE\r\n\r\n');
    expectRefusal(answer, 400, 'MALFORMED_REQUEST');
  });

  it('answers a malformed chunked body with 400 in the error shape', async () => {
    const answer = await sendRaw(
      service.baseUrl,
      `${JSON_POST('/v1/jobs', 'Transfer-Encoding: chunked\r\n')}\r\nzz\r\n{}\r\n0\r\n\r\n`,
    );
    expect(answer.status).toBe(400);
    expect(isErrorBody(answer.body), answer.body).toBe(true);
  });

  it('never writes the refused bytes to the log', async () => {
    const secret = `secret-${Date.now()}`;
    await sendRaw(
      service.baseUrl,
      `GET /v1/jobs HTTP/1.1\r\nHost: s\r\nX-Id-Number: ${secret}${'a'.repeat(20_000)}\r\n\r\n`,
    );
    await sendRaw(
      service.baseUrl,
      `${JSON_POST('/v1/jobs', 'Content-Length: 1x\r\n')}\r\n{"idNumber":"${secret}"}`,
    );
    expect(service.logs()).toContain('request refused by the HTTP parser');
    expect(service.logs()).not.toContain(secret);
  });

  it('keeps serving ordinary requests after every refusal', async () => {
    const health = await fetch(`${service.baseUrl}/healthz`);
    expect(health.status).toBe(200);
  });
});
