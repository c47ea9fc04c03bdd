import { isRecord } from '../util/is-record.js';

/**
 * How the API shows a stored callback or job_status body (opened by the store's read, after
 * auditIdentityRead): parsed as the JSON it was received as, its signature withheld.
 */
export function presentEventBody(body: Buffer | null): unknown {
  if (body === null) return null;
  const text = body.toString('utf8');
  try {
    return withoutSignature(JSON.parse(text));
  } catch {
    // Every stored body was JSON when stored; should one not parse, show it as it is rather than fail.
    return text;
  }
}

/**
 * A stored body's `signature`, with its `timestamp`, would verify on any other body: it never leaves
 * the service, not even to a PII reader.
 */
function withoutSignature(body: unknown): unknown {
  if (!isRecord(body) || !('signature' in body)) return body;
  return { ...body, signature: REDACTED };
}

export const REDACTED = '[redacted]';
