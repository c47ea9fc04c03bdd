import { z } from 'zod';

const BIGINT_MAX = 9_223_372_036_854_775_807n;

/**
 * A Postgres `bigint` as decimal digits (ids, transaction ids): checked against the type's range here,
 * so that a caller's 19-digit number past it is a 400, not a failed cast in SQL.
 */
export function bigintDigits(message = 'must be a positive integer within bigint range') {
  // One check: a failed pattern would not stop a second one from running BigInt() on any string.
  return z.string().refine((value) => /^\d{1,19}$/.test(value) && BigInt(value) <= BIGINT_MAX, message);
}
