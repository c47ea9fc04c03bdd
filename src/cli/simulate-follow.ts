/** How `npm run simulate` reaches the service's API: its address and a bearer token. */
export interface ServiceApi {
  baseUrl: string;
  token: string;
}

/** What the command reads of a job (docs/api.md#the-job-outcome). */
export interface FollowedJob {
  state?: string;
  isFinal?: boolean;
  confirmed?: boolean;
  decision?: { value: string; reasons: string[]; rule: string; policyVersion: string | null };
  submission?: {
    status: string;
    attempts: number;
    smileJobId: string | null;
    error: { code: string; message: string } | null;
  } | null;
}

export const readJob = (api: ServiceApi, jobId: string) =>
  fetch(`${api.baseUrl}/v1/jobs/${encodeURIComponent(jobId)}`, {
    headers: { authorization: `Bearer ${api.token}` },
  });

/**
 * Reads the job every `intervalMs` until `done` holds of it, printing a line whenever its state,
 * confirmation, submission or decision changes. Not reached when `timeoutMs` runs out first, or the submission
 * failed; `job` is the last read.
 */
export async function followJob(
  api: ServiceApi,
  jobId: string,
  {
    done,
    timeoutMs = 60_000,
    intervalMs = 500,
  }: {
    done: (job: FollowedJob) => boolean;
    timeoutMs?: number;
    intervalMs?: number;
  },
): Promise<{ reached: boolean; job: FollowedJob | undefined }> {
  const started = Date.now();
  let shown = '';
  for (;;) {
    const response = await readJob(api, jobId);
    const job = response.ok ? ((await response.json()) as FollowedJob) : undefined;
    const line = job ? describeJob(job) : `GET /v1/jobs/${jobId} → ${response.status}`;
    if (line !== shown) {
      console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${line}`);
      shown = line;
    }
    if (job && done(job)) return { reached: true, job };
    if (job?.submission?.status === 'failed' || Date.now() - started > timeoutMs) {
      return { reached: false, job };
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function describeJob({ state, isFinal, confirmed, submission, decision }: FollowedJob): string {
  const outcome = `${state}${isFinal ? ' (final)' : ''}, ${confirmed ? 'confirmed' : 'not confirmed'}`;
  const decided = decision ? `; decision ${decision.value} (${decision.rule})` : '';
  if (!submission) return `${outcome}${decided}`;
  const details = [
    `attempt ${submission.attempts}`,
    ...(submission.smileJobId ? [`Smile ID job ${submission.smileJobId}`] : []),
    ...(submission.error ? [`${submission.error.code}: ${submission.error.message}`] : []),
  ];
  return `${outcome}; submission ${submission.status} (${details.join(', ')})${decided}`;
}

/** The job's decision in one line, beside the one the default policy gives the scenario once it ends. */
export function describeDecision(
  job: FollowedJob | undefined,
  expected: { scenario: string; value: string; rule: string } | undefined,
): string {
  const { decision } = job ?? {};
  if (!decision) return 'Decision: none shown';
  const line = `Decision: ${decision.value} (reasons: ${decision.reasons.join(', ')}), by rule ${decision.rule} of ${decision.policyVersion ?? 'no policy yet'}`;
  if (!expected) return line;
  return `${line}
  the default policy decides the ${expected.scenario} scenario, once ended and confirmed: ${expected.value} (${expected.rule})`;
}
