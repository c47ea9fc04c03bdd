import type { FastifySchemaValidationError } from 'fastify';
import { CodedError } from '../http/coded-error.js';

/**
 * Turns the type provider's validation errors into our coded 400s. The message names where and which
 * parameter is wrong and why, from zod's messages, which state what was expected and never repeat the
 * value received. Unknown parameters are named only when their name is plainly a name.
 */

/** Fastify's name for the part of the request that failed (not exported by its root types). */
type DataVar = 'querystring' | 'params' | 'body' | 'headers';

const WHERE: Record<DataVar, string> = {
  querystring: 'query',
  params: 'path',
  body: 'body',
  headers: 'headers',
};

const PRINTABLE_NAME = /^[\w.-]{1,40}$/;

/** Query parameters that take a cursor (cursor.ts): `cursor` for pages, `after` for the change feed. */
const CURSOR_PARAMETERS = new Set(['cursor', 'after']);

function unknownKeysMessage(keys: unknown, noun: string): string {
  const names = Array.isArray(keys) ? keys.map(String) : [];
  const shown = names.filter((name) => PRINTABLE_NAME.test(name));
  const plural = names.length === 1 ? '' : 's';
  return shown.length === names.length && names.length > 0
    ? `unknown ${noun}${plural} ${shown.join(', ')}`
    : `unknown ${noun}${plural}`;
}

export function validationError(errors: FastifySchemaValidationError[], dataVar: DataVar): Error {
  const where = WHERE[dataVar];
  const first = errors[0];
  if (!first) return new CodedError({ code: 'VALIDATION_FAILED', where, problem: 'invalid' });
  const path = first.instancePath.split('/').filter(Boolean);
  if (first.keyword === 'unrecognized_keys') {
    const noun = dataVar === 'body' ? 'field' : 'parameter';
    const problem = unknownKeysMessage(first.params.keys, noun);
    return new CodedError({ code: 'VALIDATION_FAILED', where, problem });
  }
  const problem = `${path.join('.') || 'value'} ${first.message ?? 'is invalid'}`;
  if (dataVar === 'querystring' && CURSOR_PARAMETERS.has(path[0] ?? '')) {
    return new CodedError({ code: 'INVALID_CURSOR', where, problem });
  }
  return new CodedError({ code: 'VALIDATION_FAILED', where, problem });
}
