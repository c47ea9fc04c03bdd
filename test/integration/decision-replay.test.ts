import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../src/decide/policy-file.js';
import { createDecisionReplay } from '../../src/decide/replay.js';
import { DEFAULT_POLL_MODEL } from '../../src/domain/poll-schedule.js';
import { becameDecided } from '../../src/notify/messages.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createStatusCheck } from '../../src/reconcile/check-status.js';
import { type SimulatedJob, simulatedJob } from '../../src/simulator/callbacks.js';
import { type JobLife, jobStatusAt } from '../../src/simulator/job-lives.js';
import { createStatusStore } from '../../src/store/evidence/status-store.js';
import { createChangeFeed, FEED_START } from '../../src/store/feed/change-feed.js';
import { createDecisionReplayStore } from '../../src/store/jobs/decision-replay.js';
import { API_TOKEN, createTestApp, type TestApp } from '../helpers/app.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { DEFAULT_POLICY, silentLogger, unreachableSmileId } from '../helpers/status.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const STRICT_FILE = 'policies/examples/strict.yaml';

/** `npm run policy:check -- FILE` as its own process, against the given database. */
async function policyCheck(file: string, databaseUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/policy-check.ts', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * A new policy version replayed over the stored jobs in the background, and `policy:check` before it: on
 * a database of the test's own, since both read every job.
 */
describe('replaying a new policy over stored jobs', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;
  const jobs: Record<string, SimulatedJob> = {};
  const strict = loadPolicyFile(path.join(ROOT, STRICT_FILE));

  const decisionOf = async (job: SimulatedJob) =>
    (
      await t.app.inject({
        method: 'GET',
        url: `/v1/jobs/${job.jobId}`,
        headers: { authorization: `Bearer ${API_TOKEN}` },
      })
    ).json().decision;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    t = await createTestApp({ env: { DATABASE_URL: scratch.url } });
    const check = createStatusCheck({
      store: createStatusStore({ pool: t.db.pool, cipher: t.cipher, vault: t.storage.vault }),
      client: unreachableSmileId,
      log: silentLogger,
      pollModel: DEFAULT_POLL_MODEL,
      policy: DEFAULT_POLICY,
    });
    const seed = async (name: string, life: JobLife | null, country?: string) => {
      const job = simulatedJob();
      jobs[name] = job;
      const registered = await t.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { authorization: `Bearer ${API_TOKEN}` },
        payload: { jobId: job.jobId, userId: job.userId, jobType: 1, ...(country ? { country } : {}) },
      });
      expect(registered.statusCode).toBe(201);
      if (life === null) return;
      const body = { ...jobStatusAt(life, job, 10_000_000), timestamp: 'ts', signature: 'sig' };
      const raw = Buffer.from(JSON.stringify(body));
      await check.apply(
        job.jobId,
        { kind: 'status', body, raw, timestamp: 'ts', signature: 'sig' },
        new Date(),
      );
    };
    await seed('servedCountry', 'approved', 'NG');
    await seed('noCountry', 'approved');
    await seed('rejected', 'rejected', 'NG');
    await seed('silent', null, 'NG');
    await seed('byPerson', 'approved');
    await seed('beforeDecisions', 'approved', 'NG');
    await t.db.pool.query(
      `UPDATE jobs SET decision_source = 'operator', decision = 'reject', decision_rule = 'approved' WHERE job_id = $1`,
      [jobs.byPerson!.jobId],
    );
    // As the migration left the jobs that existed before decisions: no policy has decided them.
    await t.db.pool.query(
      `UPDATE jobs SET decision = 'pending', decision_reasons = '{no_result}', decision_rule = 'no_result',
                       decision_details = '{}', decision_policy_version = NULL WHERE job_id = $1`,
      [jobs.beforeDecisions!.jobId],
    );
  });
  afterAll(async () => {
    await t?.close();
    await scratch?.drop();
  });

  it('policy:check shows what the stricter policy would change, by rule, and writes nothing', async () => {
    const { code, stdout, stderr } = await policyCheck(STRICT_FILE, scratch.url);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`${STRICT_FILE}: valid, ${strict.version} (9 rules and a fallback)`);
    expect(stdout).toContain('Replayed over 6 stored jobs (outcomes only)');
    expect(stdout).toContain('  2 would keep their decision\n  3 would change\n  1 decided by a person');
    expect(stdout).toMatch(/ {2}approve → approve +1 {3}by rule: clear_exact_match 1\n/);
    expect(stdout).toMatch(/ {2}approve → review +1 {3}by rule: fallback 1\n/);
    expect(stdout).toMatch(/ {2}pending → approve +1 {3}by rule: clear_exact_match 1\n/);
    expect(stdout).toMatch(/ {2}clear_exact_match +2 +2\n/);
    expect(await decisionOf(jobs.noCountry!)).toMatchObject({
      value: 'approve',
      policyVersion: DEFAULT_POLICY.version,
    });
  });

  it('policy:check refuses an invalid file with exit code 1, naming each problem', async () => {
    const { code, stdout, stderr } = await policyCheck('package.json', scratch.url);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Invalid decision policy package\.json:\n {2}- /);
    expect(stderr).toMatch(/- rules: /);
  });

  it('decides every job the policy owns again under the new version, feeding each change and leaving a person’s decision', async () => {
    const store = createDecisionReplayStore({ pool: t.db.pool });
    const startedAt = new Date();
    const metrics = createMetrics({ defaultMetrics: false });
    const replay = createDecisionReplay({ store, policy: strict, startedAt, batchSize: 2, metrics });
    const before = await decisionOf(jobs.rejected!);
    const { rows: last } = await t.db.pool.query<{ id: string }>(
      'SELECT max(id)::text AS id FROM job_changes',
    );
    expect(await replay.run(silentLogger)).toEqual({ current: true, examined: 5, changed: 3, written: 5 });

    expect(await decisionOf(jobs.servedCountry!)).toMatchObject({
      value: 'approve',
      rule: 'clear_exact_match',
      policyVersion: strict.version,
    });
    expect(await decisionOf(jobs.noCountry!)).toMatchObject({ value: 'review', rule: 'fallback' });
    expect(await decisionOf(jobs.beforeDecisions!)).toMatchObject({
      value: 'approve',
      policyVersion: strict.version,
    });
    // Decided alike: the new version, the same moment of decision, no change fed.
    expect(await decisionOf(jobs.rejected!)).toEqual({ ...before, policyVersion: strict.version });
    expect(await decisionOf(jobs.byPerson!)).toMatchObject({ source: 'operator', value: 'reject' });

    const changes = (await createChangeFeed({ pool: t.db.pool }).read(FEED_START, 1000)).filter(
      (change) => BigInt(change.position.id) > BigInt(last[0]!.id),
    );
    const names = Object.fromEntries(Object.entries(jobs).map(([name, job]) => [job.jobId, name]));
    expect(changes.map((change) => names[change.jobId]).sort()).toEqual([
      'beforeDecisions',
      'noCountry',
      'servedCountry',
    ]);
    expect(changes.every(becameDecided)).toBe(true);
    // Each change fed is counted as the decision it is, as every writer counts its own.
    const counted = (await metrics.decisions.get()).values.filter((sample) => sample.value > 0);
    expect(counted.map(({ labels, value }) => [labels.decision, value]).sort()).toEqual([
      ['approve', 2],
      ['review', 1],
    ]);

    expect(await replay.run(silentLogger)).toEqual({ current: true, examined: 0, changed: 0, written: 0 });
  });

  it('leaves the replay to the version a process started with last', async () => {
    const store = createDecisionReplayStore({ pool: t.db.pool });
    const older = createDecisionReplay({
      store,
      policy: DEFAULT_POLICY,
      startedAt: new Date(Date.now() - 60_000),
    });
    expect(await older.run(silentLogger)).toMatchObject({ current: false, examined: 0 });
    expect(await decisionOf(jobs.noCountry!)).toMatchObject({ policyVersion: strict.version });
    // Rolled back: the default policy, started again now, is the latest, and decides again.
    const rolledBack = createDecisionReplay({ store, policy: DEFAULT_POLICY, startedAt: new Date() });
    expect(await rolledBack.run(silentLogger)).toMatchObject({ current: true, examined: 5 });
    expect(await decisionOf(jobs.noCountry!)).toMatchObject({
      value: 'approve',
      policyVersion: DEFAULT_POLICY.version,
    });
  });
});
