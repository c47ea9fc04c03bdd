import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

/** What every refusal must look like (docs/api.md#errors): a coded error body and nothing else. */
export function expectErrorBody(
  response: { statusCode: number; body: string; headers: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/json/);
  expect(JSON.parse(response.body)).toEqual({ error: { code, message: expect.any(String) } });
}

/** The error shape alone, for answers whose exact code a test does not fix. */
export function isErrorBody(body: string): boolean {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed === null || typeof parsed !== 'object' || Object.keys(parsed).join() !== 'error') return false;
    const { error } = parsed as { error: unknown };
    if (error === null || typeof error !== 'object') return false;
    const { code, message } = error as { code: unknown; message: unknown };
    return (
      Object.keys(error).sort().join() === 'code,message' &&
      typeof code === 'string' &&
      /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/.test(code) &&
      typeof message === 'string' &&
      message.length > 0
    );
  } catch {
    return false;
  }
}

export interface StreamedAnswer {
  status: number;
  body: string;
  /** Body bytes written before the answer arrived. */
  bytesSentBeforeAnswer: number;
  /** Whether the client had finished the request body when the answer arrived. */
  finished: boolean;
}

/**
 * POSTs to a listening app over a real socket, writing `prefix` and then `chunk` repeatedly until
 * `totalBytes` are written or the server answers, whichever comes first. With `contentLength` unset
 * the body goes out chunked (no Content-Length); set, it is declared up front, truthfully or not.
 */
export function streamPost(
  app: FastifyInstance,
  path: string,
  {
    prefix,
    chunk,
    totalBytes,
    contentLength,
    contentType = 'application/json',
  }: { prefix: Buffer; chunk: Buffer; totalBytes: number; contentLength?: number; contentType?: string },
): Promise<StreamedAnswer> {
  const { port } = app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': contentType };
    if (contentLength === undefined) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = contentLength;
    const outgoing = request({ host: '127.0.0.1', port, path, method: 'POST', headers });
    let sent = 0;
    let answered = false;
    let finished = false;

    outgoing.on('response', (incoming) => {
      answered = true;
      const bytesSentBeforeAnswer = sent;
      const parts: Buffer[] = [];
      incoming.on('data', (part: Buffer) => parts.push(part));
      incoming.on('end', () => {
        resolve({
          status: incoming.statusCode ?? 0,
          body: Buffer.concat(parts).toString('utf8'),
          bytesSentBeforeAnswer,
          finished,
        });
        outgoing.destroy();
      });
    });
    // Once answered, the server may close the connection under our writes; that is expected.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });

    const write = (data: Buffer) => {
      sent += data.length;
      return outgoing.write(data);
    };
    const pump = () => {
      while (!answered && sent < totalBytes) {
        if (!write(chunk)) {
          outgoing.once('drain', pump);
          return;
        }
      }
      // A declared length we have not reached is left open: the server must answer without the rest.
      const short = contentLength !== undefined && sent < contentLength;
      if (!answered && !finished && !short) {
        finished = true;
        outgoing.end();
      }
    };
    write(prefix);
    pump();
  });
}
