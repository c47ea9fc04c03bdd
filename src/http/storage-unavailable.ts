import { SOCKET_ERROR_CODES } from '../util/socket-errors.js';

/**
 * Tells "Postgres cannot be reached or cannot answer in time" (answer 503 + Retry-After, the caller
 * may retry) from everything else a query can throw, which is a bug or bad input and must stay a 500.
 * Errors come from pg directly, or from Prisma's pg adapter, which wraps them.
 */

/**
 * SQLSTATEs of an unavailable or overloaded server: connection exceptions (08), insufficient resources
 * (53), shutdown or not yet accepting connections (57P01-03), our statement_timeout (57014) and a lock
 * that could not be had in time (55P03).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08|53)[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03', '57014', '55P03'].includes(code);
}

/** pg's errors without a code: pool and connection timeouts, a connection lost mid-query. */
const PG_MESSAGES = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Query read timeout$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

/** Prisma's codes for an unreachable or exhausted database. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/** The pg adapter's own kinds for the same (DriverAdapterError's cause). */
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  kind?: unknown;
  meta?: { driverAdapterError?: unknown };
}

function matches(error: ErrorLike): boolean {
  const { code, message, kind } = error;
  if (typeof code === 'string') {
    if (SOCKET_ERROR_CODES.has(code) || PRISMA_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && isUnavailableSqlState(code)) return true;
  }
  if (typeof kind === 'string') {
    if (ADAPTER_KINDS.has(kind)) return true;
    if (kind === 'postgres' && typeof code === 'string') return isUnavailableSqlState(code);
  }
  return code === undefined && typeof message === 'string' && PG_MESSAGES.some((text) => text.test(message));
}

export function isStorageUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  // Follows `cause` and Prisma's `meta.driverAdapterError` a few levels, never in a loop.
  while (pending.length > 0 && seen.size < 8) {
    const next = pending.shift();
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    const candidate = next as ErrorLike;
    if (matches(candidate)) return true;
    pending.push(candidate.cause, candidate.meta?.driverAdapterError);
  }
  return false;
}
