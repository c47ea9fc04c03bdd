import { JSON_LIMITS, type JsonLimits, measureJson } from './json-budget.js';

const WHAT_IS_COUNTED: Readonly<Record<Exclude<keyof JsonLimits, 'depth'>, string>> = {
  containers: 'objects and arrays',
  keys: 'object keys',
  values: 'values',
};

/** Why a body is refused: a code and the facts its message states (src/http/error-catalog.ts). */
export type BodyRefusal =
  | { code: 'EMPTY_BODY' | 'INVALID_JSON' | 'NOT_AN_OBJECT' | 'FORBIDDEN_JSON_KEY' }
  | { code: 'JSON_TOO_DEEP'; max: number }
  | { code: 'JSON_TOO_COMPLEX'; max: number; counted: string };

export type ParsedBody = { ok: true; body: Record<string, unknown> } | { ok: false; refusal: BodyRefusal };

/**
 * Parses a callback body into a plain object. Its structure is bounded on the raw bytes first, so no body
 * up to the size limit, signed or not, makes `JSON.parse` or anything after it build millions of values.
 * `__proto__` and `constructor.prototype` keys are refused rather than dropped, so what is stored is
 * exactly what was parsed.
 */
export function parseCallbackBody(raw: Buffer): ParsedBody {
  if (raw.length === 0) return refuse({ code: 'EMPTY_BODY' });
  const excess = measureJson(raw, JSON_LIMITS);
  if (excess?.limit === 'depth') return refuse({ code: 'JSON_TOO_DEEP', max: excess.max });
  if (excess) {
    return refuse({ code: 'JSON_TOO_COMPLEX', max: excess.max, counted: WHAT_IS_COUNTED[excess.limit] });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return refuse({ code: 'INVALID_JSON' });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return refuse({ code: 'NOT_AN_OBJECT' });
  }
  if (hasForbiddenKey(parsed)) return refuse({ code: 'FORBIDDEN_JSON_KEY' });
  return { ok: true, body: parsed as Record<string, unknown> };
}

function refuse(refusal: BodyRefusal): ParsedBody {
  return { ok: false, refusal };
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
