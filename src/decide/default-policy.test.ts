import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decide } from '../domain/decision/decide.js';
import { decisionFacts } from '../domain/decision/facts.js';
import { DECISION_VALUES, type DecisionValue } from '../domain/decision/policy.js';
import { mergeObservation } from '../domain/merge.js';
import { emptyOutcome, type JobOutcome } from '../domain/outcome.js';
import { RESULT_CODES } from '../domain/result-codes.js';
import { idInfoCallback, resultCallback, simulatedJob, smileSecureCallback } from '../simulator/callbacks.js';
import {
  JOB_LIVES,
  type JobLife,
  jobStatusAt,
  LIFE_DECISIONS,
  lifeCallbacks,
} from '../simulator/job-lives.js';
import { classifyBody } from '../smileid/classify.js';
import { loadPolicyFile } from './policy-file.js';

/**
 * The default policy (policies/default.yaml) against every result code the service knows and every life
 * the simulator plays, as docs/smile-id.md#acting-on-a-result and docs/api.md#the-default-policy say it
 * decides them: one table, one test.
 */

const POLICY = loadPolicyFile();
const T0 = Date.UTC(2026, 0, 1);
const REVIEW_DELAY_MS = 60_000;
const job = simulatedJob({ jobId: 'job-default-policy' });

/** The job as POST /v1/jobs registered it: job_status answers are about this user. */
const registered: JobOutcome = {
  ...emptyOutcome(job.jobId),
  userId: job.userId,
  jobType: 1,
  identity: 'registration',
  tracked: true,
};

/** A body folded into the outcome as intake or the reconciler would: classified, hashed, trusted. */
function fold(
  outcome: JobOutcome | undefined,
  body: Record<string, unknown>,
  authority: 'callback' | 'job_status',
  at: number,
) {
  const signed = { ...body, timestamp: new Date(at).toISOString(), signature: 'checked elsewhere' };
  const classified = classifyBody(signed);
  return mergeObservation(outcome ?? registered, {
    jobId: job.jobId,
    userId: classified.userId ?? job.userId,
    jobType: classified.jobType,
    smileJobIds: classified.smileJobIds,
    facets: classified.facets,
    authority,
    at,
    hash: createHash('sha256').update(authority).update(JSON.stringify(signed)).digest('hex'),
    receivedAt: new Date(at + 500),
    trusted: true,
    returnsJob: true,
  });
}

/** A simulator life: its callbacks as they arrive, then job_status asked `elapsedMs` after it started. */
function life(name: JobLife, elapsedMs = REVIEW_DELAY_MS + 1): JobOutcome | undefined {
  let outcome: JobOutcome | undefined;
  for (const callback of lifeCallbacks(name, job, { reviewDelayMs: REVIEW_DELAY_MS })) {
    if (callback.atMs <= elapsedMs) outcome = fold(outcome, callback.body, 'callback', T0 + callback.atMs);
  }
  const answer = jobStatusAt(name, job, elapsedMs, { reviewDelayMs: REVIEW_DELAY_MS });
  return fold(outcome, { ...answer }, 'job_status', T0 + elapsedMs + 1_000);
}

/** Smile ID's Job Status answer for a complete job with this result code and its category's success. */
function completedWith(code: string, extra: Record<string, unknown> = {}) {
  const known = RESULT_CODES[code];
  const body = {
    ...resultCallback(job, 'approved'),
    ResultCode: code,
    ResultText: known?.text ?? 'Unknown',
    Actions: {},
  };
  return fold(
    undefined,
    {
      job_complete: true,
      job_success: known === undefined || ['approved', 'fraud_signal'].includes(known.category),
      code: '2302',
      result: body,
      history: [],
      ...extra,
    },
    'job_status',
    T0,
  );
}

interface Row {
  case: string;
  outcome: () => JobOutcome | undefined;
  stale?: boolean;
  decision: DecisionValue;
  rule: string;
}

const code = (value: string, decision: DecisionValue, rule: string): Row => ({
  case: `result code ${value}`,
  outcome: () => completedWith(value),
  decision,
  rule,
});

const scenario = (name: JobLife, decision: DecisionValue, rule: string, elapsedMs?: number): Row => ({
  case: elapsedMs === undefined ? `simulator life ${name}` : `simulator life ${name}, ${elapsedMs} ms in`,
  outcome: () => life(name, elapsedMs),
  decision,
  rule,
});

const TABLE: Row[] = [
  code('0001', 'reject', 'rejected'),
  code('0810', 'approve', 'approved'),
  code('0814', 'review', 'provisional_final'),
  code('0840', 'approve', 'approved'),
  code('0903', 'reject', 'rejected'),
  code('0907', 'reject', 'rejected'),
  code('1012', 'approve', 'approved'),
  code('1013', 'reject', 'rejected'),
  code('1014', 'review', 'processing_failed'),
  code('1015', 'retry', 'id_authority_unavailable'),
  code('1016', 'review', 'processing_failed'),
  code('1020', 'approve', 'approved'),
  code('1021', 'approve', 'approved'),
  code('1022', 'reject', 'rejected'),
  code('1023', 'reject', 'rejected'),
  code('1030', 'reject', 'rejected'),
  code('1210', 'approve', 'approved'),
  code('1220', 'approve', 'approved'),
  // A Smile Secure code is a fraud signal, never an outcome: as a result's code it is one no one knows.
  code('5210', 'review', 'unknown_result_code'),
  code('5211', 'review', 'unknown_result_code'),
  code('5212', 'review', 'unknown_result_code'),
  code('0899', 'review', 'unknown_result_code'),
  code('2201', 'retry', 'smile_id_system_error'),
  scenario('approved', 'approve', 'approved'),
  scenario('review', 'pending', 'smile_id_review_in_progress', 0),
  scenario('review', 'approve', 'approved'),
  scenario('rejected', 'reject', 'rejected'),
  scenario('id_not_found', 'reject', 'rejected'),
  scenario('suspects', 'review', 'smile_secure_suspects'),
  scenario('pure_provisional', 'pending', 'smile_id_review_in_progress', 0),
  scenario('pure_provisional', 'approve', 'approved'),
  scenario('pending_approval', 'pending', 'pending_approval'),
  scenario('failed', 'retry', 'id_authority_unavailable'),
  scenario('never_started', 'pending', 'no_result'),
  {
    case: 'approved, the ID number registered before by another user',
    outcome: () =>
      completedWith('1210', {
        history: [idInfoCallback(job, { photoBytes: 16, previousRegistrants: ['user-other'] })],
      }),
    decision: 'review',
    rule: 'previously_registered_by_others',
  },
  {
    case: 'approved, the ID number registered before by the same user',
    outcome: () =>
      completedWith('1210', {
        history: [idInfoCallback(job, { photoBytes: 16, previousRegistrants: [job.userId] })],
      }),
    decision: 'approve',
    rule: 'approved',
  },
  {
    // Smile Secure may only ever come by callback: a claim of suspects sends the job to a person all the same.
    case: 'approved, Smile Secure suspects only a callback names',
    outcome: () =>
      fold(
        completedWith('1210'),
        smileSecureCallback(job, [{ user_id: 'user-suspect', reason: 'same face' }]),
        'callback',
        T0 + 1_000,
      ),
    decision: 'review',
    rule: 'smile_secure_suspects',
  },
  {
    case: 'still in Smile ID’s review at the horizon',
    outcome: () => life('review', 0),
    stale: true,
    decision: 'review',
    rule: 'stale_at_horizon',
  },
  {
    case: 'a final approval only a callback claims',
    outcome: () => fold(undefined, resultCallback(job, 'approved'), 'callback', T0),
    decision: 'pending',
    rule: 'awaiting_confirmation',
  },
];

describe('the default decision policy', () => {
  it('decides every known result code and every simulator life as documented', () => {
    const decided = TABLE.map((row) => {
      const outcome = row.outcome();
      if (!outcome) throw new Error(`${row.case}: no outcome`);
      const answer = decide(
        POLICY.policy,
        decisionFacts(outcome, { idType: 'NIN', country: 'NG', stale: row.stale ?? false }),
      );
      return { case: row.case, decision: answer.value, rule: answer.rule };
    });
    expect(decided).toEqual(TABLE.map((row) => ({ case: row.case, decision: row.decision, rule: row.rule })));
    const codes = TABLE.filter((row) => row.case.startsWith('result code ')).map((row) => row.case.slice(12));
    expect(codes).toEqual(expect.arrayContaining(Object.keys(RESULT_CODES)));
    const lives = TABLE.filter((row) => row.case.startsWith('simulator life ')).map((row) =>
      row.case.split(' ')[2]!.replace(',', ''),
    );
    expect(new Set(lives)).toEqual(new Set(JOB_LIVES));
    // What the simulator says each life ends in is what this table says, and every decision is reached.
    const ends = TABLE.filter(
      (row) => row.case.startsWith('simulator life ') && !row.case.includes(' ms in'),
    );
    expect(
      Object.fromEntries(
        ends.map((row) => [row.case.split(' ')[2], { value: row.decision, rule: row.rule }]),
      ),
    ).toEqual(LIFE_DECISIONS);
    expect(new Set(Object.values(LIFE_DECISIONS).map((end) => end.value))).toEqual(new Set(DECISION_VALUES));
  });
});
