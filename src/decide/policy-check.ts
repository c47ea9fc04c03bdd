import { BUILT_IN_RULES, type DecisionValue, type PolicyInUse } from '../domain/decision/policy.js';
import { type ReplayedJob, replayDecision } from './replay-decision.js';

/**
 * `npm run policy:check`'s reckoning: a candidate policy replayed over stored jobs (their outcomes, never
 * their identity data), against the decisions they hold, by the replay's own derivation. Pure: the
 * command reads the jobs and prints.
 */

/** What the check reads of a stored job: what the replay reads. */
export type CheckedJob = ReplayedJob;

export interface Transition {
  from: DecisionValue;
  to: DecisionValue;
  jobs: number;
  /** Jobs per rule of the candidate that decided them. */
  byRule: Map<string, number>;
}

export interface PolicyCheckReport {
  jobs: number;
  /** A person's decisions, which a replay never replaces. */
  byOperator: number;
  changed: number;
  /** Keyed `from→to`, in the order first seen. */
  transitions: Map<string, Transition>;
  /** Per rule of the candidate: the jobs it decides, and how many of them differently from now. */
  rules: Map<string, { jobs: number; changed: number }>;
}

export function createPolicyCheck(candidate: PolicyInUse, at: Date = new Date()) {
  const report: PolicyCheckReport = {
    jobs: 0,
    byOperator: 0,
    changed: 0,
    transitions: new Map(),
    rules: new Map(
      [...candidate.policy.rules.map((rule) => rule.id), BUILT_IN_RULES.fallback].map((id) => [
        id,
        { jobs: 0, changed: 0 },
      ]),
    ),
  };

  function add(job: CheckedJob): void {
    report.jobs += 1;
    // The replay reads only the jobs the policy owns (store/jobs/decision-replay.ts).
    if (job.decision.source === 'operator') {
      report.byOperator += 1;
      return;
    }
    const { decision: answer, changed } = replayDecision(job, candidate, at);
    const rule = report.rules.get(answer.rule) ?? { jobs: 0, changed: 0 };
    report.rules.set(answer.rule, rule);
    rule.jobs += 1;
    if (!changed) return;
    rule.changed += 1;
    report.changed += 1;
    const key = `${job.decision.value}→${answer.value}`;
    const transition = report.transitions.get(key) ?? {
      from: job.decision.value,
      to: answer.value,
      jobs: 0,
      byRule: new Map(),
    };
    report.transitions.set(key, transition);
    transition.jobs += 1;
    transition.byRule.set(answer.rule, (transition.byRule.get(answer.rule) ?? 0) + 1);
  }

  return { add, report: () => report };
}

/** The report as the command prints it. */
export function formatReport(
  report: PolicyCheckReport,
  candidate: PolicyInUse,
  file: string,
  current: string,
): string {
  const lines = [
    `${file}: valid, ${candidate.version} (${candidate.policy.rules.length} rules and a fallback)`,
    `Replayed over ${report.jobs} stored jobs (outcomes only), against their decisions now (the service decides under ${current}):`,
    `  ${report.jobs - report.byOperator - report.changed} would keep their decision`,
    `  ${report.changed} would change`,
  ];
  if (report.byOperator > 0)
    lines.push(`  ${report.byOperator} decided by a person, which a replay leaves as they are`);
  if (report.transitions.size > 0) {
    lines.push('', 'Changes, from → to:');
    const transitions = [...report.transitions.values()].sort((a, b) => b.jobs - a.jobs);
    for (const { from, to, jobs, byRule } of transitions) {
      const rules = [...byRule].sort((a, b) => b[1] - a[1]).map(([rule, count]) => `${rule} ${count}`);
      lines.push(
        `  ${`${from} → ${to}`.padEnd(20)} ${String(jobs).padStart(7)}   by rule: ${rules.join(', ')}`,
      );
    }
  }
  lines.push(
    '',
    'By rule of the new policy:',
    `  ${'rule'.padEnd(40)} ${'jobs'.padStart(7)} ${'changed'.padStart(8)}`,
  );
  for (const [rule, { jobs, changed }] of report.rules) {
    lines.push(`  ${rule.padEnd(40)} ${String(jobs).padStart(7)} ${String(changed).padStart(8)}`);
  }
  return `${lines.join('\n')}\n`;
}
