import type { EvidenceTable } from '../jobs/job-writes.js';

/**
 * The two kinds of evidence a job's outcome is merged from, each defined once: a stored callback and a
 * stored job_status answer. Bodies are sealed (field-cipher.ts) before they reach these columns, their
 * photos in the object store (store/objects/body-vault.ts).
 */

export const CALLBACK_EVENTS = {
  table: 'callback_events',
  transitionColumn: 'event_id',
  columns: {
    id: { name: 'id', type: 'uuid' },
    receivedAt: { name: 'received_at', type: 'timestamptz' },
    sourceIp: { name: 'source_ip', type: 'text' },
    contentHash: { name: 'content_hash', type: 'text' },
    facets: { name: 'facets', type: 'text[]' },
    trusted: { name: 'trusted', type: 'boolean' },
    untrustedReason: { name: 'untrusted_reason', type: 'text' },
    /** Keyed digest of the (timestamp, signature) pair: replays are found by it, the pair is never stored. */
    pairDigest: { name: 'pair_digest', type: 'text' },
    smileJobId: { name: 'smile_job_id', type: 'text' },
    bodyBytes: { name: 'body_bytes', type: 'integer' },
    body: { name: 'body', type: 'bytea' },
    /** Parts of the body in the object store; null: the body is whole in `body` (store/objects/body-vault.ts). */
    bodyObjects: { name: 'body_objects', type: 'smallint' },
    bodyWithheld: { name: 'body_withheld', type: 'boolean' },
    identityConflict: { name: 'identity_conflict', type: 'boolean' },
    /** Lists longer than their cap: kept whole only in the sealed body. */
    overflow: { name: 'overflow', type: 'text[]' },
    /** Keyed digest of the user id the body names, and its key: erasure finds the user's bodies by it. */
    userDigest: { name: 'user_digest', type: 'text' },
    userDigestKeyId: { name: 'user_digest_key_id', type: 'text' },
  },
} as const satisfies EvidenceTable<string>;

export type CallbackEventField = keyof typeof CALLBACK_EVENTS.columns;

export const STATUS_SNAPSHOTS = {
  table: 'status_snapshots',
  transitionColumn: 'snapshot_id',
  // The same answer fetched twice is stored once; the job is still written (its check is counted).
  conflictTarget: 'job_id, content_hash',
  columns: {
    id: { name: 'id', type: 'uuid' },
    fetchedAt: { name: 'fetched_at', type: 'timestamptz' },
    contentHash: { name: 'content_hash', type: 'text' },
    facets: { name: 'facets', type: 'text[]' },
    jobComplete: { name: 'job_complete', type: 'boolean' },
    jobSuccess: { name: 'job_success', type: 'boolean' },
    bodyBytes: { name: 'body_bytes', type: 'integer' },
    body: { name: 'body', type: 'bytea' },
    bodyObjects: { name: 'body_objects', type: 'smallint' },
  },
} as const satisfies EvidenceTable<string>;

export type StatusSnapshotField = keyof typeof STATUS_SNAPSHOTS.columns;
