import { sameAnswer } from '../domain/decision/decide.js';
import { type JobDecision, redecide } from '../domain/decision/job-decision.js';
import type { PolicyInUse } from '../domain/decision/policy.js';
import type { JobOutcome } from '../domain/outcome.js';

/** What a replay reads of a stored job: its outcome (never its identity data), our registration's facts, its decision. */
export interface ReplayedJob {
  outcome: JobOutcome;
  idType: string | null;
  country: string | null;
  staleAt: Date | null;
  decision: JobDecision;
}

/** A stored job's decision under a policy, and whether its answer changed. */
export interface ReplayedAnswer {
  decision: JobDecision;
  changed: boolean;
}

/**
 * A stored job's decision under `policy`, as the background replay writes it and `npm run policy:check`
 * counts it, so that what the check says would change is what the replay changes: derived afresh by
 * `redecide`, which keeps an answer decided alike, and a review reopened after a person's decision.
 */
export function replayDecision(job: ReplayedJob, policy: PolicyInUse, at: Date): ReplayedAnswer {
  const context = { idType: job.idType, country: job.country, stale: job.staleAt !== null };
  const decision = redecide(job.outcome, { ...context, decision: job.decision }, policy, at);
  return { decision, changed: !sameAnswer(job.decision, decision) };
}
