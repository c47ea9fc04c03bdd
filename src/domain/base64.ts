/**
 * Strict base64 (RFC 4648 §4: the standard alphabet, `=` padding, nothing else), checked in linear time
 * by the platform's own codec rather than a regular expression: a pattern over a multi-megabyte image
 * either overflows the stack or backtracks for hundreds of milliseconds with the event loop held.
 */

/**
 * How many bytes `text` decodes to, from its length and padding alone: exact for well-formed base64,
 * an upper bound otherwise. Lets a size limit be applied before anything is decoded.
 */
export function base64DecodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((text.length * 3) / 4) - padding);
}

/**
 * The bytes `text` encodes, or undefined when it is not strict base64. Node's decoder skips what it
 * does not understand (whitespace, a `data:` prefix, URL-safe letters, missing padding), so the bytes
 * are encoded again and must give back `text` exactly; that also refuses non-zero bits in the last
 * character, which no encoder writes.
 */
export function decodeStrictBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
