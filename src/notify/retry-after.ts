/** Longer than any HTTP-date: a longer value is not one, and is not parsed. */
const HTTP_DATE_MAX_CHARS = 64;

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`, RFC 9110 §10.2.3), a date in the past being no wait. Null when the
 * header is absent or reads as neither. Unbounded: the caller caps it.
 */
export function retryAfterMs(value: string | null, now: Date): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (text.length > HTTP_DATE_MAX_CHARS || !/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}
