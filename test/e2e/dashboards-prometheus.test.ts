import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { idInfoCallback, resultCallback, signCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { TEST_PARTNER_ID } from '../helpers/app.js';
import { signed } from '../helpers/callbacks.js';
import { expandPromql, PROMETHEUS_DIRECTORY, promQueries } from '../helpers/dashboards.js';
import { createScratchDatabase } from '../helpers/database.js';
import { freePort } from '../helpers/processes.js';
import {
  eventually,
  startService,
  startSimulator,
  type TestService,
  type TestSimulator,
} from '../helpers/service.js';
import { submissionRequest } from '../helpers/submissions.js';

/**
 * A real Prometheus (Debian's package) scrapes the whole service, run in-process against the Smile ID
 * simulator, every second; then every PromQL expression of the dashboards and of prometheus/alerts.yml
 * is asked of it through its HTTP API. A typo in a metric or label name, a label the service does not
 * export, or a rule Prometheus cannot evaluate fails here.
 */

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const hasPrometheus = existsSync(PROMETHEUS);
const hasPromtool = existsSync(PROMTOOL);
if (!hasPrometheus || !hasPromtool) {
  console.warn(
    'dashboards-prometheus: skipped, no Prometheus here (apt-get install -y prometheus); .ci/run installs it',
  );
}
const run = promisify(execFile);

interface AlertRule {
  alert: string;
  expr: string;
}
interface PromAnswer {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function loadRules(): Promise<AlertRule[]> {
  const file = parse(await readFile(path.join(PROMETHEUS_DIRECTORY, 'alerts.yml'), 'utf8')) as {
    groups: { rules: AlertRule[] }[];
  };
  return file.groups.flatMap((group) => group.rules);
}
const rules = await loadRules();

/** Alerts that the scenario below must set off: the rest only have to evaluate without error. */
const FIRING_IN_SCENARIO = [
  'SmileIdWorkerDown',
  'SmileIdInstanceDown',
  'SmileIdCallbackSignatureFailures',
  'SmileIdApiUnauthorized',
  'SmileIdJobStatusSignatureFailures',
  'SmileIdWebhookDeadLetters',
  'SmileIdWebhookEndpointDisabled',
];

/** How each of the scenario's webhook endpoints answers every delivery, by its path. */
const WEBHOOK_ANSWERS: Record<string, number> = { '/ok': 204, '/gone': 410, '/failing': 503 };

/** Internal services receiving the webhooks: one local server, an endpoint per path of WEBHOOK_ANSWERS. */
async function startWebhookReceiver(): Promise<{ urls: string[]; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(WEBHOOK_ANSWERS[request.url ?? ''] ?? 404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    urls: Object.keys(WEBHOOK_ANSWERS).map((route) => `http://127.0.0.1:${port}${route}`),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * prometheus/prometheus.yml as the test runs it: scraped every second, rules from the real alerts.yml,
 * and each job's compose DNS discovery replaced by the local address standing in for it.
 */
async function testConfig(targets: Record<string, string>): Promise<string> {
  const config = parse(await readFile(path.join(PROMETHEUS_DIRECTORY, 'prometheus.yml'), 'utf8'));
  config.global = {
    ...config.global,
    scrape_interval: '1s',
    scrape_timeout: '1s',
    evaluation_interval: '1s',
  };
  config.rule_files = (config.rule_files as string[]).map((file) => path.join(PROMETHEUS_DIRECTORY, file));
  for (const job of config.scrape_configs as Record<string, unknown>[]) {
    const target = targets[job.job_name as string];
    if (!target) throw new Error(`no local stand-in for scrape job ${String(job.job_name)}`);
    delete job.dns_sd_configs;
    job.static_configs = [{ targets: [target] }];
  }
  return stringify(config);
}

describe.skipIf(!hasPrometheus)(
  'the dashboards and alert rules against a real Prometheus scraping the service',
  () => {
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
    let sim: TestSimulator;
    let service: TestService;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let admin: pg.Client;
    let prometheus: ChildProcess | undefined;
    let prometheusLog = '';
    let prometheusUrl = '';
    let directory = '';

    const query = async (expr: string): Promise<PromAnswer> => {
      const response = await fetch(`${prometheusUrl}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }),
      });
      return (await response.json()) as PromAnswer;
    };
    /** Waits until Prometheus has scraped a sample for which `expr` holds. */
    const scraped = async (expr: string, timeoutMs = 20_000) => {
      const found = await eventually(
        async () => (await query(expr).catch(() => undefined))?.data?.result.length ?? 0,
        timeoutMs,
        250,
      );
      if (!found) throw new Error(`Prometheus never saw ${expr}; its log:\n${prometheusLog.slice(-2000)}`);
    };

    const postCallback = (body: Record<string, unknown> | string) =>
      fetch(`${service.baseUrl}/callbacks/smile-id`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const forged = () =>
      postCallback(
        signCallback(resultCallback(simulatedJob()), { apiKey: 'not-our-key', partnerId: TEST_PARTNER_ID }),
      );
    const untrusted = () =>
      postCallback(
        signed(resultCallback(simulatedJob(), 'approved'), new Date(Date.now() - 86_400_000).toISOString()),
      );
    /** A job the simulator plays and the service expects (POST /v1/jobs), checked at once. */
    const registered = async (life: string, extra: Record<string, unknown> = {}) => {
      const job = simulatedJob();
      await sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life, ...extra });
      const answer = await service.api('POST', '/v1/jobs', {
        jobId: job.jobId,
        userId: job.userId,
        jobType: 1,
      });
      expect(answer.status).toBe(201);
      await service.api('POST', `/v1/jobs/${job.jobId}/reconcile`);
      return job;
    };
    /** A job whose callbacks the simulator delivers to the service, as Smile ID would. */
    const delivered = async (life: string, extra: Record<string, unknown> = {}) => {
      const job = simulatedJob();
      await sim.control('/jobs', { jobId: job.jobId, userId: job.userId, life, reviewDelayMs: 1000 });
      await sim.control(`/jobs/${job.jobId}/deliver`, {
        callbackUrl: `${service.baseUrl}/callbacks/smile-id`,
        ...extra,
      });
      return job;
    };
    const checked = (jobId: string) =>
      eventually(async () => {
        const { rows } = await admin.query('SELECT check_count, confirmed FROM jobs WHERE job_id = $1', [
          jobId,
        ]);
        return rows[0]?.check_count > 0;
      });
    /** Answers 503: the callback's write waits on a lock longer than DATABASE_TIMEOUT_MS. */
    const storageFailure = async () => {
      const blocker = new pg.Client({ connectionString: scratch.url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE callback_events IN ACCESS EXCLUSIVE MODE');
        const response = await postCallback(signed(resultCallback(simulatedJob(), 'approved')));
        expect(response.status).toBe(503);
        await blocker.query('ROLLBACK');
      } finally {
        await blocker.end();
      }
    };

    beforeAll(async () => {
      scratch = await createScratchDatabase();
      admin = new pg.Client({ connectionString: scratch.url });
      await admin.connect();
      sim = await startSimulator();
      // Every change of the scenario goes to three internal endpoints: one accepts it, one answers 410
      // (and is disabled), one keeps failing (retried every few 100 ms at first).
      receiver = await startWebhookReceiver();
      service = await startService(sim.url, {
        DATABASE_URL: scratch.url,
        DATABASE_TIMEOUT_MS: '1000',
        NOTIFY_WEBHOOK_URLS: receiver.urls.join(','),
        NOTIFY_WEBHOOK_SECRETS: receiver.urls
          .map(() => `whsec_${randomBytes(24).toString('base64')}`)
          .join(','),
        NOTIFY_RETRY_DELAY_MS: '100',
        NOTIFY_TIMEOUT_MS: '1000',
      });
      // An endpoint receives the changes after its first sweep: wait for it before making any.
      await eventually(async () => {
        const { body } = await service.admin('GET', '/v1/notifications/endpoints');
        return (body as unknown as { items?: unknown[] }).items?.length === receiver.urls.length;
      });

      directory = await mkdtemp(path.join(tmpdir(), 'smileid-prometheus-'));
      const port = await freePort();
      // Nothing listens on the worker's stand-in: the service-down alerts must see it.
      const deadWorker = `127.0.0.1:${await freePort()}`;
      const configFile = path.join(directory, 'prometheus.yml');
      await writeFile(
        configFile,
        await testConfig({
          'smileid-api': new URL(service.baseUrl).host,
          'smileid-worker': deadWorker,
          prometheus: `127.0.0.1:${port}`,
        }),
      );
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${path.join(directory, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prometheus.stdout?.on('data', (chunk) => {
        prometheusLog += String(chunk);
      });
      prometheus.stderr?.on('data', (chunk) => {
        prometheusLog += String(chunk);
      });
      prometheusUrl = `http://127.0.0.1:${port}`;
      await scraped('up{job="smileid-api"} == 1');

      // First occurrences: a labelled counter is born at its first increment, and increase() only counts
      // growth Prometheus saw, so each alerting counter must be scraped once before it grows.
      expect((await forged()).status).toBe(401);
      expect((await postCallback('{"not json')).status).toBe(400);
      await untrusted();
      await storageFailure();
      const unauthorized = await registered('approved', { faults: { authError: true } });
      const badlySigned = await registered('approved', { faults: { badSignature: true } });
      await Promise.all([checked(unauthorized.jobId), checked(badlySigned.jobId)]);
      await scraped('smileid_signature_failures_total{source="callback"}');
      await scraped('smileid_signature_failures_total{source="job_status"}');
      await scraped('smileid_api_errors_total{code="2205"}');
      await scraped('smileid_callback_rejections_total');
      await scraped('smileid_http_request_duration_seconds_count{status_code="503"}');

      // The scenario: every kind of callback, every life of a job, and the failures the alerts watch.
      await delivered('review', { duplicate: 1 });
      await delivered('rejected');
      await delivered('suspects', { order: 'shuffled', duplicate: 1 });
      await delivered('id_not_found');
      const previously = simulatedJob();
      await postCallback(signed(idInfoCallback(previously, { previousRegistrants: ['user-earlier'] })));
      await postCallback(signed(resultCallback(previously, 'approved')));
      for (let i = 0; i < 6; i += 1) expect((await forged()).status).toBe(401);
      await postCallback('[]');
      await untrusted();
      await storageFailure();

      // A submission the simulator takes through prep upload and upload: the submission panels' calls,
      // upload and duration have something to show.
      expect((await service.api('POST', '/v1/submissions', submissionRequest())).status).toBe(202);

      const polled = await registered('approved');
      const flaky = await registered('approved', { faults: { failNext: 2 } });
      const unauthorizedAgain = await registered('approved', { faults: { authError: true } });
      const badlySignedAgain = await registered('approved', { faults: { badSignature: true } });
      const abandoned = await registered('never_started');
      await Promise.all([
        checked(unauthorizedAgain.jobId),
        checked(badlySignedAgain.jobId),
        checked(abandoned.jobId),
        eventually(async () => (await service.api('GET', `/v1/jobs/${polled.jobId}`)).body.confirmed),
        eventually(async () => (await service.api('GET', `/v1/jobs/${flaky.jobId}`)).body.confirmed),
      ]);
      // A job past the polling horizon (168 h) is marked stale; here it is marked directly.
      await admin.query('UPDATE jobs SET stale_at = now(), next_check_at = NULL WHERE job_id = $1', [
        abandoned.jobId,
      ]);

      await scraped('smileid_api_errors_total{code="2205"} >= 2');
      await scraped('smileid_signature_failures_total{source="job_status"} >= 2');
      await scraped('sum(smileid_signature_failures_total{source="callback"}) >= 7');
      await scraped('smileid_api_errors_total{code="2201"}'); // Smile ID's "system error" on 5xx
      await scraped('max(smileid_jobs_flagged{flag="stale"}) >= 1');
      await scraped('max(smileid_jobs_flagged{flag="fraud_suspects"}) >= 1');
      await scraped('max(smileid_jobs_flagged{flag="previously_registered_id"}) >= 1');
      await scraped('smileid_submission_calls_total{call="upload", result="ok"} >= 1');
      await scraped('smileid_submissions_total{event="uploaded"} >= 1');
      await scraped('max(smileid_submissions{status="uploaded"}) >= 1');

      // Webhooks: delivered, refused with 410, and retried; then the failing endpoint's deliveries pass
      // their retry window (NOTIFY_RETRY_HOURS) and become dead letters at their next attempt, made due now.
      await scraped('smileid_webhook_deliveries_total{result="delivered"} >= 1');
      await scraped('smileid_webhook_deliveries_total{result="gone"} >= 1');
      await scraped('smileid_webhook_deliveries_total{result="retry"} >= 1');
      await admin.query(
        `UPDATE webhook_deliveries d
            SET created_at = now() - interval '25 hours', next_attempt_at = now()
           FROM webhook_endpoints e
          WHERE e.id = d.endpoint_id AND e.url = $1 AND d.status = 'pending'`,
        [receiver.urls[2]],
      );
      await scraped('smileid_webhook_deliveries_total{result="dead"} >= 1');
      await scraped('max(smileid_webhook_dead_letters) >= 1');
      await scraped('max(smileid_webhook_endpoints_disabled) >= 1');
      await scraped('max(smileid_webhook_backlog) >= 1');
      // A few more scrapes, so every rate window holds samples from after the scenario.
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }, 180_000);

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = once(prometheus, 'exit');
        prometheus.kill('SIGTERM');
        await exited;
      }
      await service?.close();
      await receiver?.close();
      await sim?.close();
      await admin?.end();
      await scratch?.drop();
      if (directory) await rm(directory, { recursive: true, force: true });
    });

    const panels = promQueries();

    it('finds PromQL panels on all three dashboards', () => {
      expect(panels.length).toBeGreaterThan(30);
      expect(new Set(panels.map((panel) => panel.dashboard)).size).toBe(3);
    });

    it('shows every metric family the service exports on some dashboard', async () => {
      const exposition = await (await fetch(`${service.baseUrl}/metrics`)).text();
      const families = [...exposition.matchAll(/^# TYPE (smileid_\w+) \w+$/gm)]
        .map((match) => match[1]!)
        .filter((family) => !family.startsWith('smileid_process_'));
      expect(families.length).toBeGreaterThanOrEqual(14);
      const everyQuery = panels.map((panel) => panel.query).join('\n');
      expect(
        families.filter((family) => !new RegExp(`\\b${family}(_bucket|_sum|_count)?\\b`).test(everyQuery)),
      ).toEqual([]);
    });

    it.each(panels.map((panel) => [`${panel.dashboard} / ${panel.panel} (${panel.refId})`, panel] as const))(
      'the panel query "%s" returns data',
      async (_name, panel) => {
        const expr = expandPromql(panel.query);
        const answer = await eventually(async () => {
          const current = await query(expr);
          return current.status !== 'success' || current.data.result.length > 0 ? current : undefined;
        }, 5000);
        expect(answer, expr).toBeDefined();
        expect(answer?.error, expr).toBeUndefined();
        expect(answer?.status).toBe('success');
        expect(answer?.data.result.length, expr).toBeGreaterThan(0);
      },
    );

    it.each(rules.map((rule) => [rule.alert, rule] as const))(
      'the alert rule %s evaluates without error',
      async (name, rule) => {
        const answer = await query(rule.expr);
        expect(answer.error, rule.expr).toBeUndefined();
        expect(answer.status).toBe('success');
        if (FIRING_IN_SCENARIO.includes(name))
          expect(answer.data.result.length, rule.expr).toBeGreaterThan(0);
      },
    );

    it('Prometheus loads every rule of alerts.yml and evaluates each one healthily', async () => {
      const evaluated = await eventually(async () => {
        const response = await fetch(`${prometheusUrl}/api/v1/rules?type=alert`);
        const body = (await response.json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
        };
        const loaded = body.data.groups.flatMap((group) => group.rules);
        return loaded.every((rule) => rule.health !== 'unknown') ? loaded : undefined;
      }, 10_000);
      expect(evaluated?.map((rule) => rule.name).sort()).toEqual(rules.map((rule) => rule.alert).sort());
      for (const rule of evaluated ?? []) expect(rule, rule.name).toMatchObject({ health: 'ok' });
    });

    it('Prometheus raises the instance-down alert for the worker target that does not answer', async () => {
      const response = await fetch(`${prometheusUrl}/api/v1/alerts`);
      const body = (await response.json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      const down = body.data.alerts.filter((alert) => alert.labels.alertname === 'SmileIdInstanceDown');
      expect(down.map((alert) => alert.labels.job)).toEqual(['smileid-worker']);
      expect(['pending', 'firing']).toContain(down[0]?.state);
    });
  },
);

describe.skipIf(!hasPromtool)('promtool', () => {
  it('accepts the alert rules', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', path.join(PROMETHEUS_DIRECTORY, 'alerts.yml')]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes the unit tests of alerts.yml, in which every alert fires in its failure mode', async () => {
    const file = path.join(PROMETHEUS_DIRECTORY, 'alerts.test.yml');
    const { stdout } = await run(PROMTOOL, ['test', 'rules', file]);
    expect(stdout).toMatch(/SUCCESS/);
    const unitTests = parse(await readFile(file, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      unitTests.tests
        .flatMap((test) => test.alert_rule_test)
        .filter((check) => check.exp_alerts.length > 0)
        .map((check) => check.alertname),
    );
    expect(rules.map((rule) => rule.alert).filter((name) => !fired.has(name))).toEqual([]);
  });

  it('accepts the Prometheus configuration, rule files included', async () => {
    const { stdout } = await run(PROMTOOL, [
      'check',
      'config',
      path.join(PROMETHEUS_DIRECTORY, 'prometheus.yml'),
    ]);
    expect(stdout).toMatch(/is valid prometheus config file syntax/);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });
});
