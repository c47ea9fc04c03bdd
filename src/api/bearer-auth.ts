import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CodedError } from '../http/coded-error.js';

export type Access = 'read' | 'pii';

/** Who is calling: what the token grants, and a fingerprint that names the token without revealing it. */
export interface Caller {
  access: Access;
  /** May administer webhooks (/v1/notifications/*): a token from INTERNAL_ADMIN_TOKENS. */
  admin: boolean;
  /** First 16 hex characters of the token's SHA-256: enough to tell tokens apart, useless to call with. */
  fingerprint: string;
}

const FINGERPRINT_HEX_CHARS = 16;

/**
 * Bearer tokens compared in constant time: each candidate is hashed to a fixed length first, so neither
 * a token's content nor its length leaks through timing, and every token is always compared.
 */
export interface BearerTokens {
  apiTokens: readonly string[];
  piiTokens: readonly string[];
  adminTokens?: readonly string[];
}

export function createBearerAuth({ apiTokens, piiTokens, adminTokens = [] }: BearerTokens) {
  const digest = (token: string) => createHash('sha256').update(token).digest();
  const api = apiTokens.map(digest);
  const pii = piiTokens.map(digest);
  const admins = adminTokens.map(digest);
  const matchesAny = (candidate: Buffer, digests: Buffer[]) =>
    digests.reduce((found, known) => timingSafeEqual(candidate, known) || found, false);

  /** The caller a request's token identifies; throws 401 when it grants nothing. */
  return function authenticate(request: FastifyRequest): Caller {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new CodedError({ code: 'UNAUTHENTICATED', variant: 'missing' });
    const candidate = digest(match[1]!);
    const fingerprint = candidate.toString('hex', 0, FINGERPRINT_HEX_CHARS / 2);
    // Every list is compared, whichever matches: the time taken says nothing about the token's scope.
    const [isPii, isApi, admin] = [pii, api, admins].map((digests) => matchesAny(candidate, digests));
    if (isPii) return { access: 'pii', admin: admin!, fingerprint };
    if (isApi || admin) return { access: 'read', admin: admin!, fingerprint };
    throw new CodedError({ code: 'UNAUTHENTICATED', variant: 'unknown' });
  };
}

export type Authenticate = ReturnType<typeof createBearerAuth>;

/** Refuses webhook administration to a caller whose token is not an admin token. */
export function requireAdminAccess(caller: Caller): void {
  if (!caller.admin) throw new CodedError({ code: 'ADMIN_FORBIDDEN' });
}

/** Refuses identity data to a caller whose token is not a PII token. */
export function requirePiiAccess(caller: Caller): void {
  if (caller.access !== 'pii') throw new CodedError({ code: 'PII_FORBIDDEN' });
}
