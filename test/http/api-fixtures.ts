import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { expect } from 'vitest';
import type { JobState } from '../../src/domain/facets.js';

/** Helpers for the /v1 API tests (test/http and test/integration). */

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface JobSeed {
  jobId: string;
  userId?: string;
  state?: JobState;
  isFinal?: boolean;
  idNumberPreviouslyRegistered?: boolean | null;
  stale?: boolean;
  updatedAt?: Date;
}

/** Jobs written straight into `jobs`, for list tests that need exact states and times. */
export async function insertJobs(pool: pg.Pool, seeds: readonly JobSeed[]): Promise<void> {
  if (seeds.length === 0) return;
  await pool.query(
    `INSERT INTO jobs (job_id, user_id, state, is_final, id_number_previously_registered, stale_at,
                       created_at, updated_at, version)
     SELECT s.job_id, s.user_id, s.state::job_state, s.is_final, s.prev, CASE WHEN s.stale THEN s.at END,
            s.at, s.at, 1
       FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::boolean[], $6::boolean[],
                   $7::timestamptz[]) AS s(job_id, user_id, state, is_final, prev, stale, at)`,
    [
      seeds.map((seed) => seed.jobId),
      seeds.map((seed) => seed.userId ?? `user-${seed.jobId}`),
      seeds.map((seed) => seed.state ?? 'pending'),
      seeds.map((seed) => seed.isFinal ?? false),
      seeds.map((seed) => seed.idNumberPreviouslyRegistered ?? null),
      seeds.map((seed) => seed.stale ?? false),
      seeds.map((seed) => seed.updatedAt ?? new Date()),
    ],
  );
}

export interface Page {
  items: { jobId: string; [key: string]: unknown }[];
  nextCursor: string | null;
}

/** GET /v1/jobs with `query`, following `nextCursor` to the end; `between` runs before each next page. */
export async function listAllJobs(
  app: FastifyInstance,
  token: string,
  query: string,
  between: (pageNumber: number) => Promise<void> = async () => undefined,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    if (pages > 0) await between(pages);
    const separator = query ? '&' : '';
    const url: string = `/v1/jobs?${query}${cursor ? `${separator}cursor=${cursor}` : ''}`;
    const response = await app.inject({ method: 'GET', url, headers: bearer(token) });
    expect(response.statusCode, response.body).toBe(200);
    const page = response.json() as Page;
    ids.push(...page.items.map((item) => item.jobId));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== null);
  return { ids, pages };
}
