import { parseArgs } from 'node:util';
import { loadEntryPointConfig } from '../config.js';
import { type SimulatedJob, signCallback, simulatedJob } from '../simulator/callbacks.js';
import { JOB_LIVES, type JobLife, LIFE_DECISIONS, lifeCallbacks } from '../simulator/job-lives.js';
import {
  describeDecision,
  type FollowedJob,
  followJob,
  readJob,
  type ServiceApi,
} from './simulate-follow.js';
import { submitJob } from './simulate-submit.js';

function isJobLife(name: string): name is JobLife {
  return (JOB_LIVES as readonly string[]).includes(name);
}

/**
 * `npm run simulate`: plays Smile ID for one Biometric KYC job against a running service. It POSTs the
 * job's callbacks (signed with the configured key, the ID callback carrying a ~1.4 MB photo) in a
 * shuffled order, one of them twice, then reads the merged outcome back from the API.
 *
 * With `--simulator URL` (a running `npm run simulator`, which the service polls as Smile ID), the job
 * is registered there instead and the simulator delivers its callbacks; then the outcome is followed
 * until reconciliation has confirmed its final result against the simulator's job_status. Either way the
 * command ends with the job's decision, beside the one the default policy gives the scenario.
 *
 * With `--submit`, the job goes in the front door instead: `POST /v1/submissions` with the bundled
 * JPEGs (src/cli/samples/), which the service uploads to its Smile ID (in development, the simulator in
 * its own process); then the outcome is followed until it is final and confirmed.
 */
const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string' },
    'job-id': { type: 'string' },
    simulator: { type: 'string' },
    submit: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const SCENARIOS: Readonly<Record<string, string>> = {
  review: 'a provisional result, then the final approval after "human review" (default)',
  approved: 'a final approval straight away',
  rejected: 'a final rejection (failed liveness)',
  pure_provisional:
    'Pure Provisional (image comparison provisionally approved, ID not verified), then review',
  pending_approval: 'Pending Approval: provisional, and final (a strict setting)',
  failed: 'general failure: the ID authority could not be queried',
  id_not_found: 'rejected: the ID number is not found at the authority',
  suspects: 'approved, with Smile Secure suspects',
};

/** Without --scenario; with --submit, none is sent and the simulated upload plays its own default. */
const DEFAULT_SCENARIO = 'review';

function scenarioOf(name: string | undefined): JobLife | undefined {
  if (name === undefined || (name in SCENARIOS && isJobLife(name))) return name;
  console.error(`unknown scenario ${name}; see --help`);
  process.exit(2);
}

/** How long a followed job may take to become confirmed (final and confirmed with --submit). */
const FOLLOW_TIMEOUT_MS = 60_000;

if (options.help) {
  console.log(`usage: npm run simulate -- [--url http://127.0.0.1:3000] [--scenario NAME] [--job-id ID]
                            [--simulator http://127.0.0.1:3900 | --submit]
  (neither)    post the job's callbacks to the service, signed with the first SMILE_API_KEYS key
  --simulator  register the job with a running \`npm run simulator\`, which delivers its callbacks;
               then follow the job until the service has confirmed its final result with job_status
  --submit     submit the job with the bundled JPEGs (a selfie, two liveness images, an ID card front)
               through POST /v1/submissions, as a client would; the service uploads it to its Smile ID
               (in development, the simulator inside \`npm start\`). Then follow the job until it is
               final and confirmed; exits 1 if that takes more than ${FOLLOW_TIMEOUT_MS / 1000} s
scenarios (--scenario; default review, or approved with --submit), and the decision the default
policy gives each once it has ended and job_status has confirmed it:
${Object.entries(SCENARIOS)
  .map(([name, what]) => `  ${name.padEnd(17)} ${what} → ${LIFE_DECISIONS[name as JobLife].value}`)
  .join('\n')}`);
  process.exit(0);
}

const config = loadEntryPointConfig();
const baseUrl = (options.url ?? `http://127.0.0.1:${config.PORT}`).replace(/\/+$/, '');
const api: ServiceApi = { baseUrl, token: config.INTERNAL_API_TOKENS[0]! };
const job = simulatedJob(options['job-id'] ? { jobId: options['job-id'] } : {});
const scenario = scenarioOf(options.scenario);
if (options.submit && options.simulator) {
  console.error(
    '--submit and --simulator cannot be combined: with --submit, the service calls its own Smile ID',
  );
  process.exit(2);
}

/** The scenario's callbacks as the simulator's job life sends them: those sent at once, then after review. */
function callbacksFor(life: JobLife, simulated: SimulatedJob) {
  const sent = lifeCallbacks(life, simulated, { photoBytes: 1_400_000, reviewDelayMs: 1 });
  return {
    first: sent.filter((callback) => callback.atMs === 0),
    afterReview: sent.filter((callback) => callback.atMs > 0),
  };
}

async function post(label: string, body: string) {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/callbacks/smile-id`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const answer = await response.text();
  const size = `${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB`;
  console.log(
    `  ${response.status} ${answer}  ← ${label}, ${size}, ${(performance.now() - started).toFixed(0)} ms`,
  );
}

const sign = (body: Record<string, unknown>) =>
  JSON.stringify(
    signCallback(body, { apiKey: config.SMILE_API_KEYS[0]!, partnerId: config.SMILE_PARTNER_ID }),
  );

/** Lets the simulator play Smile ID: it delivers the callbacks, and answers the service's job_status. */
async function throughSimulator(simulatorUrl: string, life: JobLife) {
  const control = async (path: string, body: unknown) => {
    const response = await fetch(`${simulatorUrl.replace(/\/+$/, '')}/__sim${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`simulator answered ${response.status} to ${path}`);
    return response.json() as Promise<{
      deliveries?: { label: string; status: number | null; response: string }[];
    }>;
  };
  await control('/jobs', {
    jobId: job.jobId,
    userId: job.userId,
    life,
    reviewDelayMs: 5000,
    photoBytes: 1_400_000,
  });
  const report = await control(`/jobs/${encodeURIComponent(job.jobId)}/deliver`, {
    callbackUrl: `${baseUrl}/callbacks/smile-id`,
    order: 'shuffled',
    duplicate: 1,
  });
  for (const delivery of report.deliveries ?? []) {
    console.log(`  ${delivery.status} ${delivery.response}  ← ${delivery.label}`);
  }
  console.log('  … waiting for reconciliation to confirm the job’s final result with job_status …');
  return followJob(api, job.jobId, {
    done: (outcome) => Boolean(outcome.isFinal && outcome.confirmed),
    timeoutMs: FOLLOW_TIMEOUT_MS,
  });
}

/** Submits the job as a client would; the service's Smile ID plays it. Undefined when it was refused. */
async function throughSubmission(life: JobLife | undefined) {
  if (!(await submitJob(api, job, life))) return undefined;
  console.log('  … following the job until job_status has confirmed its final result …');
  return followJob(api, job.jobId, {
    done: (outcome) => Boolean(outcome.isFinal && outcome.confirmed),
    timeoutMs: FOLLOW_TIMEOUT_MS,
  });
}

/** Why a followed job did not get where it was followed to. */
function missed(last: FollowedJob | undefined): string {
  const failed = last?.submission?.status === 'failed' ? last.submission.error : null;
  if (failed) return `the submission failed: ${failed.code}: ${failed.message}`;
  const goal = 'final and confirmed';
  return `the job was not ${goal} within ${FOLLOW_TIMEOUT_MS / 1000} s; is the service's Smile ID answering?`;
}

const what = options.submit ? 'Submitting' : 'Simulating Smile ID';
console.log(`${what} job ${job.jobId} (user ${job.userId}) against ${baseUrl}`);
try {
  const followed = options.submit
    ? await throughSubmission(scenario)
    : options.simulator
      ? await throughSimulator(options.simulator, scenario ?? DEFAULT_SCENARIO)
      : await playCallbacks(scenario ?? DEFAULT_SCENARIO);
  if (followed === undefined) {
    process.exitCode = 1;
  } else {
    const outcome = await readJob(api, job.jobId);
    const shown = (await outcome.json()) as FollowedJob;
    const played = options.submit ? (scenario ?? 'approved') : (scenario ?? DEFAULT_SCENARIO);
    console.log(`\n${describeDecision(shown, { scenario: played, ...LIFE_DECISIONS[played] })}`);
    console.log(`\nGET /v1/jobs/${job.jobId} → ${outcome.status}`);
    console.log(JSON.stringify(shown, null, 2));
    if (!followed.reached) {
      console.error(`\n${missed(followed.job)}`);
      process.exitCode = 1;
    }
  }
} catch (error) {
  console.error(
    `Could not reach the service at ${baseUrl}: ${(error as Error).message}. Is \`npm start\` running?`,
  );
  process.exitCode = 1;
}

/** Posts the scenario's callbacks straight to the service: shuffled, one twice, the final one after review. */
async function playCallbacks(life: JobLife) {
  const { first, afterReview } = callbacksFor(life, job);
  const planned = first
    .map(({ label, body }) => ({ label, body: sign(body), order: Math.random() }))
    .sort((a, b) => a.order - b.order);
  for (const { label, body } of planned) await post(label, body);
  const again = planned[0];
  if (again) await post(`${again.label} (delivered again)`, again.body);
  if (afterReview.length > 0) console.log('  … human review completes …');
  for (const { label, body } of afterReview) await post(label, sign(body));
  return { reached: true, job: undefined };
}
