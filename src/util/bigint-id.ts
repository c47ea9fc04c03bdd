import { z } from 'zod';

const BIGINT_MAX = 9_223_372_036_854_775_807n;

/**
 * A Postgres `bigint` as decimal digits (ids, transaction ids): checked against the type's range here,
 * so that a caller's 19-digit number past it is a 400, not a failed cast in SQL.
 */
export function bigintDigits(message = 'must be a positive integer within bigint range') {
  return z
    .string()
    .regex(/^\d{1,19}$/, message)
    .refine((value) => BigInt(value) <= BIGINT_MAX, message);
}
