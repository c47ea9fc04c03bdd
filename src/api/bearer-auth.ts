import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.js';

export type Access = 'read' | 'pii';

/**
 * Bearer tokens compared in constant time: each candidate is hashed to a fixed length first, so neither
 * a token's content nor its length leaks through timing, and every token is always compared.
 */
export function createBearerAuth({
  apiTokens,
  piiTokens,
}: {
  apiTokens: readonly string[];
  piiTokens: readonly string[];
}) {
  const digest = (token: string) => createHash('sha256').update(token).digest();
  const api = apiTokens.map(digest);
  const pii = piiTokens.map(digest);
  const matchesAny = (candidate: Buffer, digests: Buffer[]) =>
    digests.reduce((found, known) => timingSafeEqual(candidate, known) || found, false);

  /** The access a request's token grants; throws 401 when it grants none. */
  return function authenticate(request: FastifyRequest): Access {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new HttpError(401, 'UNAUTHENTICATED', 'a bearer token is required');
    const candidate = digest(match[1]!);
    if (matchesAny(candidate, pii)) return 'pii';
    if (matchesAny(candidate, api)) return 'read';
    throw new HttpError(401, 'UNAUTHENTICATED', 'the bearer token is not valid');
  };
}

export type Authenticate = ReturnType<typeof createBearerAuth>;
