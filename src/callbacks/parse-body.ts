import secureJson from 'secure-json-parse';
import { HttpError } from '../http/errors.js';

/** Deeper than any Smile ID body; deeper still would only exhaust stacks downstream (jsonb, zod). */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a callback body into a plain object. `__proto__` and `constructor.prototype` keys are refused
 * rather than silently dropped, so what is stored is exactly what was parsed.
 */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'request body is empty');
  let parsed: unknown;
  try {
    parsed = secureJson.parse(raw, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    if (error instanceof SyntaxError && /prototype|constructor/i.test(error.message)) {
      throw new HttpError(
        400,
        'FORBIDDEN_JSON_KEY',
        'body must not contain __proto__ or constructor.prototype keys',
      );
    }
    throw new HttpError(400, 'INVALID_JSON', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'NOT_AN_OBJECT', 'request body must be a JSON object');
  }
  if (depthExceeds(parsed, MAX_JSON_DEPTH)) {
    throw new HttpError(400, 'JSON_TOO_DEEP', `body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return parsed as Record<string, unknown>;
}

/** Iterative, so a hostile body cannot overflow the stack here either. */
function depthExceeds(root: object, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(value)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
