import { HttpError } from '../http/errors.js';

/** Deeper than any Smile ID body; deeper still would only exhaust stacks downstream (jsonb, zod). */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a callback body into a plain object. `__proto__` and `constructor.prototype` keys are refused
 * rather than dropped, so what is stored is exactly what was parsed. They are looked for in the same
 * walk that bounds the depth, instead of scanning megabytes of photo text again.
 */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'request body is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_JSON', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'NOT_AN_OBJECT', 'request body must be a JSON object');
  }
  const problem = inspect(parsed, MAX_JSON_DEPTH);
  if (problem === 'too_deep') {
    throw new HttpError(400, 'JSON_TOO_DEEP', `body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (problem === 'forbidden_key') {
    throw new HttpError(
      400,
      'FORBIDDEN_JSON_KEY',
      'body must not contain __proto__ or constructor.prototype keys',
    );
  }
  return parsed as Record<string, unknown>;
}

/** Iterative, so a hostile body cannot overflow the stack here either. */
function inspect(root: object, depthLimit: number): 'too_deep' | 'forbidden_key' | undefined {
  const stack: Array<[object, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (depth > depthLimit) return 'too_deep';
    for (const key of Object.keys(value)) {
      const child: unknown = (value as Record<string, unknown>)[key];
      if (key === '__proto__') return 'forbidden_key';
      if (child === null || typeof child !== 'object') continue;
      if (key === 'constructor' && Object.hasOwn(child, 'prototype')) return 'forbidden_key';
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}
