import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { answerTo, type Refusal } from './coded-error.js';
import { errorBody } from './errors.js';

/**
 * Node's HTTP parser refuses some requests before Fastify sees them (a header block too large, a
 * Content-Length that is not a number or disagrees with the bytes sent, bytes that are not HTTP). Its
 * own answers, and Fastify's, are not our error shape; this handler writes ours to the raw socket and
 * closes the connection, since what follows on it can no longer be trusted to be a request.
 */

const HEADERS_TOO_LARGE: Refusal = { code: 'HEADERS_TOO_LARGE' };
const INVALID_CONTENT_LENGTH: Refusal = { code: 'INVALID_CONTENT_LENGTH' };
const REQUEST_TIMEOUT: Refusal = { code: 'REQUEST_TIMEOUT' };
const MALFORMED_REQUEST: Refusal = { code: 'MALFORMED_REQUEST' };

const BY_CODE: Readonly<Record<string, Refusal>> = {
  HPE_HEADER_OVERFLOW: HEADERS_TOO_LARGE,
  HPE_INVALID_CONTENT_LENGTH: INVALID_CONTENT_LENGTH,
  HPE_UNEXPECTED_CONTENT_LENGTH: INVALID_CONTENT_LENGTH,
  // The connection ended before the body that Content-Length announced.
  HPE_INVALID_EOF_STATE: INVALID_CONTENT_LENGTH,
  ERR_HTTP_REQUEST_TIMEOUT: REQUEST_TIMEOUT,
  ERR_HTTP_HEADERS_TIMEOUT: REQUEST_TIMEOUT,
};

/** The response Node is writing on this socket (Node's own clientError default consults it too). */
type HttpSocket = Socket & {
  _httpMessage?: { headersSent?: boolean; req?: { headers?: Record<string, unknown> } } | null;
};

export function describeClientError(error: NodeJS.ErrnoException, socket: HttpSocket): Refusal {
  const known = error.code ? BY_CODE[error.code] : undefined;
  if (known) return known;
  // Bytes after a declared body, before it was answered: the body was longer than Content-Length said.
  const inFlight = socket._httpMessage?.req?.headers?.['content-length'];
  return inFlight !== undefined ? INVALID_CONTENT_LENGTH : MALFORMED_REQUEST;
}

export function rawResponse(refusal: Refusal): string {
  const { status, code, message } = answerTo(refusal);
  const body = JSON.stringify(errorBody(code, message));
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

export function handleClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: HttpSocket) {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal = describeClientError(error, socket);
  // The code only: the raw packet Node attaches may hold headers or body bytes.
  const { status } = answerTo(refusal);
  this.log.info({ clientError: error.code, status }, 'request refused by the HTTP parser');
  // Once a response has started on this socket, another one would corrupt it: just close.
  if (!socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(rawResponse(refusal), () => socket.destroy());
}
