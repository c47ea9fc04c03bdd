import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { expect, inject } from 'vitest';
import type { JobState } from '../../src/domain/facets.js';
import { ensureDatabase, migrate } from '../../src/store/migrate.js';

/** Helpers for the /v1 API tests (test/http and test/integration). */

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A migrated database of the test file's own, for tests that list every job and must know exactly
 * which exist. Dropped by `drop()`.
 */
export async function createOwnDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const url = new URL(inject('databaseUrl'));
  const name = `smileid_api_${randomBytes(4).toString('hex')}`;
  url.pathname = `/${name}`;
  const log = pino({ level: 'warn' });
  await ensureDatabase(url.toString(), log);
  await migrate(url.toString(), log);
  return {
    url: url.toString(),
    async drop() {
      const maintenance = new URL(url);
      maintenance.pathname = '/postgres';
      const client = new pg.Client({ connectionString: maintenance.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await client.end();
    },
  };
}

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
