import { parseArgs } from 'node:util';
import { loadEntryPointConfig } from '../config.js';
import { type SimulatedJob, signCallback, simulatedJob } from '../simulator/callbacks.js';
import { JOB_LIVES, type JobLife, lifeCallbacks } from '../simulator/job-lives.js';

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
 * until reconciliation has confirmed it against the simulator's job_status.
 */
const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string', default: 'review' },
    'job-id': { type: 'string' },
    simulator: { type: 'string' },
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

if (options.help) {
  console.log(`usage: npm run simulate -- [--url http://127.0.0.1:3000] [--scenario NAME] [--job-id ID]
                            [--simulator http://127.0.0.1:3900]
${Object.entries(SCENARIOS)
  .map(([name, what]) => `  ${name.padEnd(17)} ${what}`)
  .join('\n')}`);
  process.exit(0);
}

const config = loadEntryPointConfig();
const baseUrl = (options.url ?? `http://127.0.0.1:${config.PORT}`).replace(/\/+$/, '');
const job = simulatedJob(options['job-id'] ? { jobId: options['job-id'] } : {});
const scenario = options.scenario ?? 'review';
if (!(scenario in SCENARIOS) || !isJobLife(scenario)) {
  console.error(`unknown scenario ${scenario}; see --help`);
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

const { first, afterReview } = callbacksFor(scenario, job);
const planned = first
  .map(({ label, body }) => ({ label, body: sign(body), order: Math.random() }))
  .sort((a, b) => a.order - b.order);

const readOutcome = async () =>
  fetch(`${baseUrl}/v1/jobs/${encodeURIComponent(job.jobId)}`, {
    headers: { authorization: `Bearer ${config.INTERNAL_API_TOKENS[0]}` },
  });

/** Lets the simulator play Smile ID: it delivers the callbacks, and answers the service's job_status. */
async function throughSimulator(simulatorUrl: string) {
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
  const life = scenario;
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
  console.log('  … waiting for reconciliation to confirm the job with job_status …');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const outcome = (await (await readOutcome()).json()) as { confirmed?: boolean };
    if (outcome.confirmed || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

console.log(`Simulating Smile ID job ${job.jobId} (user ${job.userId}) against ${baseUrl}`);
try {
  if (options.simulator) await throughSimulator(options.simulator);
  else await playCallbacks();
  const outcome = await readOutcome();
  console.log(`\nGET /v1/jobs/${job.jobId} → ${outcome.status}`);
  console.log(JSON.stringify(await outcome.json(), null, 2));
} catch (error) {
  console.error(
    `Could not reach the service at ${baseUrl}: ${(error as Error).message}. Is \`npm start\` running?`,
  );
  process.exitCode = 1;
}

async function playCallbacks() {
  for (const { label, body } of planned) await post(label, body);
  const again = planned[0];
  if (again) await post(`${again.label} (delivered again)`, again.body);
  if (afterReview.length > 0) console.log('  … human review completes …');
  for (const { label, body } of afterReview) await post(label, sign(body));
}
