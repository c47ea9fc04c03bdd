import type { IdInfo } from '../domain/facets.js';
import { type FieldCipher, sealContext } from '../security/field-cipher.js';
import type { JobRecord } from '../store/job-record.js';

/**
 * The only place the API opens identity data: a job's `idInfo` and the stored bodies of its callbacks
 * and job_status snapshots. Everything else in src/api sees rows without them, so how they are stored
 * (sealed with AES-256-GCM, see src/security/field-cipher.ts; plaintext written before that) matters
 * here alone. Callers must have checked the PII token and written the audit row first.
 */

/** Which stored body: the table it lives in decides the context it was sealed under. */
export type EventSource = 'callback' | 'job_status';

export interface StoredBodyRow {
  id: string;
  source: EventSource;
  /** Null once retention purged it. */
  body: Uint8Array | null;
}

/** The ID authority's record of a job, opened; null when there is none (or retention erased it). */
export function readIdInfo(record: Pick<JobRecord, 'jobId' | 'idInfo'>, cipher: FieldCipher): IdInfo | null {
  if (record.idInfo === null) return null;
  return cipher.openJson(record.idInfo, sealContext.idInfo(record.jobId)) as IdInfo;
}

/** A stored callback or job_status body, opened and parsed as the JSON it was received as. */
export function readEventBody(row: StoredBodyRow, cipher: FieldCipher): unknown {
  if (row.body === null) return null;
  const context =
    row.source === 'callback' ? sealContext.callbackBody(row.id) : sealContext.snapshotBody(row.id);
  const text = cipher.open(row.body, context).toString('utf8');
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
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('signature' in body)) return body;
  return { ...body, signature: REDACTED };
}

export const REDACTED = '[redacted]';
