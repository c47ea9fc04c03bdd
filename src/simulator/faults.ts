import { z } from 'zod';

/**
 * Misbehaviour of Smile ID's job_status (and of its upload bucket) on demand, for one job or for every call. A job's own setting
 * wins over the global one; the `…Next` counters are spent from the job's faults first.
 */
export const faultsSchema = z.strictObject({
  /** Added before answering, so clients' timeouts and concurrent polls can be observed. */
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  /** Probability (0–1) that a call fails with 500, 502 or 503. */
  failRate: z.number().min(0).max(1).optional(),
  /** The next n calls fail with 500, 502, 503, 500, … */
  failNext: z.number().int().min(0).optional(),
  /** The next n calls get no answer until the client gives up (or the simulator closes). */
  timeoutNext: z.number().int().min(0).optional(),
  /** Responses carry a well-formed signature made with another key. */
  badSignature: z.boolean().optional(),
  /** `result` is a plain string even once the job has a result: true means "No zip uploaded yet". */
  resultAsString: z.union([z.boolean(), z.string()]).optional(),
  /** Every call is refused with 401 / 2205, as after a key rotation the client has not caught up with. */
  authError: z.boolean().optional(),
  /** A slow bucket: an upload URL takes this long before it answers a zip's PUT (global only). */
  uploadLatencyMs: z.number().int().min(0).max(600_000).optional(),
});
export type Faults = z.infer<typeof faultsSchema>;

const FAILURE_STATUSES = [500, 502, 503] as const;
export type FailureStatus = (typeof FAILURE_STATUSES)[number];

export type FaultAction =
  | { kind: 'none' }
  | { kind: 'hold' }
  | { kind: 'fail'; status: FailureStatus }
  | { kind: 'auth_error' };

export interface FaultDecision {
  latencyMs: number;
  action: FaultAction;
  badSignature: boolean;
  /** The string to put in `result`, if the fault applies. */
  resultAsString: string | undefined;
}

/**
 * Decides how one job_status call misbehaves and spends the counters it uses. `failures` numbers the
 * failures served so far, so consecutive forced failures cycle through the 5xx statuses.
 */
export function decideFault(
  jobFaults: Faults | undefined,
  globalFaults: Faults,
  failures: number,
  random: () => number,
): FaultDecision {
  const pick = <K extends keyof Faults>(key: K): Faults[K] => jobFaults?.[key] ?? globalFaults[key];
  const stringResult = pick('resultAsString');
  return {
    latencyMs: pick('latencyMs') ?? 0,
    action: actionOf(jobFaults, globalFaults, failures, random),
    badSignature: pick('badSignature') ?? false,
    resultAsString:
      typeof stringResult === 'string' ? stringResult : stringResult ? 'No zip uploaded yet' : undefined,
  };
}

function actionOf(
  jobFaults: Faults | undefined,
  globalFaults: Faults,
  failures: number,
  random: () => number,
): FaultAction {
  const failure = { kind: 'fail', status: FAILURE_STATUSES[failures % FAILURE_STATUSES.length]! } as const;
  if (spend(jobFaults, 'timeoutNext') || spend(globalFaults, 'timeoutNext')) return { kind: 'hold' };
  if (spend(jobFaults, 'failNext') || spend(globalFaults, 'failNext')) return failure;
  const failRate = jobFaults?.failRate ?? globalFaults.failRate ?? 0;
  if (failRate > 0 && random() < failRate) return failure;
  if (jobFaults?.authError ?? globalFaults.authError) return { kind: 'auth_error' };
  return { kind: 'none' };
}

/** Takes one from a counter; true when there was one to take. */
function spend(faults: Faults | undefined, key: 'timeoutNext' | 'failNext'): boolean {
  const left = faults?.[key] ?? 0;
  if (!faults || left <= 0) return false;
  faults[key] = left - 1;
  return true;
}
