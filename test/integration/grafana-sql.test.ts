import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expandSql, ROOT, sqlQueries } from '../helpers/dashboards.js';
import { createScratchDatabase } from '../helpers/database.js';

const READER_ROLE = 'smileid_grafana_reader';
const LOGIN_SCRIPT = path.join(ROOT, 'grafana/postgres/grafana-login.sql');
const PSQL = ['/usr/bin/psql', '/usr/local/bin/psql'].find((candidate) => existsSync(candidate));
const run = promisify(execFile);

/** Identity data seeded into the base tables; no row of any view may carry it. */
const FULL_NAME = 'Wanjiru Kamau-Testcase';
const ID_NUMBER = '98765432101';
const OTHER_USER = 'user-previous-registrant-7f3a';

const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

function urlAs(databaseUrl: string, user: string, password?: string): string {
  const url = new URL(databaseUrl);
  url.username = user;
  url.password = password ?? '';
  return url.toString();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/** Jobs in every state and flag the dashboards show, with events and transitions. */
async function seed(admin: pg.Client) {
  const idInfo = Buffer.from(JSON.stringify({ fullName: FULL_NAME, idNumber: ID_NUMBER }));
  const job = async (
    jobId: string,
    fields: {
      state: string;
      isFinal?: boolean;
      confirmed?: boolean;
      createdAt: Date;
      finalizedAt?: Date;
      previouslyRegistered?: boolean;
      suspects?: unknown[];
      staleAt?: Date;
    },
  ) => {
    await admin.query(
      `INSERT INTO jobs (job_id, user_id, state, is_final, confirmed, created_at, updated_at, finalized_at,
                         id_info, id_number_previously_registered, previous_registrant_user_ids,
                         suspect_users, smile_secure_code, stale_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10, $11, $12, $13)`,
      [
        jobId,
        `user-${jobId}`,
        fields.state,
        fields.isFinal ?? false,
        fields.confirmed ?? false,
        fields.createdAt,
        fields.finalizedAt ?? null,
        idInfo,
        fields.previouslyRegistered ?? null,
        fields.previouslyRegistered ? [OTHER_USER] : [],
        JSON.stringify(fields.suspects ?? []),
        fields.suspects ? '5211' : null,
        fields.staleAt ?? null,
      ],
    );
    await admin.query(
      `INSERT INTO job_transitions (job_id, from_state, to_state, from_final, to_final, at)
       VALUES ($1, NULL, 'pending', NULL, false, $2)`,
      [jobId, fields.createdAt],
    );
    if (fields.state !== 'pending') {
      await admin.query(
        `INSERT INTO job_transitions (job_id, from_state, to_state, from_final, to_final, at)
         VALUES ($1, 'pending', $2, false, $3, $4)`,
        [jobId, fields.state, fields.isFinal ?? false, fields.finalizedAt ?? ago(5 * HOUR)],
      );
    }
  };
  await job('sql-approved', {
    state: 'approved',
    isFinal: true,
    confirmed: true,
    createdAt: ago(2 * HOUR),
    finalizedAt: ago(HOUR),
    previouslyRegistered: true,
  });
  await job('sql-rejected', {
    state: 'rejected',
    isFinal: true,
    createdAt: ago(3 * HOUR),
    finalizedAt: ago(HOUR),
  });
  await job('sql-failed', {
    state: 'failed',
    isFinal: true,
    createdAt: ago(30 * HOUR),
    finalizedAt: ago(26 * HOUR),
  });
  await job('sql-suspect', {
    state: 'approved',
    isFinal: true,
    createdAt: ago(HOUR),
    finalizedAt: ago(HOUR / 2),
    suspects: [{ userId: OTHER_USER, reason: 'Selfie matches a previously enrolled user' }],
  });
  await job('sql-provisional', { state: 'provisional', createdAt: ago(6 * HOUR) });
  await job('sql-pending', { state: 'pending', createdAt: ago(50 * HOUR) });
  await job('sql-stale', { state: 'pending', createdAt: ago(200 * HOUR), staleAt: ago(HOUR) });

  const event = (jobId: string, trusted: boolean, facets: string[]) =>
    admin.query(
      `INSERT INTO callback_events (id, job_id, received_at, source_ip, content_hash, facets, trusted,
                                    untrusted_reason, pair_digest, body_bytes, body)
       VALUES ($1, $2, $3, '203.0.113.9', $4, $5, $6, $7, 'digest', $8, $9)`,
      [
        randomUUID(),
        jobId,
        ago(HOUR),
        randomBytes(16).toString('hex'),
        facets,
        trusted,
        trusted ? null : 'timestamp_outside_tolerance',
        idInfo.length,
        idInfo,
      ],
    );
  await event('sql-approved', true, ['idInfo']);
  await event('sql-approved', true, ['result']);
  await event('sql-rejected', false, ['result']);
  await event('sql-suspect', true, ['smileSecure']);
}

describe('Grafana SQL panels against the migrated schema, as the read-only login', () => {
  const login = `grafana_test_${randomBytes(4).toString('hex')}`;
  const scriptLogin = `grafana_script_${randomBytes(4).toString('hex')}`;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let admin: pg.Client;
  let reader: pg.Client;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    admin = await connect(scratch.url);
    await seed(admin);
    await admin.query(`CREATE ROLE ${pg.escapeIdentifier(login)} LOGIN IN ROLE ${READER_ROLE}`);
    reader = await connect(urlAs(scratch.url, login));
  });

  afterAll(async () => {
    await reader?.end();
    await admin?.end();
    await scratch?.drop();
    const server = await connect(inject('databaseUrl'));
    for (const role of [login, scriptLogin])
      await server.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    await server.end();
  });

  const queries = sqlQueries();
  const to = new Date(Date.now() + HOUR);
  const from = new Date(Date.now() - 7 * 24 * HOUR);

  it('finds SQL panels on every dashboard that has them', () => {
    expect(queries.length).toBeGreaterThanOrEqual(8);
    expect(new Set(queries.map((query) => query.dashboard)).size).toBe(3);
  });

  it.each(queries.map((query) => [`${query.dashboard} / ${query.panel}`, query] as const))(
    'the panel "%s" runs as the reader and returns rows',
    async (_name, query) => {
      const { rows, fields } = await reader.query(expandSql(query.query, from, to));
      expect(rows.length, query.query).toBeGreaterThan(0);
      // Grafana's time_series format needs a `time` column; tables must not depend on one.
      if (query.format === 'time_series') expect(fields.map((field) => field.name)).toContain('time');
      else expect(query.format).toBe('table');
    },
  );

  it('counts the seeded jobs correctly in the outcome, aging and flag views', async () => {
    const outcomes = await reader.query(
      'SELECT sum(approved)::int AS approved, sum(rejected)::int AS rejected, sum(failed)::int AS failed FROM reporting.daily_outcomes',
    );
    expect(outcomes.rows[0]).toEqual({ approved: 2, rejected: 1, failed: 1 });
    const aging = await reader.query(
      'SELECT state, age_bucket, jobs::int FROM reporting.open_job_aging WHERE jobs > 0 ORDER BY state, bucket_order',
    );
    expect(aging.rows).toEqual([
      { state: 'pending', age_bucket: '1d-3d', jobs: 1 },
      { state: 'pending', age_bucket: '>= 7d', jobs: 1 },
      { state: 'provisional', age_bucket: '4h-24h', jobs: 1 },
    ]);
    const flagged = await reader.query(
      `SELECT (SELECT array_agg(job_id) FROM reporting.previously_registered_jobs) AS previous,
              (SELECT array_agg(job_id) FROM reporting.fraud_suspect_jobs) AS suspects,
              (SELECT array_agg(job_id) FROM reporting.stale_jobs) AS stale`,
    );
    expect(flagged.rows[0]).toEqual({
      previous: ['sql-approved'],
      suspects: ['sql-suspect'],
      stale: ['sql-stale'],
    });
  });

  it.each([
    'jobs',
    'callback_events',
    'status_snapshots',
    'job_transitions',
    'audit_log',
    '_prisma_migrations',
  ])('the reader cannot select from the base table %s', async (table) => {
    await expect(
      reader.query(`SELECT 1 FROM public.${pg.escapeIdentifier(table)} LIMIT 1`),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('the reader can change nothing: no writes through views, no tables of its own', async () => {
    await expect(
      reader.query("INSERT INTO reporting.stale_jobs (job_id) VALUES ('forged')"),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(reader.query('CREATE TABLE reporting.mine (x int)')).rejects.toMatchObject({
      code: '42501',
    });
    await expect(reader.query('CREATE TABLE public.mine (x int)')).rejects.toMatchObject({ code: '42501' });
    await expect(reader.query('CREATE VIEW reporting.peek AS SELECT 1')).rejects.toMatchObject({
      code: '42501',
    });
  });

  it('grants the reader role SELECT on exactly the views of schema reporting', async () => {
    const { rows } = await admin.query<{ name: string; kind: string }>(
      `SELECT n.nspname || '.' || c.relname AS name, c.relkind::text AS kind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND (has_table_privilege($1, c.oid, 'SELECT') OR has_any_column_privilege($1, c.oid, 'SELECT'))
        ORDER BY 1`,
      [READER_ROLE],
    );
    const views = await admin.query<{ name: string }>(
      "SELECT 'reporting.' || table_name AS name FROM information_schema.views WHERE table_schema = 'reporting' ORDER BY 1",
    );
    expect(views.rows.length).toBeGreaterThanOrEqual(9);
    expect(rows).toEqual(views.rows.map(({ name }) => ({ name, kind: 'v' })));
    const writable = await admin.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'reporting'
          AND (has_table_privilege($1, c.oid, 'INSERT') OR has_table_privilege($1, c.oid, 'UPDATE')
               OR has_table_privilege($1, c.oid, 'DELETE') OR has_table_privilege($1, c.oid, 'TRUNCATE'))`,
      [READER_ROLE],
    );
    expect(writable.rows).toEqual([]);
  });

  it('exposes no identity data: no such column, and no seeded name, ID number or other user id in any row', async () => {
    const columns = await admin.query<{ column_name: string }>(
      "SELECT DISTINCT column_name FROM information_schema.columns WHERE table_schema = 'reporting'",
    );
    const names = columns.rows.map((row) => row.column_name);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      expect(name).not.toMatch(
        /id_info|^body$|name|dob|id_number$|photo|phone|user_ids|suspect_users|source_ip|signature/,
      );
    }
    const views = await admin.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting'",
    );
    for (const { table_name } of views.rows) {
      const { rows } = await reader.query(`SELECT * FROM reporting.${pg.escapeIdentifier(table_name)}`);
      const text = JSON.stringify(rows);
      expect(text).not.toContain(FULL_NAME);
      expect(text).not.toContain(ID_NUMBER);
      expect(text).not.toContain(OTHER_USER);
    }
  });

  it('migrates several databases on one server at once, sharing the one reader role', async () => {
    const databases = await Promise.all([createScratchDatabase(), createScratchDatabase()]);
    try {
      const { rows } = await admin.query('SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = $1', [
        READER_ROLE,
      ]);
      expect(rows).toEqual([{ rolname: READER_ROLE, rolcanlogin: false }]);
      for (const database of databases) {
        const client = await connect(database.url);
        const granted = await client.query("SELECT has_schema_privilege($1, 'reporting', 'USAGE') AS usage", [
          READER_ROLE,
        ]);
        await client.end();
        expect(granted.rows[0]).toEqual({ usage: true });
      }
    } finally {
      await Promise.all(databases.map((database) => database.drop()));
    }
  });

  describe.skipIf(!PSQL)('the grafana-login script that compose runs', () => {
    const runScript = (env: Record<string, string>) => {
      const url = new URL(scratch.url);
      return run(PSQL!, ['-X', '-q', '-f', LOGIN_SCRIPT], {
        env: {
          PATH: process.env.PATH ?? '',
          PGHOST: url.hostname,
          PGPORT: url.port || '5432',
          PGUSER: decodeURIComponent(url.username) || 'postgres',
          PGPASSWORD: decodeURIComponent(url.password),
          PGDATABASE: url.pathname.slice(1),
          ...env,
        },
      });
    };
    it('creates a read-only login in the reader role, and running it again only resets the password', async () => {
      await runScript({ GRAFANA_DB_USER: scriptLogin, GRAFANA_DB_PASSWORD: 'first password' });
      await runScript({ GRAFANA_DB_USER: scriptLogin, GRAFANA_DB_PASSWORD: "second 'password'" });
      const { rows } = await admin.query(
        `SELECT r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb, pg_has_role(r.rolname, $2, 'MEMBER') AS member
           FROM pg_roles r WHERE r.rolname = $1`,
        [scriptLogin, READER_ROLE],
      );
      expect(rows).toEqual([
        { rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false, member: true },
      ]);

      const grafana = await connect(urlAs(scratch.url, scriptLogin, "second 'password'"));
      try {
        const settings = await grafana.query('SHOW default_transaction_read_only');
        expect(settings.rows[0]).toEqual({ default_transaction_read_only: 'on' });
        const counts = await grafana.query('SELECT sum(jobs)::int AS jobs FROM job_counts');
        expect(counts.rows[0]).toEqual({ jobs: 7 });
        await expect(grafana.query('SELECT 1 FROM public.jobs')).rejects.toMatchObject({ code: '42501' });
      } finally {
        await grafana.end();
      }
    });

    it('refuses to run without a password or for an administrator role', async () => {
      await expect(runScript({ GRAFANA_DB_USER: `${scriptLogin}_x` })).rejects.toMatchObject({
        stderr: expect.stringContaining('GRAFANA_DB_PASSWORD is not set'),
      });
      await expect(
        runScript({ GRAFANA_DB_USER: 'postgres', GRAFANA_DB_PASSWORD: 'whatever' }),
      ).rejects.toMatchObject({ stderr: expect.stringContaining('superuser') });
      const { rows } = await admin.query('SELECT rolsuper FROM pg_roles WHERE rolname = $1', ['postgres']);
      expect(rows).toEqual([{ rolsuper: true }]);
    });
  });
});
