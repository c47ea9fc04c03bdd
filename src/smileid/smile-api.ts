import secureJson from 'secure-json-parse';
import { isRecord } from '../util/is-record.js';

/** What every client of Smile ID's API is configured with. */
export interface SmileApiOptions {
  baseUrl: string;
  partnerId: string;
  /** Accepted keys: the first signs requests, any may sign responses (a rotation is in flight). */
  apiKeys: readonly string[];
  timeoutMs: number;
  /**
   * Waits for this call's place in the Smile ID call budget. The timeout starts once it has one, so a
   * call that queued behind others is not sent already out of time.
   */
  slot?: () => Promise<void>;
  now?: () => Date;
  fetch?: typeof fetch;
}

/** A call that produced nothing usable; `retryable` for 5xx, 429, timeouts and network errors. */
export interface SmileApiFailure {
  kind: 'failed';
  code: string;
  status: number | null;
  retryable: boolean;
}

/** 2205/2405: our partner id or key is wrong. Retrying will not help until an operator acts. */
export const UNAUTHORIZED_CODES: ReadonlySet<string> = new Set(['2205', '2405']);

export const retryableStatus = (status: number) => status >= 500 || status === 429;

/**
 * One HTTP call to Smile ID, once it has its place in the budget, bounded by `timeoutMs`: the answer's
 * bytes, or a retryable failure.
 */
export async function callSmileId(
  options: Pick<SmileApiOptions, 'timeoutMs' | 'fetch' | 'slot'>,
  url: string,
  init: RequestInit,
): Promise<{ response: Response; raw: Buffer } | { failure: SmileApiFailure }> {
  await options.slot?.();
  try {
    const response = await (options.fetch ?? fetch)(url, {
      ...init,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    return { response, raw: Buffer.from(await response.arrayBuffer()) };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      failure: {
        kind: 'failed',
        code: timedOut ? 'timeout' : 'network_error',
        status: null,
        retryable: true,
      },
    };
  }
}

/** A JSON object from Smile ID, prototype keys removed; undefined for anything else. */
export function parseObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = secureJson.parse(raw, undefined, {
      protoAction: 'remove',
      constructorAction: 'remove',
    });
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
