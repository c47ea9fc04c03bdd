import { type SimulatedJob, simulatedJob } from '../../src/simulator/callbacks.js';
import { type JobLife, lifeCallbacks } from '../../src/simulator/job-lives.js';
import { seededRandom } from '../../src/simulator/seeded-random.js';

/**
 * The traffic of bench:convergence, decided up front from a seed: which life each job lives, when it
 * starts, which of its callbacks Smile ID loses or sends twice, and when forged results arrive for it.
 */

/** The share of each life; human review on a fifth of the jobs. `never_started` never converges. */
const LIFE_SHARES: readonly [BenchLife, number][] = [
  ['review', 0.2],
  ['approved', 0.45],
  ['rejected', 0.15],
  ['id_not_found', 0.1],
  ['suspects', 0.1],
];

export type BenchLife = Extract<JobLife, 'review' | 'approved' | 'rejected' | 'id_not_found' | 'suspects'>;

/** Smile ID's final state per life: job_status's `job_success` once the job is complete. */
const TRUTH: Record<BenchLife, FinalState> = {
  approved: 'approved',
  review: 'approved',
  suspects: 'approved',
  rejected: 'rejected',
  id_not_found: 'rejected',
};

export const TRAFFIC = {
  lossRate: 0.3,
  duplicateRate: 0.2,
  /** Every sending is delayed by up to this, so a job's callbacks arrive in any order. */
  spreadMs: 5000,
  /** From registration to the job's first result: the user's capture and Smile ID's processing. */
  startMs: [1000, 5000],
  /** Human review, compressed from minutes and hours to 10–40 s (the poll model is compressed alike). */
  reviewMs: [10_000, 40_000],
  forgedShare: 0.04,
  forgeriesPerJob: 2,
} as const;

export type FinalState = 'approved' | 'rejected';

export interface Forgery {
  /** After the job's registration in the simulator. */
  atMs: number;
  claim: FinalState;
}

export interface PlannedJob {
  job: SimulatedJob;
  life: BenchLife;
  truth: FinalState;
  /** After the bench's start. */
  arriveAtMs: number;
  startDelayMs: number;
  reviewDelayMs: number | undefined;
  /** How many of the job's callbacks are lost, and how many of the others are sent twice. */
  drop: number;
  duplicate: number;
  forgeries: Forgery[];
}

export function planJobs(total: number, jobsPerSecond: number, seed: number): PlannedJob[] {
  const random = seededRandom(seed);
  const between = ([low, high]: readonly [number, number]) => Math.round(low + random() * (high - low));
  return Array.from({ length: total }, (_, index) => {
    const job = simulatedJob({ jobId: `convergence-${String(index).padStart(6, '0')}` });
    const life = pickLife(random());
    const startDelayMs = between(TRAFFIC.startMs);
    const reviewDelayMs = life === 'review' ? between(TRAFFIC.reviewMs) : undefined;
    const callbacks = lifeCallbacks(life, job, { startDelayMs, reviewDelayMs });
    const drop = successes(callbacks.length, TRAFFIC.lossRate, random);
    const duplicate = successes(callbacks.length - drop, TRAFFIC.duplicateRate, random);
    // Smile ID's final result comes with the life's last callback.
    const finalMs = Math.max(...callbacks.map((callback) => callback.atMs));
    const forged = random() < TRAFFIC.forgedShare;
    const forgeries = forged
      ? Array.from({ length: TRAFFIC.forgeriesPerJob }, () => {
          const atMs = Math.round(random() * (finalMs + TRAFFIC.spreadMs));
          return { atMs, claim: forgedClaim(TRUTH[life], atMs < finalMs) };
        })
      : [];
    return {
      job,
      life,
      truth: TRUTH[life],
      arriveAtMs: Math.round((index * 1000) / jobsPerSecond),
      startDelayMs,
      reviewDelayMs,
      drop,
      duplicate,
      forgeries,
    };
  });
}

/** A final approval before Smile ID has decided (or of a rejected job), else the opposite of the truth. */
function forgedClaim(truth: FinalState, beforeFinal: boolean): FinalState {
  return truth === 'rejected' || beforeFinal ? 'approved' : 'rejected';
}

/** How many of `trials` independent draws fall under `rate`: each callback is lost (or doubled) on its own. */
function successes(trials: number, rate: number, random: () => number): number {
  return Array.from({ length: trials }, random).filter((draw) => draw < rate).length;
}

function pickLife(draw: number): BenchLife {
  let left = draw;
  for (const [life, share] of LIFE_SHARES) {
    if (left < share) return life;
    left -= share;
  }
  return LIFE_SHARES[0]![0];
}
