import type pg from 'pg';
import type { BodyVault } from '../objects/body-vault.js';

/** Which evidence table an event lives in: it decides the context its body was sealed under. */
export type EventSource = 'callback' | 'job_status';

/** A stored body, opened; null once retention purged it. */
export interface EventBody {
  id: string;
  body: Buffer | null;
}

/** A stored callback or job_status snapshot, as listed; the body only when it was asked for. */
export interface EventRow {
  id: string;
  source: EventSource;
  at: Date;
  kinds: string[];
  trusted: boolean;
  untrustedReason: string | null;
  contentHash: string;
  bodyBytes: number;
  smileJobId: string | null;
  jobComplete: boolean | null;
  jobSuccess: boolean | null;
  bodyWithheld: boolean;
  identityConflict: boolean;
  overflow: string[];
  contradictedAt: Date | null;
}

export interface EventCursor {
  at: Date;
  id: string;
}

/**
 * Both kinds of evidence for a job, newest first, keyed by (time, id), which are never updated, so a
 * cursor on that pair pages without skipping or repeating. Each side reads its (job_id, time) index.
 */
function listEventsSql({ after }: { after: boolean }): string {
  const keyset = (time: string) => (after ? `AND (${time}, id) < ($3::timestamptz, $4::uuid)` : '');
  return `
SELECT * FROM (
  SELECT id, 'callback' AS source, received_at AS at, facets AS kinds, trusted,
         untrusted_reason AS "untrustedReason", content_hash AS "contentHash", body_bytes AS "bodyBytes",
         smile_job_id AS "smileJobId", NULL::boolean AS "jobComplete", NULL::boolean AS "jobSuccess",
         body_withheld AS "bodyWithheld", identity_conflict AS "identityConflict",
         COALESCE(overflow, '{}') AS overflow, contradicted_at AS "contradictedAt"
    FROM callback_events WHERE job_id = $1 ${keyset('received_at')}
  UNION ALL
  SELECT id, 'job_status', fetched_at, facets, true, NULL, content_hash, body_bytes, NULL, job_complete,
         job_success, false, false, '{}', NULL
    FROM status_snapshots WHERE job_id = $1 ${keyset('fetched_at')}
) events
ORDER BY at DESC, id DESC
LIMIT $2`;
}

const FIRST_PAGE_SQL = listEventsSql({ after: false });
const NEXT_PAGE_SQL = listEventsSql({ after: true });

/** The bodies of one page's events, by id: fetched apart, so paging never drags bodies through a sort. */
const BODIES_SQL = `
SELECT id, 'callback' AS source, body FROM callback_events WHERE id = ANY($1::uuid[]) AND job_id = $2
UNION ALL
SELECT id, 'job_status', body FROM status_snapshots WHERE id = ANY($1::uuid[]) AND job_id = $2`;

export function createEventQueries({ pool, vault }: { pool: pg.Pool; vault: BodyVault }) {
  /** Up to `limit` events after `cursor`, and whether more follow. */
  async function list(jobId: string, { limit, cursor }: { limit: number; cursor: EventCursor | undefined }) {
    const { rows } = cursor
      ? await pool.query<EventRow>(NEXT_PAGE_SQL, [jobId, limit + 1, cursor.at, cursor.id])
      : await pool.query<EventRow>(FIRST_PAGE_SQL, [jobId, limit + 1]);
    return { events: rows.slice(0, limit), more: rows.length > limit };
  }

  /**
   * The stored bodies of the given events of one job, opened and whole again, photos fetched from the
   * object store: the bytes received (callers audit that read first). One at a time, so a page of
   * bodies holds at most one body's photos in flight beyond those already joined.
   */
  async function bodies(jobId: string, events: readonly EventRow[]): Promise<EventBody[]> {
    if (events.length === 0) return [];
    const ids = events.map((event) => event.id);
    const { rows } = await pool.query<{ id: string; source: EventSource; body: Uint8Array | null }>(
      BODIES_SQL,
      [ids, jobId],
    );
    const opened: EventBody[] = [];
    for (const { id, source, body } of rows) {
      const table = source === 'callback' ? 'callback_events' : 'status_snapshots';
      opened.push({ id, body: body === null ? null : await vault.open({ table, id }, body) });
    }
    return opened;
  }

  return { list, bodies };
}

export type EventQueries = ReturnType<typeof createEventQueries>;
