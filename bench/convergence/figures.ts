import { quantile } from '../shared/quantile.js';
import type { FinalState, PlannedJob } from './plan.js';
import type { Shown, ShownHistory } from './views.js';

/**
 * Judges what the service showed against Smile ID's truth, which changes with time: until `finalAt`
 * Smile ID has no final result, so any final state shown is wrong; from then on, only its final state
 * is right. Pending and provisional are "not yet", never wrong.
 */

const FINAL_STATES = new Set(['approved', 'rejected', 'failed']);

export interface JobVerdict {
  planned: PlannedJob;
  /** Smile ID's final result converged to, shown final and confirmed, at the end. */
  converged: boolean;
  /** From Smile ID's final result to the first time it was shown with `confirmed: true`. */
  confirmMs: number | undefined;
  /** A wrong state was shown with `confirmed: true`. */
  wrongConfirmed: boolean;
  /** The longest stretch a wrong state was shown with `isFinal: true`. */
  longestWrongFinalMs: number;
  wrongFinalAtEnd: boolean;
  calls: number;
}

export function judgeJobs(
  plan: readonly PlannedJob[],
  finalAt: ReadonlyMap<string, number>,
  history: ShownHistory,
  callsPerJob: Readonly<Record<string, number>>,
  endedAt: number,
): JobVerdict[] {
  return plan.map((planned) => {
    const { jobId } = planned.job;
    const due = finalAt.get(jobId) ?? Number.POSITIVE_INFINITY;
    const entries = history.entries(jobId);
    const right = (shown: Shown) => shown.state === planned.truth && shown.since >= due;
    const settled = (shown: Shown) => shown.isFinal && shown.confirmed && right(shown);
    const firstConfirmed = entries.find(settled);
    const last = entries.at(-1);
    const spans = wrongFinalSpans(entries, planned.truth, due, endedAt);
    return {
      planned,
      converged: last !== undefined && settled(last),
      confirmMs: firstConfirmed && Math.max(0, firstConfirmed.since - due),
      wrongConfirmed: entries.some(
        (shown) => shown.confirmed && (shown.isFinal || FINAL_STATES.has(shown.state)) && !right(shown),
      ),
      longestWrongFinalMs: spans.longestMs,
      wrongFinalAtEnd: spans.atEnd,
      calls: callsPerJob[jobId] ?? 0,
    };
  });
}

/** Stretches of `isFinal: true` with a state other than the truth of the moment; each lasts until the next change. */
function wrongFinalSpans(entries: readonly Shown[], truth: FinalState, finalAt: number, endedAt: number) {
  let longestMs = 0;
  let span: { from: number; to: number } | undefined;
  entries.forEach((shown, index) => {
    const next = entries[index + 1]?.since ?? endedAt;
    // The truth's own state, shown final too early, stops being wrong when Smile ID decides.
    const until = shown.state === truth ? Math.min(next, finalAt) : next;
    if (!shown.isFinal || shown.since >= until) {
      span = undefined;
      return;
    }
    span = span && span.to >= shown.since ? { from: span.from, to: until } : { from: shown.since, to: until };
    longestMs = Math.max(longestMs, span.to - span.from);
  });
  return { longestMs, atEnd: span !== undefined && span.to === endedAt };
}

export interface GroupFigures {
  label: string;
  jobs: number;
  converged: number;
  confirmP50Ms: number | undefined;
  confirmP99Ms: number | undefined;
  callsPerJob: number;
  callsP99: number | undefined;
  wrongFinal: number;
}

export function groupFigures(label: string, verdicts: readonly JobVerdict[]): GroupFigures {
  const confirmMs = verdicts.flatMap((verdict) =>
    verdict.confirmMs === undefined ? [] : [verdict.confirmMs],
  );
  const calls = verdicts.map((verdict) => verdict.calls);
  return {
    label,
    jobs: verdicts.length,
    converged: verdicts.filter((verdict) => verdict.converged).length,
    confirmP50Ms: quantile(confirmMs, 0.5),
    confirmP99Ms: quantile(confirmMs, 0.99),
    callsPerJob: calls.reduce((sum, each) => sum + each, 0) / Math.max(1, calls.length),
    callsP99: quantile(calls, 0.99),
    wrongFinal: verdicts.filter((verdict) => verdict.longestWrongFinalMs > 0).length,
  };
}
