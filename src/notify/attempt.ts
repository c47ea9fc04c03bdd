import { cleanErrorText, ERROR_TEXT_CHARS } from './error-text.js';
import { retryAfterMs } from './retry-after.js';

/**
 * One attempt to hand a webhook to its receiver, and what of the answer is worth keeping. A receiver is
 * not trusted with our memory or our event loop: a 2xx body is never read, an error body only up to the
 * bytes of the text kept (then the stream is cancelled, and the connection with it), and the answer's
 * headers are bounded by Node's HTTP client (16 KiB, as for requests: larger is a failed attempt).
 */

export interface AttemptResult {
  ok: boolean;
  /** The answer's status; null when none came (timeout, refused connection, malformed answer). */
  status: number | null;
  /** For the dead-letter list: the status and the start of the body, or why there was no answer. */
  error: string;
  /** The wait a 429 or 503 asked for with `Retry-After`, unbounded; null when it asked none. */
  retryAfterMs: number | null;
}

/** At most 4 bytes a character: enough for the text kept, whatever its script. */
const ERROR_BODY_BYTES = ERROR_TEXT_CHARS * 4;

export async function attemptDelivery({
  send,
  url,
  payload,
  headers,
  timeoutMs,
  now,
}: {
  send: typeof fetch;
  url: string;
  payload: string;
  headers: Record<string, string>;
  timeoutMs: number;
  now: () => Date;
}): Promise<AttemptResult> {
  let response: Response;
  try {
    response = await send(url, {
      method: 'POST',
      headers,
      body: payload,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (error) {
    return { ok: false, status: null, error: failureText(error, timeoutMs), retryAfterMs: null };
  }
  const { status } = response;
  if (response.ok) {
    // Only the status matters; a body that refuses to be cancelled is already closed or broken.
    await response.body?.cancel().catch(() => undefined);
    return { ok: true, status, error: '', retryAfterMs: null };
  }
  const text = cleanErrorText(await readPrefix(response.body, ERROR_BODY_BYTES));
  return {
    ok: false,
    status,
    error: `HTTP ${status}${text ? `: ${text}` : ''}`,
    retryAfterMs:
      status === 429 || status === 503 ? retryAfterMs(response.headers.get('retry-after'), now()) : null,
  };
}

/**
 * The body's first `maxBytes`, decoded (invalid UTF-8 as U+FFFD); the rest is never read. A body that
 * fails or times out midway gives what came before.
 */
async function readPrefix(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const kept = new Uint8Array(maxBytes);
  let length = 0;
  try {
    while (length < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.byteLength, maxBytes - length);
      kept.set(value.subarray(0, take), length);
      length += take;
    }
  } catch {
    // Timed out or cut off while reading: what came is enough.
  } finally {
    // Releasing the rest of the body; one that refuses is already closed or broken, with nothing to free.
    await reader.cancel().catch(() => undefined);
  }
  // Not `fatal`: a character cut at the limit, or bytes that are not UTF-8, become U+FFFD.
  return new TextDecoder().decode(kept.subarray(0, length));
}

/** Why no answer came, in words fit for the dead-letter list: a fixed text and Node's error code. */
function failureText(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code =
    typeof cause?.code === 'string' && /^[A-Z][A-Z0-9_]{0,40}$/.test(cause.code) ? cause.code : null;
  return code ? `network error (${code})` : 'network error';
}
