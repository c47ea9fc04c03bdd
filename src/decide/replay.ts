import type { FastifyBaseLogger } from 'fastify';
import type { PolicyInUse } from '../domain/decision/policy.js';
import { type Metrics, recordDecision } from '../observability/metrics.js';
import type { DecisionReplayStore, ReplayedDecision } from '../store/jobs/decision-replay.js';
import { replayDecision } from './replay-decision.js';

/** Jobs decided again per statement. */
export const REPLAY_BATCH_SIZE = 500;
/**
 * How long one run may keep deciding: runs share the maintenance queue with every sweep, so a long replay
 * goes in slices and the webhooks' sweep is never held back for more than this.
 */
export const REPLAY_RUN_BUDGET_MS = 1000;

export interface ReplayRun {
  /** False when another policy version started later: this process leaves the replay to it. */
  current: boolean;
  examined: number;
  /** Decisions whose answer changed: each is a change in the feed (and a `job.decided` when it is one). */
  changed: number;
  /** Jobs written; the others changed since they were read, and are decided again by a later batch. */
  written: number;
}

/**
 * The replay of the policy in force over the jobs it has not decided: those the policy decided under
 * another version, and those decided before any was in force. Each job is decided again from its stored
 * outcome (never its identity data) and written with a compare-and-swap, in batches, a time-boxed slice
 * per run. A person's decision is left alone. Only the version a process started with last replays, so a
 * rolling deployment does not see two versions undo each other's work.
 */
export function createDecisionReplay({
  store,
  policy,
  startedAt,
  now = () => new Date(),
  batchSize = REPLAY_BATCH_SIZE,
  runBudgetMs = REPLAY_RUN_BUDGET_MS,
  metrics,
}: {
  store: DecisionReplayStore;
  policy: PolicyInUse;
  /** When this process started with `policy`. */
  startedAt: Date;
  now?: () => Date;
  batchSize?: number;
  runBudgetMs?: number;
  /** Counts the decisions the replay changes, as smileid_decisions_total counts every writer's. */
  metrics?: Metrics | undefined;
}) {
  let announced = false;

  async function batch(): Promise<Omit<ReplayRun, 'current'>> {
    const jobs = await store.underAnotherVersion(policy.version, batchSize);
    const at = now();
    const decisions: ReplayedDecision[] = jobs.map((job) => ({
      jobId: job.outcome.jobId,
      version: job.version,
      ...replayDecision(job, policy, at),
    }));
    const written = new Set(await store.write(decisions, at));
    // Counted as every writer counts its decisions, once written: each change is a job.decided webhook.
    for (const [index, job] of jobs.entries()) {
      const after = decisions[index]!.decision;
      if (written.has(job.outcome.jobId)) recordDecision(metrics, { before: job.decision, after });
    }
    return {
      examined: jobs.length,
      changed: decisions.filter((decision) => decision.changed).length,
      written: written.size,
    };
  }

  /** One slice of the replay: batches until nothing is left or the run's budget is spent. */
  async function run(log: FastifyBaseLogger): Promise<ReplayRun> {
    if (!announced) {
      await store.announce(policy, startedAt);
      announced = true;
    }
    const total: ReplayRun = { current: true, examined: 0, changed: 0, written: 0 };
    if ((await store.latestVersion()) !== policy.version) return { ...total, current: false };
    const deadline = performance.now() + runBudgetMs;
    for (;;) {
      const done = await batch();
      total.examined += done.examined;
      total.changed += done.changed;
      total.written += done.written;
      if (done.examined < batchSize || performance.now() >= deadline) break;
    }
    if (total.examined > 0) {
      log.info({ policyVersion: policy.version, ...total }, 'decisions replayed under the policy in force');
    }
    return total;
  }

  return { run };
}

export type DecisionReplay = ReturnType<typeof createDecisionReplay>;
