import { JSON_LIMITS, type JsonLimits, measureJson } from './json-budget.js';

const WHAT_IS_COUNTED: Readonly<Record<Exclude<keyof JsonLimits, 'depth'>, string>> = {
  containers: 'objects and arrays',
  keys: 'object keys',
  values: 'values',
};

export type BodyRefusal =
  | 'EMPTY_BODY'
  | 'JSON_TOO_DEEP'
  | 'JSON_TOO_COMPLEX'
  | 'INVALID_JSON'
  | 'NOT_AN_OBJECT'
  | 'FORBIDDEN_JSON_KEY';

export type ParsedBody =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; code: BodyRefusal; message: string };

/**
 * Parses a callback body into a plain object. Its structure is bounded on the raw bytes first, so no body
 * up to the size limit, signed or not, makes `JSON.parse` or anything after it build millions of values.
 * `__proto__` and `constructor.prototype` keys are refused rather than dropped, so what is stored is
 * exactly what was parsed.
 */
export function parseCallbackBody(raw: Buffer): ParsedBody {
  if (raw.length === 0) return refuse('EMPTY_BODY', 'request body is empty');
  const excess = measureJson(raw, JSON_LIMITS);
  if (excess?.limit === 'depth')
    return refuse('JSON_TOO_DEEP', `body nests deeper than ${excess.max} levels`);
  if (excess) {
    return refuse('JSON_TOO_COMPLEX', `body holds more than ${excess.max} ${WHAT_IS_COUNTED[excess.limit]}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return refuse('INVALID_JSON', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return refuse('NOT_AN_OBJECT', 'request body must be a JSON object');
  }
  if (hasForbiddenKey(parsed)) {
    return refuse('FORBIDDEN_JSON_KEY', 'body must not contain __proto__ or constructor.prototype keys');
  }
  return { ok: true, body: parsed as Record<string, unknown> };
}

function refuse(code: BodyRefusal, message: string): ParsedBody {
  return { ok: false, code, message };
}

/** Iterative, and bounded by the same limits: it visits at most MAX_JSON_CONTAINERS containers. */
function hasForbiddenKey(root: object): boolean {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const value = stack.pop()!;
    for (const key of Object.keys(value)) {
      const child: unknown = (value as Record<string, unknown>)[key];
      if (key === '__proto__') return true;
      if (child === null || typeof child !== 'object') continue;
      if (key === 'constructor' && Object.hasOwn(child, 'prototype')) return true;
      stack.push(child);
    }
  }
  return false;
}
