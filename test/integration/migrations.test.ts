import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { concurrentIndexOf, ensureDatabase, migrate, readMigrations } from '../../src/store/migrate.js';
import { scratchDatabaseUrl, testDatabase } from '../helpers/database.js';

const log = pino({ level: 'silent' });

describe('migrations applied by the service', () => {
  const scratch = scratchDatabaseUrl();
  const databaseUrl = scratch.url;
  afterAll(() => scratch.drop());

  it('runs a migration that builds an index concurrently outside a transaction, and drops an invalid leftover first', async () => {
    expect(concurrentIndexOf('-- why\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "a_idx" ON "t" ("c");\n')).toBe(
      'a_idx',
    );
    expect(concurrentIndexOf('CREATE INDEX "a_idx" ON "t" ("c");')).toBeUndefined();
    expect(
      concurrentIndexOf('CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (c); SELECT 1;'),
    ).toBeUndefined();

    const own = scratchDatabaseUrl();
    try {
      await ensureDatabase(own.url, log);
      const directory = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
      await mkdir(path.join(directory, '1_table'));
      await writeFile(path.join(directory, '1_table', 'migration.sql'), 'CREATE TABLE t (c int);');
      expect(await migrate(own.url, log, directory)).toEqual(['1_table']);
      // What a build that died halfway leaves: an index of that name, marked invalid.
      const client = new pg.Client({ connectionString: own.url });
      await client.connect();
      await client.query('CREATE INDEX "t_c_idx" ON t (c)');
      await client.query("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 't_c_idx'::regclass");
      await mkdir(path.join(directory, '2_index'));
      await writeFile(
        path.join(directory, '2_index', 'migration.sql'),
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS "t_c_idx" ON "t" ("c");',
      );
      expect(await migrate(own.url, log, directory)).toEqual(['2_index']);
      const { rows } = await client.query(
        "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 't_c_idx'::regclass",
      );
      await client.end();
      expect(rows).toEqual([{ valid: true }]);
    } finally {
      await own.drop();
    }
  });

  it('creates a missing database and migrates it once when several instances start at the same time', async () => {
    await Promise.all([1, 2, 3].map(() => ensureDatabase(databaseUrl, log)));
    const applied = await Promise.all([1, 2, 3, 4].map(() => migrate(databaseUrl, log)));
    const migrations = await readMigrations();
    expect(applied.flat().sort()).toEqual(migrations.map((migration) => migration.name).sort());

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query(
      'SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    await client.end();
    expect(rows).toEqual(
      migrations.map((migration) => ({
        migration_name: migration.name,
        checksum: createHash('sha256').update(migration.sql).digest('hex'),
        finished: true,
        applied_steps_count: 1,
      })),
    );
    expect(await migrate(databaseUrl, log)).toEqual([]);
  });
});

describe('the migrated schema and schema.prisma', () => {
  const db = testDatabase(inject('databaseUrl'));
  afterAll(() => db.close());
  let jobId: string;
  beforeAll(() => {
    jobId = `schema-${randomUUID()}`;
  });

  it('round-trip every model and every field through the generated Prisma client', async () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const job = {
      jobId,
      userId: 'user-1',
      jobType: 1,
      smileJobId: '0000000001',
      smileJobIds: ['0000000001', '0000000002'],
      state: 'provisional' as const,
      isFinal: false,
      confirmed: true,
      resultCode: '0814',
      resultText: 'Provisional Enroll - Under Review',
      actions: { Liveness_Check: 'Passed' },
      idInfo: new Uint8Array(Buffer.from('sealed bytes')),
      idNumberPreviouslyRegistered: true,
      previousRegistrantUserIds: ['user-0'],
      suspectUsers: [{ userId: 'user-9', reason: 'x' }],
      smileSecureCode: '5211',
      ranks: { idInfo: { final: true, authority: 'callback', at: 1, hash: 'h' } },
      evidence: { claims: {}, statusFetches: [1] },
      identitySource: 'registration',
      identityAt: now,
      identityConflictAt: now,
      untrustedAt: now,
      tracked: false,
      untrustedCheckAt: now,
      needsConfirmation: true,
      eventCount: 2,
      untrustedEventCount: 1,
      version: 3,
      createdAt: now,
      updatedAt: now,
      finalizedAt: now,
      lastEventAt: now,
      registeredAt: now,
      idType: 'NIN',
      country: 'NG',
      nextCheckAt: now,
      lastCheckedAt: now,
      checkCount: 4,
      staleAt: now,
      purgedAt: now,
      decision: 'review' as const,
      decisionReasons: ['previously_registered_by_others'],
      decisionDetails: { previousRegistrantUserIds: ['user-0'] },
      decisionSource: 'policy',
      decisionRule: 'previously_registered_by_others',
      decisionPolicyVersion: 'smile-id-default@0123456789ab',
      decidedAt: now,
      decisionBasis: { state: 'approved', confirmed: true, suspectUserIds: ['user-9'] },
      // Set explicitly (it defaults to the next value of its sequence) so that it round-trips too.
      seq: BigInt(1e12) + BigInt(randomBytes(4).readUInt32BE()),
    };
    await db.prisma.job.create({ data: job });
    expect(await db.prisma.job.findUniqueOrThrow({ where: { jobId } })).toEqual(job);

    const event = {
      id: randomUUID(),
      jobId,
      receivedAt: now,
      sourceIp: '127.0.0.1',
      contentHash: randomBytes(32).toString('hex'),
      facets: ['result', 'id_info'],
      trusted: false,
      untrustedReason: 'signature_replayed',
      pairDigest: 'digest',
      smileJobId: '0000000001',
      bodyBytes: 3,
      body: new Uint8Array(Buffer.from('{ }')),
      bodyObjects: 2,
      bodyWithheld: true,
      identityConflict: true,
      overflow: ['Antifraud.SuspectUsers'],
      userDigest: 'user digest',
      userDigestKeyId: 'k1',
      contradictedAt: now,
    };
    await db.prisma.callbackEvent.create({ data: event });
    const storedEvent = await db.prisma.callbackEvent.findUniqueOrThrow({ where: { id: event.id } });
    expect({ ...storedEvent, body: Buffer.from(storedEvent.body!).toString() }).toEqual({
      ...event,
      body: '{ }',
      purgedAt: null,
    });

    const snapshot = {
      id: randomUUID(),
      jobId,
      fetchedAt: now,
      contentHash: randomBytes(32).toString('hex'),
      facets: ['job_status', 'result'],
      jobComplete: true,
      jobSuccess: false,
      bodyBytes: 2,
      body: new Uint8Array(Buffer.from('{}')),
      bodyObjects: null,
      purgedAt: now,
    };
    await db.prisma.statusSnapshot.create({ data: snapshot });
    const storedSnapshot = await db.prisma.statusSnapshot.findUniqueOrThrow({ where: { id: snapshot.id } });
    expect({ ...storedSnapshot, body: Buffer.from(storedSnapshot.body!).toString() }).toEqual({
      ...snapshot,
      body: '{}',
    });

    const transition = await db.prisma.jobTransition.create({
      data: {
        jobId,
        eventId: event.id,
        snapshotId: snapshot.id,
        fromState: 'pending',
        toState: 'provisional',
        fromFinal: false,
        toFinal: false,
        at: now,
      },
    });
    expect(await db.prisma.jobTransition.findUniqueOrThrow({ where: { id: transition.id } })).toEqual(
      transition,
    );
    expect(typeof transition.id).toBe('bigint');

    const submission = {
      jobId,
      contentDigest: 'digest',
      digestKeyId: 'k1',
      status: 'uploading' as const,
      attempts: 2,
      payload: new Uint8Array(Buffer.from('sealed payload')),
      prepared: new Uint8Array(Buffer.from('sealed prep answer')),
      retryPrep: true,
      smileJobId: '0000000002',
      errorCode: 'timeout',
      errorMessage: 'the upload timed out',
      imageCount: 3,
      imageBytes: 12_345,
      createdAt: now,
      updatedAt: now,
      preparedAt: now,
      submittedAt: now,
      nextAttemptAt: now,
      erasedAt: now,
    };
    await db.prisma.submission.create({ data: submission });
    expect(await db.prisma.submission.findUniqueOrThrow({ where: { jobId } })).toEqual(submission);
  });

  it('round-trips the change feed and webhook delivery models', async () => {
    const jobId = `job-${randomUUID()}`;
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const change = {
      id: BigInt(1e12) + BigInt(randomBytes(4).readUInt32BE()),
      xid: 42n,
      jobId,
      userId: 'user-1',
      fromState: 'pending' as const,
      toState: 'approved' as const,
      fromFinal: false,
      toFinal: true,
      fromConfirmed: false,
      confirmed: true,
      fromDecision: { value: 'pending', rule: 'awaiting_confirmation' },
      outcome: { jobId, state: 'approved' },
      at: now,
    };
    await db.prisma.jobChange.create({ data: change });
    expect(await db.prisma.jobChange.findUniqueOrThrow({ where: { id: change.id } })).toEqual(change);
    const endpoint = {
      id: 1_000_000 + randomBytes(2).readUInt16BE(),
      url: `http://127.0.0.1:9/${randomUUID()}`,
      cursorXid: 41n,
      cursorId: 7n,
      disabledAt: now,
      disabledReason: '410 Gone',
      configuredAt: now,
      createdAt: now,
      failures: 2,
      backoffUntil: now,
    };
    await db.prisma.webhookEndpoint.create({ data: endpoint });
    expect(await db.prisma.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).toEqual(
      endpoint,
    );
    const delivery = {
      id: BigInt(1e12) + BigInt(randomBytes(4).readUInt32BE()),
      endpointId: endpoint.id,
      changeId: change.id,
      jobId,
      event: 'job.finalized',
      messageId: 'msg_1',
      payload: '{}',
      status: 'dead' as const,
      attempts: 3,
      nextAttemptAt: now,
      leasedUntil: now,
      lastError: 'HTTP 500',
      lastStatus: 500,
      createdAt: now,
      deliveredAt: now,
      deadAt: now,
    };
    await db.prisma.webhookDelivery.create({ data: delivery });
    expect(await db.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: delivery.id } })).toEqual(
      delivery,
    );
  });

  it('round-trips the decision policies a worker started with', async () => {
    const now = new Date('2026-12-08T01:02:03.456Z');
    const policy = {
      version: `test@${randomBytes(6).toString('hex')}`,
      name: 'test',
      canonical: { name: 'test', rules: [], fallback: { decision: 'review', reasons: ['no_rule_matched'] } },
      firstStartedAt: now,
      lastStartedAt: now,
    };
    await db.prisma.decisionPolicy.create({ data: policy });
    expect(await db.prisma.decisionPolicy.findUniqueOrThrow({ where: { version: policy.version } })).toEqual(
      policy,
    );
  });

  it('round-trips the maintenance position model', async () => {
    const position = {
      name: `sweep-${randomUUID()}`,
      position: 'callback_events/x/0',
      updatedAt: new Date(),
    };
    await db.prisma.maintenancePosition.create({ data: position });
    expect(await db.prisma.maintenancePosition.findUniqueOrThrow({ where: { name: position.name } })).toEqual(
      position,
    );
  });

  it('builds the indexes of bodies still whole in Postgres, valid, for the backlog to read', async () => {
    const { rows } = await db.pool.query<{ name: string; valid: boolean; definition: string }>(
      `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname IN ('callback_events_inline_body_idx', 'status_snapshots_inline_body_idx')
        ORDER BY c.relname`,
    );
    expect(rows.map((row) => [row.name, row.valid])).toEqual([
      ['callback_events_inline_body_idx', true],
      ['status_snapshots_inline_body_idx', true],
    ]);
    for (const row of rows)
      expect(row.definition).toMatch(/WHERE \(\(body_objects IS NULL\) AND \(body IS NOT NULL\)\)/);
  });

  it('keeps no sealed payload on a submission that is done', async () => {
    const jobId = `job-${randomUUID()}`;
    const now = new Date();
    await db.prisma.job.create({ data: { jobId, createdAt: now, updatedAt: now } });
    const done = db.prisma.submission.create({
      data: {
        jobId,
        contentDigest: 'digest',
        digestKeyId: 'k1',
        status: 'uploaded',
        payload: new Uint8Array([1]),
        imageCount: 1,
        imageBytes: 1,
        createdAt: now,
        updatedAt: now,
      },
    });
    await expect(done).rejects.toThrow(/submissions_payload_until_done/);
  });

  it('has exactly the columns that schema.prisma declares for each table', async () => {
    const { rows } = await db.pool.query<{ table_name: string; count: number }>(
      `SELECT table_name, count(*)::int AS count FROM information_schema.columns
        WHERE table_schema = 'public'
          AND table_name IN ('jobs', 'callback_events', 'job_transitions', 'status_snapshots', 'submissions',
                             'job_changes', 'webhook_endpoints', 'webhook_deliveries', 'decision_policies',
                             'maintenance_positions')
        GROUP BY table_name ORDER BY table_name`,
    );
    const { Prisma } = await import('../../src/generated/prisma/client.js');
    const declared = (fields: object) => Object.keys(fields).length;
    expect(Object.fromEntries(rows.map((row) => [row.table_name, row.count]))).toEqual({
      callback_events: declared(Prisma.CallbackEventScalarFieldEnum),
      job_transitions: declared(Prisma.JobTransitionScalarFieldEnum),
      jobs: declared(Prisma.JobScalarFieldEnum),
      status_snapshots: declared(Prisma.StatusSnapshotScalarFieldEnum),
      submissions: declared(Prisma.SubmissionScalarFieldEnum),
      job_changes: declared(Prisma.JobChangeScalarFieldEnum),
      webhook_endpoints: declared(Prisma.WebhookEndpointScalarFieldEnum),
      webhook_deliveries: declared(Prisma.WebhookDeliveryScalarFieldEnum),
      decision_policies: declared(Prisma.DecisionPolicyScalarFieldEnum),
      maintenance_positions: declared(Prisma.MaintenancePositionScalarFieldEnum),
    });
  });
});
