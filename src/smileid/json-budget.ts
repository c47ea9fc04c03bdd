/**
 * Structural limits for a JSON body, checked on the raw bytes before `JSON.parse` sees them. Parsing cost
 * grows with the number of values, keys and containers, not with bytes: 4 MiB of `{},` is 1.4 million
 * objects, while 4 MiB of photo text is one cheap string. Each limit is far above what a Smile ID body
 * holds (a few hundred `FullData` fields, a handful of callbacks in a job_status history), yet small
 * enough that parsing the worst shape they allow takes a few milliseconds.
 */

/** Deeper than any Smile ID body; deeper still would only exhaust stacks downstream (jsonb, zod). */
export const MAX_JSON_DEPTH = 64;
/** Objects and arrays together, the root included. */
export const MAX_JSON_CONTAINERS = 2_000;
/** Object keys in the whole body. Distinct keys are the costliest thing to parse (a shape each). */
export const MAX_JSON_KEYS = 5_000;
/** Values of any kind in the whole body: array elements, object members and the root. */
export const MAX_JSON_VALUES = 20_000;

export interface JsonLimits {
  depth: number;
  containers: number;
  keys: number;
  values: number;
}

export const JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  depth: MAX_JSON_DEPTH,
  containers: MAX_JSON_CONTAINERS,
  keys: MAX_JSON_KEYS,
  values: MAX_JSON_VALUES,
});

/** The first limit a body exceeds, if any. */
export type JsonBudgetExcess = { limit: keyof JsonLimits; max: number } | undefined;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** What each byte is outside a string: one table lookup per byte keeps long runs of digits or spaces cheap. */
const OTHER = 0;
const WHITESPACE = 1;
const STRUCTURAL = 2;
const BYTE_CLASS = new Uint8Array(256);
for (const byte of [0x20, 0x0a, 0x0d, 0x09]) BYTE_CLASS[byte] = WHITESPACE;
for (const byte of [QUOTE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY, COMMA, COLON]) {
  BYTE_CLASS[byte] = STRUCTURAL;
}

/**
 * One pass over the bytes, counting what `JSON.parse` would build. It does not validate: on valid JSON its
 * counts are exact, and on invalid JSON they are exact up to the first error, which is as far as
 * `JSON.parse` gets. UTF-8 never uses bytes below 0x80 inside a multi-byte character, so structural
 * characters are recognised byte by byte. Stops at the first limit exceeded.
 */
export function measureJson(raw: Uint8Array, limits: Readonly<JsonLimits> = JSON_LIMITS): JsonBudgetExcess {
  const length = raw.length;
  // isObject[d] is 1 when the container at depth d is an object, whose strings alternate key, value.
  const isObject = new Uint8Array(limits.depth + 2);
  let depth = 0;
  let containers = 0;
  let keys = 0;
  let values = 0;
  let expectKey = false;
  // True where a scalar may begin: at the start, after `[`, `,` in an array, or `:`.
  let valueMayStart = true;
  // The next backslash at or after a string's start, remembered across strings; 2^32 - 1 when none.
  let nextBackslash = -1;

  for (let i = 0; i < length; i += 1) {
    const byte = raw[i]!;
    const kind = BYTE_CLASS[byte];
    if (kind === WHITESPACE) continue;
    if (kind === OTHER) {
      // The first byte of a number, `true`, `false` or `null`; the rest of it follows with this false.
      if (valueMayStart) {
        values += 1;
        if (values > limits.values) return { limit: 'values', max: limits.values };
        valueMayStart = false;
      }
      continue;
    }
    if (byte === QUOTE) {
      if (expectKey) {
        keys += 1;
        if (keys > limits.keys) return { limit: 'keys', max: limits.keys };
        expectKey = false;
      } else {
        values += 1;
        if (values > limits.values) return { limit: 'values', max: limits.values };
      }
      valueMayStart = false;
      // Skip to the closing quote. Without a backslash before it (photos, almost every string), memchr
      // finds it; otherwise byte by byte, since an escape's next byte (`\"`, `\\`) is never the end.
      const end = raw.indexOf(QUOTE, i + 1);
      if (end < 0) return undefined;
      if (nextBackslash <= i) nextBackslash = raw.indexOf(BACKSLASH, i + 1) >>> 0;
      if (nextBackslash > end) {
        i = end;
        continue;
      }
      i += 1;
      while (i < length) {
        const inner = raw[i]!;
        if (inner === QUOTE) break;
        i += inner === BACKSLASH ? 2 : 1;
      }
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      containers += 1;
      values += 1;
      depth += 1;
      if (depth > limits.depth) return { limit: 'depth', max: limits.depth };
      if (containers > limits.containers) return { limit: 'containers', max: limits.containers };
      if (values > limits.values) return { limit: 'values', max: limits.values };
      const object = byte === OPEN_OBJECT;
      isObject[depth] = object ? 1 : 0;
      expectKey = object;
      valueMayStart = !object;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (depth > 0) depth -= 1;
      expectKey = false;
      valueMayStart = false;
    } else if (byte === COMMA) {
      expectKey = isObject[depth] === 1;
      valueMayStart = !expectKey;
    } else {
      // COLON
      expectKey = false;
      valueMayStart = true;
    }
  }
  return undefined;
}
